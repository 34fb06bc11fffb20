"""Where do two distance bundles differ: in rooms whose reverberation matches their size or not?

    python -m train.probe_rt60_mismatch runs/e_p90hintrel models/distance

In the training simulation (and in real buildings) a room's RT60 grows with its size: it follows
from Sabine's formula and a random mean absorption. The *shifted* evaluation set draws the RT60
whatever the room's size. A network that has learnt to tell the kind of room from its
reverberation (the room-kind networks, docs/distance.md) may be misled where the two disagree.

This fits ``log RT60 = a + b log volume`` on the training rooms (least squares), then, per
evaluation set, splits the examples into thirds by their room's residual (its RT60 against the
one its size predicts: ``lower``, ``typical``, ``higher``) and prints each bundle's MAE and
relative error per third (room kind ``auto``, the same examples as ``train.distance_compare``).
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from soundpred.bundle import load_bundle
from train.distance_compare import estimates
from train.distance_eval import DistanceConfig, dry_sources, eval_sets, make_examples, room_banks

THIRDS = ("lower", "typical", "higher")


def rt60_fit(volume: np.ndarray, rt60: np.ndarray) -> tuple[float, float]:
    """``(a, b)`` of the least-squares line ``log rt60 = a + b log volume``."""
    b, a = np.polyfit(np.log(volume), np.log(rt60), 1)
    return float(a), float(b)


def rt60_residual(volume: np.ndarray, rt60: np.ndarray, fit: tuple[float, float]) -> np.ndarray:
    """Natural-log ratio of each room's RT60 to the one the fitted line gives for its volume."""
    a, b = fit
    return np.log(rt60) - (a + b * np.log(volume))


def by_third(residual: np.ndarray, truth: np.ndarray, named: dict[str, np.ndarray]) -> list[dict]:
    """Per third of ``residual`` (the lowest third first): its residual range, n, and the MAE and
    mean relative error of each named estimate."""
    edges = np.quantile(residual, [1 / 3, 2 / 3])
    third = np.digitize(residual, edges)
    rows = []
    for k, name in enumerate(THIRDS):
        m = third == k
        row = {"third": name, "n": int(m.sum()), "residual": (float(residual[m].min()), float(residual[m].max()))}
        for label, est in named.items():
            err = np.abs(est[m] - truth[m])
            row[label] = (float(err.mean()), float((err / truth[m]).mean()))
        rows.append(row)
    return rows


def main(argv=None):
    d = DistanceConfig()
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("new", type=Path)
    p.add_argument("old", type=Path)
    p.add_argument("--sets", nargs="+", default=["held-out rooms", "shifted simulation"])
    args = p.parse_args(argv)
    new, old = load_bundle(args.new), load_bundle(args.old)
    fe = new.frontend
    sources = dry_sources(fe.sample_rate, n_speech=d.speech, data=d.data)
    banks = room_banks(fe.sample_rate, rooms=d.rooms, eval_rooms=d.eval_rooms, seed=d.seed)
    fit = rt60_fit(banks.train.volume, banks.train.rt60)
    print(f"training rooms: log RT60 = {fit[0]:.3f} + {fit[1]:.3f} log volume")
    print(f"\n| set | RT60 against size | residual (ln) | n | {args.new}: MAE m / rel. error | "
          f"{args.old}: MAE m / rel. error | difference |\n|---|---|---|---|---|---|---|")
    for s in eval_sets(banks, sources, d.seed):
        if s.name not in args.sets:
            continue
        x = make_examples(s.bank, s.speech, s.clips, s.settings, n=fe.window_samples, sr=fe.sample_rate,
                          seed=s.seed, speech_share=d.speech_share)
        rows = by_third(rt60_residual(s.bank.volume, s.bank.rt60, fit), s.bank.distance,
                        {"new": estimates(new, x), "old": estimates(old, x)})
        for r in rows:
            (nm, nr), (om, orel) = r["new"], r["old"]
            print(f"| {s.name} | {r['third']} | {r['residual'][0]:+.2f} to {r['residual'][1]:+.2f} | {r['n']} | "
                  f"{nm:.3f} / {nr:.3f} | {om:.3f} / {orel:.3f} | {nm - om:+.3f} / {nr - orel:+.3f} |")
    return fit


if __name__ == "__main__":
    main()
