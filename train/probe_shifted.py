"""Where does the shifted set's verdict between two distance bundles come from?

    python -m train.probe_shifted runs/e_p90hintrel models/distance

In the training simulation (and in real buildings) a room's RT60 grows with its size: it follows
from Sabine's formula and a random mean absorption. The *shifted* evaluation set draws the RT60
whatever the room's size. A network that has learnt to tell the kind of room from its
reverberation (the room-kind networks, docs/distance.md) may be misled where the two disagree.

This fits ``log RT60 = a + b log volume`` on the training rooms (least squares), then, per
evaluation set, splits the examples into thirds by their room's residual (its RT60 against the
one its size predicts: ``lower``, ``typical``, ``higher``) and prints each bundle's MAE and
relative error per third (room kind ``auto``, the same examples as ``train.distance_compare``).

    python -m train.probe_shifted runs/e_p90hintrel models/distance --factors

``--factors``: the held-out rooms again with one of the shifted set's differences at a time
(:data:`FACTORS`; same room seed and example seed, so each row is paired with the first), with
two microphone patterns the shifted set lacks, then with all of the shifted set's differences;
both bundles' MAE, relative error and rank correlation (over all examples and within rooms) on each.

    python -m train.probe_shifted runs/e_p90hintrel models/distance --seeds 301 302 303
    python -m train.probe_shifted runs/e_p90hintrel models/distance --seeds 211 212 --set held-out
    python -m train.probe_shifted runs/e_f models/distance --seeds 641 642 643 644 --set hybrid
    python -m train.probe_shifted NEW models/distance --seeds 651 652 --set hybrid --kind   # room kind told

``--seeds``: the shifted simulation (with ``--set held-out`` the training one, with ``--set
hybrid`` the hybrid one) on other rooms and examples (each seed is the room bank's and the
examples' seed offset; the evaluation sets' own are 300 and 12, 200 and 11, 600 and 15, and
seeds whose rooms were used are refused: :data:`USED_SEEDS`), both bundles on each, and on all
of them together (MAE, relative error, rank correlation over all examples and within rooms): how
much a verdict moves with the draw of 100 rooms.
"""
from __future__ import annotations

import argparse
from dataclasses import fields, replace
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from soundpred.bundle import load_bundle
from soundpred.metrics import mae_rel, spearman_within_rooms
from soundpred.rooms import HYBRID, SHIFTED, TRAIN, make_bank
from train.distance_compare import estimates
from train.distance_eval import (EVAL_BANKS, HYBRID_TRAIN_BANK_OFFSET, TRAIN_BANK_OFFSET, VALIDATION_BANK_OFFSETS,
                                 DistanceConfig, dry_sources, eval_sets, make_examples, room_banks,
                                 set_examples)

THIRDS = ("lower", "typical", "higher")
#: The shifted simulation's differences from the training one (``soundpred.rooms.SHIFTED``), one
#: at a time (the cardioids also at one end only), and two microphone patterns SHIFTED lacks;
#: :data:`FACTORS` puts none of them (the held-out rooms themselves) first and all of SHIFTED's
#: differences together, SHIFTED's own settings, last.
_SINGLE = {
    "uneven absorption (one very absorbent or reflective surface, flat spectra)": {"absorption": SHIFTED.absorption},
    "RT60 whatever the room's size": {"absorption_range": SHIFTED.absorption_range},
    "cardioid source and microphone, random orientations": {"directivity": SHIFTED.directivity},
    "cardioid source only (omnidirectional microphone)": {"directivity": "source"},
    "cardioid microphone only (omnidirectional source)": {"directivity": "microphone"},
    # not SHIFTED's: the microphone twin's own pattern (rooms.TRAIN_MIC), and one nobody trains on
    "hypercardioid microphone only (omnidirectional source)": {"mic_pattern": "hypercardioid"},
    "figure-eight microphone only (omnidirectional source)": {"mic_pattern": "figure-eight"},
    "hum and babble at 5-30 dB": {"noises": SHIFTED.noises, "snr_db": SHIFTED.snr_db},
    "colouration 6 dB": {"colouration_db": SHIFTED.colouration_db},
}
FACTORS = {"none (the held-out rooms)": {}, **_SINGLE,
           "all of them": {f.name: getattr(SHIFTED, f.name) for f in fields(SHIFTED)
                           if f.name != "name" and getattr(SHIFTED, f.name) != getattr(TRAIN, f.name)}}


