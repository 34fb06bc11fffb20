"""Command line: ``python -m soundpred predict [--json] FILE...``.

Models load once for all files. With ``--json`` each input gives one line, in
input order::

    {"file": ..., "known": true|false|null, "audioset": [{"label": ..., "score": ...} x3],
     "top": [{"label": ..., "score": ...} x5], "distance_m": ..., "distance_interval_m": ..., "models": {...}, ...}
    {"file": ..., "error": "<message>"}            # unreadable, silent or too long input

The exit status is 1 if any file failed, 2 for bad usage or models that cannot load.
"""
from __future__ import annotations

import argparse
import json
import sys

from .audio import AudioError
from .bundle import BundleError
from .labels import display_name
from .predict import Predictor
from .rooms import ROOM_KINDS
from .settings import Settings


def _predict(args, settings: Settings) -> int:
    try:
        predictor = Predictor.from_specs(args.classifier or settings.classifier,
                                         args.distance or settings.distance, top_k=args.top_k,
                                         max_seconds=args.max_seconds or None)
    except BundleError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for w in predictor.warnings:
        print(f"warning: {w}", file=sys.stderr)
    failed = 0
    for f in args.files:
        try:
            pred = predictor.predict(f, spectrogram=False, room=args.room)
        except AudioError as e:
            failed += 1
            result = {"file": f, "error": str(e)}
        except Exception as e:  # keep going: one bad file must not stop the batch
            failed += 1
            result = {"file": f, "error": f"unexpected {type(e).__name__}: {e}"}
        else:
            result = {"file": f, **pred.to_json()}
        if args.json:
            print(json.dumps(result, allow_nan=False), flush=True)  # strict JSON
        elif "error" in result:
            print(f"{f}: error: {result['error']}", flush=True)
        else:
            tops = ", ".join(f"{display_name(t['label'])} {t['score']:.2f}" for t in result["top"])
            if result["known"] is False:
                like = result["audioset"][0]["label"] if result["audioset"] else "something else"
                tops = f"none of the labels fits well (sounds like: {like}); closest: {tops}"
            if result["distance_m"] is not None:
                lo, hi = result["distance_interval_m"]
                tops += f"; distance {result['distance_m']:.1f} m (90 % interval {lo:.1f}-{hi:.1f} m)"
            extra = "".join(f"\n  warning: {w}" for w in result["warnings"])
            print(f"{f}: {tops}{extra}", flush=True)
    return 1 if failed else 0


def main(argv=None, settings: Settings | None = None) -> int:
    """The CLI; ``settings`` default to :meth:`Settings.from_env` (read once, here)."""
    if settings is None:
        try:
            settings = Settings.from_env()
        except ValueError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
    p = argparse.ArgumentParser(prog="soundpred", description="What made a sound, and how far away.")
    sub = p.add_subparsers(dest="command", required=True)
    pp = sub.add_parser("predict", help="top-5 labels (and distance) for audio files")
    pp.add_argument("files", nargs="+", metavar="FILE")
    pp.add_argument("--json", action="store_true", help="one JSON object per file and line")
    pp.add_argument("--top-k", type=int, default=5)
    pp.add_argument("--room", choices=ROOM_KINDS, default="auto",
                    help="the kind of room, for a distance model that takes it: small (< 50 m³: booth, "
                         "bathroom, car), medium (office, living room, classroom), large (> 1000 m³: hall, church)")
    pp.add_argument("--max-seconds", type=float, default=settings.max_seconds,
                    help="refuse longer inputs, from the header where it tells (default: "
                         "$SOUNDPRED_MAX_SECONDS, else 600; 0: no limit)")
    pp.add_argument("--classifier", default=None,
                    help="bundle folder or Hub repo owner/name[@revision] (default: $SOUNDPRED_CLASSIFIER, "
                         "else the embedded model)")
    pp.add_argument("--distance", default=None,
                    help="distance bundle folder or Hub repo (default: $SOUNDPRED_DISTANCE, else the embedded model)")
    args = p.parse_args(argv)
    return _predict(args, settings)


if __name__ == "__main__":
    sys.exit(main())
