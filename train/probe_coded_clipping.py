"""Probe: does a lossy file tell that it was clipped before it was coded?

    python -m train.probe_coded_clipping                       # the FSD starter clips, MP3 at 128 kbit/s
    python -m train.probe_coded_clipping --codec aac-64 --limit 200

A coder smears a clipped recording's flat runs: nothing is left at full scale for the decoder to
count (:data:`soundpred.audio.CLIPPED_SHARE`) or to rebuild (:func:`soundpred.audio.declip`),
and the app said nothing of the clipping (docs/reliability.md, session 60). What the coder leaves
instead is overshoot where the flat runs were: decoded samples past full scale. This probe takes
real recordings (the FSD starter clips, FLAC), counts each one's share of samples at full scale
as the app's decoder does, codes it with ffmpeg (``train.codecs.VARIANTS``: ``mp3-128``,
``aac-64``, ``opus-32``, ...) and reads it back with the app's decoder: per band of that share, how
many of the coded files pass full scale (:func:`soundpred.predict.clipped_before_coding`, the
app's cue for its warning), and the peaks of the unclipped ones that do.
"""
from __future__ import annotations

import argparse
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from soundpred import audio
from soundpred.paths import STARTER
from soundpred.predict import clipped_before_coding
from train.codecs import VARIANTS

#: bands of the share of samples at full scale in the original (FLAC): band k holds shares in
#: (EDGES[k-1], EDGES[k]], the first none at all, the last those over 7 %
BANDS = ("none flat", "flat, up to 0.1 %", "0.1-1 % flat", "1-7 % flat", "over 7 % flat")
EDGES = (0.0, audio.CLIPPED_SHARE, 0.01, 0.07)


def one(path: Path, codec: str, folder: str) -> tuple[float, bool, float]:
    """``path``'s share of samples at full scale, whether its coding passes full scale, its peak."""
    original = audio.read(str(path), sr=None)
    suffix, options = VARIANTS[codec]
    out = Path(folder) / (path.stem + suffix)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(path), *options, str(out)], check=True)
    coded = audio.read(str(out), sr=None)
    out.unlink()
    return original.clipped, clipped_before_coding(coded), float(np.abs(original.samples).max())


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--codec", default="mp3-128", choices=[v for v in VARIANTS if "-" in v],
                   help="a lossy coding of train.codecs (default %(default)s)")
    p.add_argument("--folder", type=Path, default=STARTER / "audio_train")
    p.add_argument("--limit", type=int, default=None, help="the first this many clips (sorted by name)")
    args = p.parse_args(argv)
    clips = sorted(args.folder.glob("*.flac"))[:args.limit]
    with tempfile.TemporaryDirectory(prefix="soundpred-coded-") as folder, ThreadPoolExecutor(2) as pool:
        rows = list(pool.map(lambda c: one(c, args.codec, folder), clips))
    share, cue, peak = (np.array(v) for v in zip(*rows))
    print(f"{len(clips)} clips of {args.folder}, coded {args.codec}:\n")
    print("| share of samples at full scale (FLAC) | clips | coded file passes full scale |\n|---|---|---|")
    band = np.searchsorted(EDGES, share, side="left")
    for k, label in enumerate(BANDS):
        m = band == k
        print(f"| {label} | {m.sum()} | {cue[m].sum()} ({cue[m].mean() if m.any() else 0:.2f}) |")
    false = (share == 0) & cue
    print(f"\nPeaks (FLAC) of the unclipped clips whose coding passes full scale: {np.sort(peak[false]).round(3).tolist()}")
    return share, cue, peak


if __name__ == "__main__":
    main()
