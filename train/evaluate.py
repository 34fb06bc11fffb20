"""Score classifier bundles side by side on the starter test split and on held-out more-real.

    python -m train.evaluate                                  # embedded default + YAMNet zero-shot
    git archive 55d20ab models/classifier | tar -x -C /tmp/prev   # the previous (CNN) default
    python -m train.evaluate models/classifier /tmp/prev/models/classifier --json results.json
    python -m train.evaluate --no-zero-shot --precision float16 int8   # what smaller weights cost

Sets: starter ``audio_test`` (the FSDKaggle2018 test split of ``--data``) and the more-real
recording groups that ``train.classifier`` holds out (``train.data.group_split``; never split
at random). Every model chooses among its own labels (the 41 for YAMNet-based ones) with the
same sliding-window inference as the app. ``--precision`` adds, per bundle, a copy with its
weights rounded to float16 (what storing them as float16 would give) and/or Keras' int8
quantization (``model.quantize("int8")``: the Dense heads; Keras 3 leaves the convolutions float). "YAMNet zero-shot" is the imported AudioSet model
with the 41-label head set to the AudioSet rows of the mapped labels, untrained. Prints a
Markdown table (top-1, MAP@3); ``--json`` writes every number, per-label recall included.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import keras
import numpy as np

from soundpred.bundle import Bundle, load_bundle
from soundpred.data import read_fsdkaggle2018
from soundpred.hub import EMBEDDED as _EMBEDDED
from soundpred.labels import FSD_LABELS
from soundpred.metrics import summarize
from soundpred.paths import MORE_REAL, STARTER
from soundpred.predict import Predictor
from soundpred.yamnet import YAMNET_FRONTEND, build_yamnet, init_label_head, read_class_map
from train.data import group_split, load_waveforms, session_groups
from train.import_yamnet import DEFAULT_CLASS_MAP, DEFAULT_TFLITE, load_weights, tflite_weights

EMBEDDED = _EMBEDDED["classification"]


def zero_shot_bundle() -> Bundle:
    """YAMNet as imported, its label head = the AudioSet rows of the 40 mapped labels."""

    names = read_class_map(DEFAULT_CLASS_MAP)
    model = build_yamnet(len(FSD_LABELS), name="yamnet_zero_shot")
    load_weights(model, tflite_weights(DEFAULT_TFLITE))
    init_label_head(model, list(FSD_LABELS), names)
    return Bundle(model, YAMNET_FRONTEND, "classification", list(FSD_LABELS),
                  {"name": "YAMNet zero-shot (AudioSet rows)", "audioset_labels": names}, "imported")


def copy_bundle(bundle: Bundle, name: str, **meta) -> Bundle:
    """A copy of ``bundle`` with a model of its own (same weights), to change without touching
    the original; ``name`` and ``meta`` go into the copy's metadata."""
    model = keras.models.clone_model(bundle.model)
    model.set_weights(bundle.model.get_weights())
    return Bundle(model, bundle.frontend, bundle.task, bundle.labels, dict(bundle.meta, name=name, **meta),
                  bundle.source)


def precision_variant(bundle: Bundle, kind: str) -> Bundle:
    """A copy of ``bundle`` with float16-rounded weights (``"float16"``) or Keras int8
    quantization (``"int8"``); its name says which, its meta records the weight bytes."""
    if kind not in ("float16", "int8"):
        raise ValueError(kind)
    copy = copy_bundle(bundle, f"{bundle.name} ({kind})")
    model = copy.model
    if kind == "float16":
        model.set_weights([w.astype(np.float16).astype(w.dtype) for w in model.get_weights()])
        nbytes = sum(w.size * 2 for w in model.get_weights())
    else:
        model.quantize("int8")
        nbytes = sum(np.asarray(v).nbytes for v in model.weights)
    copy.meta["weight_bytes"] = int(nbytes)
    return copy


def eval_sets(data: Path, more_real: Path | None) -> dict:
    sets = {"starter audio_test": read_fsdkaggle2018(data, "test")}
    if more_real is not None and more_real.is_dir():
        _, held = group_split(read_fsdkaggle2018(more_real, "train"), session_groups(more_real), 0.25)
        sets["more-real held out"] = held
    return sets


def score(bundle: Bundle, clips) -> dict:
    index = {lab: i for i, lab in enumerate(bundle.labels)}
    # every clip counts: a label the model does not have is a miss, not left out
    clips, waves = load_waveforms(clips, bundle.frontend.sample_rate, desc="decoding")
    predictor = Predictor(bundle)
    scores = np.stack([predictor.clip_scores(w) for w in waves])
    known = np.array([c.label in index for c in clips])
    y = np.array([index.get(c.label, -1) for c in clips])
    s = summarize(scores[known], y[known], bundle.labels)
    n = len(clips)
    s["top1"] = round(s["top1"] * known.sum() / n, 4)  # over all clips
    s["map3"] = round(s["map3"] * known.sum() / n, 4)
    s["n_clips"], s["n_label_unknown_to_model"] = n, int((~known).sum())
    return s


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("bundles", nargs="*", type=Path, help=f"bundle folders (default: {EMBEDDED})")
    ap.add_argument("--data", type=Path, default=STARTER)
    ap.add_argument("--more-real", type=Path, default=MORE_REAL)
    ap.add_argument("--no-zero-shot", action="store_true")
    ap.add_argument("--json", type=Path, help="write all results here")
    ap.add_argument("--precision", nargs="+", choices=("float16", "int8"), default=(),
                    help="also score each bundle with float16-rounded weights / Keras int8")
    args = ap.parse_args(argv)

    bundles = [load_bundle(b) for b in (args.bundles or [EMBEDDED])]
    bundles = [v for b in bundles for v in [b, *(precision_variant(b, k) for k in args.precision)]]
    if not args.no_zero_shot:
        bundles.append(zero_shot_bundle())
    sets = eval_sets(args.data, args.more_real)
    results = []
    for b in bundles:
        row = {"name": b.name, "source": b.source, "labels": len(b.labels), "weight_mb": b.meta.get("weight_bytes", sum(np.asarray(v).nbytes for v in b.model.weights)) / 1e6}
        for set_name, clips in sets.items():
            print(f"scoring {b.name} on {set_name}...", file=sys.stderr)
            row[set_name] = score(b, clips)
        results.append(row)
    head = " | ".join(f"{s} top-1 | {s} MAP@3" for s in sets)
    print(f"\n| model | labels | weights MB | {head} |\n|---|---|---|" + "---|---|" * len(sets))
    for r in results:
        cells = " | ".join(f"{r[s]['top1']:.3f} | {r[s]['map3']:.3f}" for s in sets)
        print(f"| {r['name']} | {r['labels']} | {r['weight_mb']:.1f} | {cells} |")
    print("\n" + ", ".join(f"{s}: {len(c)} clips" for s, c in sets.items()))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return results


if __name__ == "__main__":
    main()