#: what ``--set`` draws with ``--seeds``
DRAW_SETTINGS = {"shifted": SHIFTED, "held-out": TRAIN, "hybrid": HYBRID}
#: bank seeds (offsets of the configuration's seed) that are not fresh rooms of each ``--set``:
#: the training rooms and their twins, the validation rooms ``train.ensemble`` calibrates on and
#: the card's own evaluation bank (``train.distance_eval``'s offsets)
USED_SEEDS = {"shifted": {EVAL_BANKS["shifted"][1]},
              "held-out": {TRAIN_BANK_OFFSET, VALIDATION_BANK_OFFSETS["training"], EVAL_BANKS["held-out"][1]},
              "hybrid": {HYBRID_TRAIN_BANK_OFFSET, VALIDATION_BANK_OFFSETS["hybrid"], EVAL_BANKS["hybrid"][1]}}


def stale_seeds(draw_set: str, seeds) -> list[int]:
    """Those of ``seeds`` whose rooms some model trained, was calibrated or was scored on."""
    return [s for s in seeds if s in USED_SEEDS[draw_set]]


def refuse_stale_seeds(p: argparse.ArgumentParser, draw_set: str, seeds) -> None:
    """Stop the command line ``p`` (exit status 2, naming them) if any of ``seeds`` is stale."""
    stale = stale_seeds(draw_set, seeds or [])
    if stale:
        p.error(f"--seeds {' '.join(map(str, stale))}: not fresh {draw_set} rooms "
                f"(training, validation or the card's own); these are: {sorted(USED_SEEDS[draw_set])}")


def factor_settings(changes: dict):
    """``TRAIN`` itself when there are no ``changes``; else ``TRAIN`` with them, named
    ``factor`` (a changed bank is cached under its own key anyway: the key hashes every field)."""
    return replace(TRAIN, name="factor", **changes) if changes else TRAIN


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
            row[label] = mae_rel(est[m], truth[m])
        rows.append(row)
    return rows


def main(argv=None):
    d = DistanceConfig()
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("new", type=Path)
    p.add_argument("old", type=Path)
    p.add_argument("--sets", nargs="+", default=["held-out rooms", "shifted simulation"])
    p.add_argument("--factors", action="store_true", help="the held-out rooms with one shifted difference at a time")
    p.add_argument("--seeds", nargs="+", type=int, help="the --set simulation on these room and example seeds")
    p.add_argument("--set", default="shifted", choices=list(DRAW_SETTINGS), help="with --seeds: which simulation")
    p.add_argument("--kind", action="store_true", help="with --seeds: tell both bundles each room's true kind")
    args = p.parse_args(argv)
    if args.kind and not args.seeds:
        p.error("--kind goes with --seeds (the fresh draws)")
    refuse_stale_seeds(p, args.set, args.seeds)
    new, old = load_bundle(args.new), load_bundle(args.old)
    fe = new.frontend
    sources = dry_sources(fe.sample_rate, n_speech=d.speech, data=d.data)
    if args.factors:
        return factors(new, old, args, d, sources)
    if args.seeds:
        return seed_rows(new, old, args, d, sources)
    banks = room_banks(fe.sample_rate, rooms=d.rooms, eval_rooms=d.eval_rooms, seed=d.seed)
    fit = rt60_fit(banks.train.volume, banks.train.rt60)
    print(f"training rooms: log RT60 = {fit[0]:.3f} + {fit[1]:.3f} log volume")
    print(f"\n| set | RT60 against size | residual (ln) | n | {args.new}: MAE m / rel. error | "
          f"{args.old}: MAE m / rel. error | difference |\n|---|---|---|---|---|---|---|")
    for s in eval_sets(banks, sources, d.seed):
        if s.name not in args.sets:
            continue
        x = set_examples(s, fe, d.speech_share)
        rows = by_third(rt60_residual(s.bank.volume, s.bank.rt60, fit), s.bank.distance,
                        {"new": estimates(new, x), "old": estimates(old, x)})
        for r in rows:
            (nm, nr), (om, orel) = r["new"], r["old"]
            print(f"| {s.name} | {r['third']} | {r['residual'][0]:+.2f} to {r['residual'][1]:+.2f} | {r['n']} | "
                  f"{nm:.3f} / {nr:.3f} | {om:.3f} / {orel:.3f} | {nm - om:+.3f} / {nr - orel:+.3f} |")
    return fit


