"""Probe: how much of a distance model's spread inside a room belongs to the source?

    python -m train.probe_source_spread                       # the embedded default
    python -m train.probe_source_spread runs/m3 runs/m8       # several bundles, the same sounds

Every RIR of the held-out, shifted, broad and hybrid sets of ``train.distance`` is heard through
``--sources`` evaluation dry sources drawn independently (now and then the same one twice), one
model window (4 s) each (:func:`train.probe_input_length.long_recordings`, cut into its segments). Per set and bundle,
from the estimated log-distances (the network's mean, as ``train.distance --evaluate`` takes it):

- **source sd**: the standard deviation of one RIR's estimates across its sources (the root of
  the mean over RIRs of their variance): what the source alone moves the estimate;
- **position sd**: the standard deviation, inside a room, of the positions' estimates averaged
  over their sources (root of the mean over rooms): what the position moves it;
- the mean within-room rank correlation with one source, and with the sources' average.

A source sd as large as the position sd means that, heard through one sound, half of what moves
the estimate inside a room is the sound, not the place. Their ratio is what a remedy has to
lower: squeezing every estimate toward one value lowers both sds and keeps the ratio.
"""
from __future__ import annotations

import argparse

import numpy as np

from soundpred.bundle import load_bundle
from soundpred.hub import EMBEDDED
from soundpred.metrics import spearman_within_rooms
from train.distance_eval import dry_sources, eval_sets, predict_model, room_banks
from train.probe_input_length import long_recordings


def source_spread(mu: np.ndarray, room: np.ndarray) -> tuple[float, float]:
    """``(source sd, position sd)`` of log-estimates ``mu`` ``(k sources, n RIRs)`` with the RIRs'
    ``room`` ids; rooms with one position give no position spread."""
    source = float(np.sqrt(mu.var(axis=0, ddof=1).mean()))
    mean = mu.mean(axis=0)
    per_room = [mean[room == r].var(ddof=1) for r in np.unique(room) if (room == r).sum() >= 2]
    return source, float(np.sqrt(np.mean(per_room))) if per_room else float("nan")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("bundles", nargs="*", default=[str(EMBEDDED["distance"])], help="distance bundle folders")
    p.add_argument("--sources", type=int, default=3, help="dry sources per RIR")
    p.add_argument("--eval-rooms", type=int, default=100)
    args = p.parse_args(argv)
    bundles = {b: load_bundle(b) for b in args.bundles}
    fe = next(iter(bundles.values())).frontend
    n, sr, k = fe.window_samples, fe.sample_rate, args.sources
    sets = eval_sets(room_banks(sr, eval_rooms=args.eval_rooms), dry_sources(sr), 0)[:4]  # not the training rooms
    print("| set | bundle | source sd | position sd | ratio | rank within rooms, one source | "
          f"the same, mean of {k} |\n|---|---|---|---|---|---|---|")
    results = {}
    for s in sets:
        x = long_recordings(s.bank, s.speech, s.clips, s.settings, segments=k, n=n, sr=sr, seed=s.seed + 1000)
        for name, b in bundles.items():
            mu = np.stack([predict_model(b.model, x[:, j * n:(j + 1) * n])[0] for j in range(k)])
            src, pos = source_spread(mu, s.bank.room)
            one = float(np.mean([spearman_within_rooms(mu[j], s.bank.distance, s.bank.room) for j in range(k)]))
            avg = spearman_within_rooms(mu.mean(axis=0), s.bank.distance, s.bank.room)
            results.setdefault(s.name, {})[name] = {"source_sd": src, "position_sd": pos, "rank_one": one, "rank_mean": avg}
            print(f"| {s.name} | {name} | {src:.3f} | {pos:.3f} | {src / pos:.2f} | {one:.3f} | {avg:.3f} |", flush=True)
    return results


if __name__ == "__main__":
    main()
