"""Probe: an ensemble's members pooled with more (or less) weight on one of them, in "auto" or,
with ``--kind``, told each room's true kind.

    python -m train.probe_member_weight models/distance --member 2 --weights 0.333 0.5 0.6 0.7 0.8 1
    python -m train.probe_member_weight models/distance --member 3 --weights 0.25 0.4 0.5 0.6 --kind

Each member's belief is computed once on the validation rooms (``train.distance_eval.validation_sets``,
where ``train.ensemble`` fits its numbers) and on the evaluation sets (the same examples as
``train.distance --evaluate``). For each weight ``w`` of member ``--member`` (1-based; the others
share ``1 - w`` equally) the beliefs are pooled as ``GaussianPool`` pools them
(``train.ensemble.mixture``), the interval's scale is fitted again on validation, and the printed
row gives the validation score (the mean over both validation sets of MAE and relative error, each
over the median guess's: lower is better) and, per evaluation set, MAE m / relative error / rank
correlation / within-room rank / 90 % coverage. The weight to pick is the one with the least
validation score; the evaluation columns are there to check it against the rule for a new default
(``train.ensemble.DECISION_SETS``), not to choose it. With ``--kind`` every member that takes the
room kind is told the true one, on validation and evaluation rooms alike (the weights a pool would
give its members when the person names the room), and the interval's scale is fitted on those
beliefs.
"""
from __future__ import annotations

import argparse
import json

import numpy as np

from soundpred.bundle import load_bundle
from soundpred.distance import interval, point_estimate
from soundpred.metrics import distance_summary
from train.distance_eval import (Baselines, DistanceConfig, dry_sources, held_out_sets, room_banks, set_examples,
                                 validation_sets)
from train.ensemble import fit_sigma_scale, member_beliefs, mixture, unpack, validation_score


def member_weights(n: int, member: int, weight: float) -> np.ndarray:
    """``n`` weights summing to 1: ``weight`` on ``member`` (0-based), the rest shared equally."""
    if not 0.0 <= weight <= 1.0 or not 0 <= member < n or n < 2:
        raise ValueError(f"weight {weight} on member {member} of {n}")
    w = np.full(n, (1.0 - weight) / (n - 1))
    w[member] = weight
    return w


def pooled_rows(val, evals, member: int, weights, median: float) -> list[dict]:
    """One row per weight. ``val`` and ``evals``: ``(name, mus, sigmas, bank)`` with the members'
    beliefs ``(members, n)``."""
    rows = []
    for weight in weights:
        w = member_weights(len(val[0][1]), member, weight)
        pooled = [(mixture(mus, sigmas, w), bank) for _, mus, sigmas, bank in val]
        scale = fit_sigma_scale(np.concatenate([p[0][0] for p in pooled]), np.concatenate([p[0][1] for p in pooled]),
                                np.log(np.concatenate([b.distance for _, b in pooled])))
        score = validation_score([(mus, sigmas, bank.distance) for _, mus, sigmas, bank in val], w, median, 0.0, scale)
        row = {"weight": round(float(weight), 3), "sigma_scale": round(scale, 3), "validation": round(score, 4)}
        for name, mus, sigmas, bank in evals:
            mu, sigma = mixture(mus, sigmas, w)
            sigma = scale * sigma
            lo, hi = interval(mu, sigma)
            s = distance_summary(point_estimate(mu, sigma, 0.0), bank.distance, lo=lo, hi=hi, rt60=bank.rt60,
                                 room=bank.room)
            row[name] = [s["mae_m"], s["rel_error"], s["spearman"], s["spearman_within_room"], s["coverage"]]
        rows.append(row)
    return rows


def set_beliefs(members, s, fe, config: DistanceConfig, kind: bool = False) -> tuple:
    """``(name, mus, sigmas, bank)`` of the members on the examples of set ``s`` (``kind``: the
    members that take the room kind are told each room's true one; else "auto")."""
    x = set_examples(s, fe, config.speech_share)
    return s.name, *member_beliefs(members, x, s.bank.kind if kind else None), s.bank


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("bundle", help="an ensemble distance bundle (train.ensemble)")
    p.add_argument("--member", type=int, required=True, help="which member (1-based) gets the weight")
    p.add_argument("--weights", type=float, nargs="+", default=[1 / 3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0])
    p.add_argument("--validation-rooms", type=int, default=100)
    p.add_argument("--kind", action="store_true", help="tell the members each room's true kind")
    args = p.parse_args(argv)
    config = DistanceConfig()
    members = unpack(load_bundle(args.bundle))
    if len(members) < 2:
        raise SystemExit(f"{args.bundle} is not an ensemble")
    fe = members[0].frontend
    sr = fe.sample_rate
    sources = dry_sources(sr, n_speech=config.speech, data=config.data)
    banks = room_banks(sr, rooms=config.rooms, eval_rooms=config.eval_rooms, seed=config.seed)

    val = [set_beliefs(members, s, fe, config, args.kind)
           for s in validation_sets(sources, sr, rooms=args.validation_rooms, seed=config.seed)]
    evals = [set_beliefs(members, s, fe, config, args.kind)
             for s in held_out_sets(banks, sources, config.seed)]
    for row in pooled_rows(val, evals, args.member - 1, args.weights, Baselines.median(banks.train)):
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
