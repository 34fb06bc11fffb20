"""Probe: how does the distance estimate's ordering depend on the noise and on the kind of sound?

    python -m train.probe_conditions                        # the embedded default
    python -m train.probe_conditions runs/m3 --snr clean 20 5 --sets held-out hybrid
    python -m train.probe_conditions runs/sdry2 --clips runs/dry-eval   # other clips in the clips' place
    python -m train.probe_conditions --one-source-per-room --snr 20      # one sound at every position of a room

Every RIR of the held-out, shifted and hybrid banks of ``train.distance`` (the same rooms and
seeds; the training bank is not needed) is heard through one evaluation speech utterance and
one evaluation starter clip, each at every ``--snr``. Within an RIR and a kind of sound the
examples differ in the noise's level alone: the same stretch of the same dry source, onset,
noise waveform and kind, colouration and level (:func:`soundpred.rooms.synthesize` with the
SNR range pinned to one value, which draws the same random numbers). ``clean`` is 120 dB, with
the hybrid set's microphone self-noise pinned there too.

Per set, sound and SNR: MAE, relative error, rank correlation (all, and the mean within rooms),
the within-room slope (how far the estimate moves: 1 = as far as the truth), and the mean
within-room rank correlation of the estimate with the true response's direct-to-reverberant
ratio (what a blind estimator of the DRR could at best order by). Each position hears a source
drawn for it, so within a room both the position and the source change; with
``--one-source-per-room`` every position of a room hears the same one, as when one sound moves
away from the microphone. Then, per sound, the estimates with no room at all (the direct sound
alone, clean): a dry source should come out nearest there; one whose recording carries a room of
its own cannot. The training examples are drawn at 5-40 dB (``TRAIN``/``HYBRID``) and 5-30 dB
(``SHIFTED``): a gap between ``clean`` and the lower SNRs tells how much the noise, not the rooms'
ambiguity, holds the ordering back.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from soundpred.bundle import load_bundle
from soundpred.hub import EMBEDDED
from soundpred.metrics import distance_summary, spearman_within_rooms
from soundpred.rooms import DIRECT_INDEX, TRAIN, synthesize
from train.distance_eval import (EVAL_BANKS, bank_parameters, check_extra_dry, decoded_clips, dry_sources, eval_bank,
                                 extra_dry_clips, predict_model)

#: the evaluation banks it hears (settings, bank seed, example seed; :func:`~train.distance_eval.eval_bank`)
SETS = {k: EVAL_BANKS[k] for k in ("held-out", "shifted", "hybrid")}
CLEAN_DB = 120.0


def parse_snr(spec: str) -> float:
    return CLEAN_DB if spec == "clean" else float(spec)


def at_snr(settings, snr_db: float):
    """``settings`` with the SNR (and, where it has one, the microphone self-noise) pinned to
    ``snr_db``: :func:`~soundpred.rooms.synthesize` draws the same random numbers as before."""
    pinned = replace(settings, snr_db=(snr_db, snr_db))
    if settings.self_noise_db is not None and snr_db >= CLEAN_DB:
        pinned = replace(pinned, self_noise_db=(snr_db, snr_db))
    return pinned


def source_picks(bank, n_pool: int, seed: int, *, per_room: bool = False) -> np.ndarray:
    """Which of ``n_pool`` dry sources each RIR of ``bank`` hears: drawn per RIR, or with
    ``per_room`` one per room, heard at every position there (one sound walking away)."""
    rng = np.random.default_rng(seed)
    if not per_room:
        return rng.integers(n_pool, size=len(bank))
    _, room = np.unique(bank.room, return_inverse=True)
    return rng.integers(n_pool, size=room.max() + 1)[room]


def recordings(bank, pool, settings, snrs, *, n: int, sr: int, seed: int, per_room: bool = False) -> np.ndarray:
    """``(len(snrs), len(bank), n)``: per RIR one dry source of ``pool`` (:func:`source_picks`),
    the same draw at each SNR."""
    picks = source_picks(bank, len(pool), seed, per_room=per_room)
    out = np.empty((len(snrs), len(bank), n), np.float32)
    for i, rir in enumerate(bank.rirs):
        for k, snr in enumerate(snrs):
            rng = np.random.default_rng([seed, i])
            out[k, i] = synthesize(pool[picks[i]], rir, at_snr(settings, snr), n=n, sr=sr, rng=rng)[0]
    return out


def anechoic(pool, *, n: int, sr: int, seed: int, k: int = 120) -> np.ndarray:
    """``(min(k, len(pool)), n)``: the first sources of ``pool`` through no room (a unit impulse at
    the RIRs' direct-sound index), clean, otherwise as a training example is made."""
    rir = np.zeros(DIRECT_INDEX + 64, np.float32)
    rir[DIRECT_INDEX] = 1.0
    return np.stack([synthesize(pool[i], rir, at_snr(TRAIN, CLEAN_DB), n=n, sr=sr,
                                rng=np.random.default_rng([seed, i]))[0] for i in range(min(k, len(pool)))])


def dry_clips(folder: Path, sr: int) -> list[np.ndarray]:
    """The dry clips of a Kaggle-layout ``folder`` with a ``sources.csv``
    (:func:`~train.distance_eval.extra_dry_clips`), kept as :func:`~train.distance_eval.dry_sources`
    keeps its clips (:func:`~train.distance_eval.decoded_clips`)."""
    check_extra_dry(folder)
    return decoded_clips(lambda: extra_dry_clips(folder), sr, "--clips")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("bundle", nargs="?", default=str(EMBEDDED["distance"]), help="distance bundle folder")
    p.add_argument("--snr", nargs="+", default=["clean", "30", "20", "10", "5"], help="dB, or 'clean'")
    p.add_argument("--sets", nargs="+", default=list(SETS), choices=list(SETS))
    p.add_argument("--eval-rooms", type=int, default=100)
    p.add_argument("--clips", type=Path, metavar="FOLDER",
                   help="hear these instead of the starter set's test clips: the dry clips of a Kaggle-layout "
                        "folder with a sources.csv (train.distance_eval.extra_dry_clips), 1.5 s or longer, e.g. "
                        "instruments that a model trained with --extra-dry never heard")
    p.add_argument("--one-source-per-room", action="store_true",
                   help="every position of a room hears the same dry source (one sound walking away), "
                        "so the within-room figures are not mixed with the differences between sources")
    args = p.parse_args(argv)
    bundle = load_bundle(args.bundle)
    fe = bundle.frontend
    n, sr = fe.window_samples, fe.sample_rate
    snrs = [parse_snr(s) for s in args.snr]
    sources = dry_sources(sr)
    if args.clips:
        sources = replace(sources, eval_clips=dry_clips(args.clips, sr))
        print(f"clips: {len(sources.eval_clips)} of {args.clips}", file=sys.stderr)
    print("| set | sound | SNR dB | MAE m | rel. error | rank | rank within rooms | slope within rooms | "
          "rank with true DRR within rooms |\n|---|---|---|---|---|---|---|---|---|")
    results = {}
    for name in args.sets:
        settings, _, seed = SETS[name]
        bank = eval_bank(name, args.eval_rooms, sr)
        drr = bank_parameters(bank, sr)[:, 0]
        for sound, pool in (("speech", sources.eval_speech), ("clips", sources.eval_clips)):
            x = recordings(bank, pool, settings, snrs, n=n, sr=sr, seed=seed + 2000 + (sound == "clips"),
                           per_room=args.one_source_per_room)
            for spec, xs in zip(args.snr, x):
                mu, _ = predict_model(bundle.model, xs)
                s = distance_summary(np.exp(mu), bank.distance, room=bank.room)
                row = {k: s[k] for k in ("mae_m", "rel_error", "spearman", "spearman_within_room", "slope_within_room")}
                row["drr_rank_within_room"] = spearman_within_rooms(mu, drr, bank.room)
                results.setdefault(name, {}).setdefault(sound, {})[spec] = row
                print(f"| {name} | {sound} | {spec} | {row['mae_m']:.3f} | {row['rel_error']:.3f} | "
                      f"{row['spearman']:.3f} | {row['spearman_within_room']:.3f} | {row['slope_within_room']:.3f} | "
                      f"{row['drr_rank_within_room']:.3f} |", flush=True)
    print("\n| sound | estimate with no room: median | 10th-90th percentile | n |\n|---|---|---|---|")
    for sound, pool in (("speech", sources.eval_speech), ("clips", sources.eval_clips),
                        ("training clips", sources.train_clips)):
        est = np.exp(predict_model(bundle.model, anechoic(pool, n=n, sr=sr, seed=4000))[0])
        lo, mid, hi = np.percentile(est, [10, 50, 90])
        results.setdefault("no room", {})[sound] = {"median_m": float(mid), "p10_p90_m": [float(lo), float(hi)]}
        print(f"| {sound} | {mid:.2f} m | {lo:.2f}-{hi:.2f} m | {len(est)} |", flush=True)
    return results


if __name__ == "__main__":
    main()