def fresh_draw(settings, bank_seed: int, example_seed: int, d: DistanceConfig, sources, fe) -> tuple:
    """``(bank, examples)``: ``d.eval_rooms`` rooms of ``settings`` (bank seed ``d.seed +
    bank_seed``) heard as evaluation examples (seed ``d.seed + example_seed``) of the held-out dry
    sources, one window of front end ``fe`` per RIR."""
    bank = make_bank(settings, d.eval_rooms, seed=d.seed + bank_seed, sr=fe.sample_rate)
    return bank, make_examples(bank, sources.eval_speech, sources.eval_clips, settings, n=fe.window_samples,
                               sr=fe.sample_rate, seed=d.seed + example_seed, speech_share=d.speech_share)


def score(new, old, settings, bank_seed: int, example_seed: int, d: DistanceConfig, sources,
          kind: bool = False) -> tuple:
    """``(new estimates, old estimates, true distances, room ids)`` on ``d.eval_rooms`` rooms of
    ``settings`` (bank seed ``d.seed + bank_seed``) heard as evaluation examples (seed
    ``d.seed + example_seed``) of the held-out dry sources; ``kind``: each room's true kind is
    told to the bundles that take it (else "auto")."""
    bank, x = fresh_draw(settings, bank_seed, example_seed, d, sources, new.frontend)
    kinds = bank.kind if kind else None
    return estimates(new, x, kinds), estimates(old, x, kinds), bank.distance, bank.room


#: the measures of each row (:func:`_errors`)
MEASURES = "MAE m / rel. error / rank / within rooms"
#: room ids of later draws are shifted by this much, so that no two draws share a room id
ROOM_ID_STRIDE = 1_000_000


def _header(first: str, args) -> None:
    print(f"| {first} | {args.new}: {MEASURES} | {args.old}: {MEASURES} | difference |\n|---|---|---|---|")


def factors(new, old, args, d: DistanceConfig, sources) -> list[tuple]:
    """Both bundles on the held-out rooms with each of :data:`FACTORS` (room and example seeds
    of the held-out set)."""
    _, bank_seed, example_seed = EVAL_BANKS["held-out"]
    _header("held-out rooms with", args)
    rows = []
    for name, changes in FACTORS.items():
        rows.append((name, *score(new, old, factor_settings(changes), bank_seed, example_seed, d, sources)))
        _row(*rows[-1])
    return rows


def seed_rows(new, old, args, d: DistanceConfig, sources) -> dict:
    """Both bundles on the ``args.set`` simulation drawn with each of ``args.seeds``, and on all
    of those examples together."""
    settings = DRAW_SETTINGS[args.set]
    _header(f"{args.set} rooms{', true kind told' if args.kind else ''}, seed", args)
    draws = []
    for seed in args.seeds:
        draws.append(score(new, old, settings, seed, seed, d, sources, args.kind))
        _row(str(seed), *draws[-1])
    draws = [(*draw[:3], draw[3] + i * ROOM_ID_STRIDE) for i, draw in enumerate(draws)]  # each draw's rooms its own
    together = dict(zip(("new", "old", "truth", "room"), (np.concatenate(v) for v in zip(*draws))))
    _row("all together", together["new"], together["old"], together["truth"], together["room"])
    return together


def _row(name: str, new: np.ndarray, old: np.ndarray, truth: np.ndarray, room: np.ndarray) -> None:
    n, o = _errors(new, truth, room), _errors(old, truth, room)
    fmt = " / ".join(["{:.3f}"] * 4)
    print(f"| {name} | {fmt.format(*n)} | {fmt.format(*o)} | "
          + " / ".join(f"{a - b:+.3f}" for a, b in zip(n, o)) + " |", flush=True)


def _errors(est: np.ndarray, truth: np.ndarray, room: np.ndarray) -> tuple[float, float, float, float]:
    """MAE m, mean relative error, Spearman rank correlation of ``est`` over all examples, and its
    mean within the rooms (``room`` ids)."""
    within = spearman_within_rooms(est, truth, room)
    return (*mae_rel(est, truth), float(spearmanr(est, truth).statistic), np.nan if within is None else within)


if __name__ == "__main__":
    main()
