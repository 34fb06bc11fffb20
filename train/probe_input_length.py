"""Probe: does a longer recording at one place give a better distance estimate?

    python -m train.probe_input_length                             # the embedded default, 4, 8 and 12 s
    python -m train.probe_input_length --distance runs/m7 --segments 1 2 4
    python -m train.probe_input_length --windows app 4:4 all   # also: no overlap, one window over all
    python -m train.probe_input_length --pools mean precision  # also: windows weighted by 1/sigma^2
    python -m train.probe_input_length --distance runs/m3 --save m3.npz
    python -m train.probe_input_length --distance runs/m13 --windows 8:4 app --against m3.npz

Every RIR of the held-out, shifted, broad and hybrid sets of ``train.distance``
(:func:`train.distance_eval.eval_sets`: the same rooms, seeds and evaluation dry sources; the
training bank is built too, from the cache once simulated) gets one recording of
``max(segments)`` segments of the model's window (4 s): each segment a different evaluation dry
source through that same RIR, with its own onset, noise, colouration and level (as
:func:`soundpred.rooms.synthesize` makes a training example), joined end to end, as when a
person talks or plays for longer at one place. The distance is estimated as the app estimates it
(:meth:`soundpred.predict.Predictor.distance_for_waveform`: windows every half window, their
log-distance means averaged) on the first 1, 2, … segments of the *same*
recordings, so the lengths differ in nothing but the length.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from soundpred.bundle import load_bundle
from soundpred.hub import EMBEDDED
from soundpred.metrics import distance_summary, paired_bootstrap
from soundpred.predict import POOLS, Predictor
from soundpred.rooms import synthesize
from train.distance_eval import dry_sources, eval_sets, room_banks


def long_recordings(bank, speech, clips, settings, *, segments: int, n: int, sr: int, seed: int,
                    speech_share: float = 0.7) -> np.ndarray:
    """``(len(bank), segments * n)``: per RIR, ``segments`` examples of ``n`` samples, each from
    another dry source through that RIR, joined end to end."""
    rng = np.random.default_rng(seed)
    out = np.empty((len(bank), segments * n), np.float32)
    for i in range(len(bank)):
        for k in range(segments):
            pool = speech if (rng.random() < speech_share or not clips) else clips
            dry = pool[int(rng.integers(len(pool)))]
            out[i, k * n:(k + 1) * n] = synthesize(dry, bank.rirs[i], settings, n=n, sr=sr, rng=rng)[0]
    return out


def summary_row(pred, bank) -> dict:
    """MAE, relative error, rank correlation (all and within rooms) and within-room slope."""
    s = distance_summary(pred, bank.distance, room=bank.room)
    return {k: s[k] for k in ("mae_m", "rel_error", "spearman", "spearman_within_room", "slope_within_room")}


def parse_window(spec: str, n: int, sr: int) -> tuple[int | None, int | None]:
    """``"WIN:HOP"`` in seconds -> samples; ``"all"``: the whole input as one window (None, None)."""
    if spec == "all":
        return None, None
    win, _, hop = spec.partition(":")
    win_n = int(round(float(win) * sr))
    return win_n, int(round(float(hop) * sr)) if hop else max(1, win_n // 2)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--distance", default=str(EMBEDDED["distance"]), help="distance bundle folder")
    p.add_argument("--segments", type=int, nargs="+", default=[1, 2, 3], help="lengths, in model windows")
    p.add_argument("--windows", nargs="+", default=["app"], metavar="WIN:HOP",
                   help="how each recording is cut, in seconds: 'app' (the bundle's window, every half "
                        "window, as the app does), e.g. '4:4' (no overlap), or 'all' (one window over the "
                        "whole recording); the others are compared with the first")
    p.add_argument("--pools", nargs="+", default=["mean"], choices=POOLS,
                   help="how the windows' beliefs are combined (Predictor.pool_distance): 'mean', the "
                        "app's, and/or 'precision' (weights 1/sigma^2); each with each way of cutting")
    p.add_argument("--save", type=Path, metavar="NPZ", help="write every estimate here (for --against)")
    p.add_argument("--against", type=Path, metavar="NPZ",
                   help="also compare this run, each way of cutting at each length, with the first way "
                        "of cutting of a run saved with --save (another model on the same recordings)")
    p.add_argument("--eval-rooms", type=int, default=100)
    p.add_argument("--sets", nargs="+", help="evaluation sets by name (default: all but the training rooms)")
    args = p.parse_args(argv)
    predictor = Predictor(load_bundle(EMBEDDED["classification"]), load_bundle(args.distance))
    fe = predictor.distance.frontend
    n, sr = fe.window_samples, fe.sample_rate
    try:
        cuts = {w: ((n, n // 2) if w == "app" else parse_window(w, n, sr)) for w in args.windows}
    except ValueError:
        p.error(f"--windows takes 'app', 'all' or WIN:HOP in seconds, not {args.windows}")
    sources = dry_sources(sr)
    sets = {s.name: s for s in eval_sets(room_banks(sr, eval_rooms=args.eval_rooms), sources, 0)}
    names = args.sets or [k for k in sets if k != "training rooms"]
    if unknown := set(names) - set(sets):
        p.error(f"unknown sets {sorted(unknown)}; there are {sorted(sets)}")
    longest, shortest = max(args.segments), min(args.segments)
    first = args.windows[0] if args.pools[0] == "mean" else f"{args.windows[0]}, {args.pools[0]}"
    print(f"{args.distance}; segments of {n / sr:g} s\n")
    print("| set | windows | length | MAE m | rel. error | rank corr. | rank within rooms | slope within rooms |")
    print("|---|---|---|---|---|---|---|---|")
    results, gains, saved = {}, {}, {}
    against = dict(np.load(args.against)) if args.against else None
    for name in names:
        es = sets[name]
        bank = es.bank
        x = long_recordings(bank, es.speech, es.clips, es.settings, segments=longest, n=n, sr=sr, seed=es.seed)
        preds = {}
        for cut, (win, hop) in cuts.items():
            for seg in sorted(args.segments):
                t0 = time.time()
                beliefs = [predictor.distance_windows(y[:seg * n], window=win or seg * n, hop=hop or seg * n)
                           for y in x]
                for pool in args.pools:
                    way = cut if pool == "mean" else f"{cut}, {pool}"
                    preds[way, seg] = pred = np.array([predictor.pool_distance(mu, sd, pool=pool)[0]
                                                       for mu, sd in beliefs])
                    row = results.setdefault(name, {}).setdefault(way, {})[f"{seg * n / sr:g} s"] = \
                        summary_row(pred, bank)
                    print(f"| {name} | {way} | {seg * n / sr:g} s | " + " | ".join(f"{v:.3f}" for v in row.values())
                          + " |", flush=True)
                print(f"  ({len(x)} recordings in {time.time() - t0:.0f} s)", flush=True, file=sys.stderr)
        gains[name] = {f"{first}: {longest * n / sr:g} s minus {shortest * n / sr:g} s":
                       paired_bootstrap(preds[first, longest], preds[first, shortest], bank.distance, bank.room)}
        for way in [w for w, seg in preds if seg == longest and w != first]:
            gains[name][f"{longest * n / sr:g} s: {way} minus {first}"] = paired_bootstrap(
                preds[way, longest], preds[first, longest], bank.distance, bank.room)
        if against is not None:
            theirs = str(against["first"])
            for (cut, seg), pred in preds.items():
                if (key := f"{name}|{theirs}|{seg}") in against:
                    gains[name][f"{seg * n / sr:g} s: {cut} minus {against['distance']} {theirs}"] = \
                        paired_bootstrap(pred, against[key], bank.distance, bank.room)
        saved.update({f"{name}|{cut}|{seg}": pred for (cut, seg), pred in preds.items()})
    if args.save:
        np.savez(args.save, distance=args.distance, first=first, **saved)
    print("\nPaired over rooms (2000 draws; 90 % interval; share of draws better):\n")
    print("| set | comparison | MAE m | rel. error | rank corr. | rank within rooms |\n|---|---|---|---|---|---|")
    for name, by in gains.items():
        for what, g in by.items():
            print(f"| {name} | {what} | " + " | ".join(
                f"{v['difference']:+.3f} ({v['interval'][0]:+.3f} to {v['interval'][1]:+.3f}; "
                f"{v['share_better']:.2f})" for v in g.values()) + " |")
    return results, gains


if __name__ == "__main__":
    main()
