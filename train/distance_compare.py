"""Is one distance bundle really better than another? A paired bootstrap over rooms.

    git archive fb50092 models/distance | tar -x -C /tmp/prev     # the previous default
    python -m train.distance_compare models/distance /tmp/prev/models/distance

Both bundles answer the same examples of the evaluation sets of ``train.distance`` (held-out
rooms, shifted, broad and hybrid simulation; room kind ``auto``, or with ``--kind`` each room's
true kind, told to the bundles that take it). Per set and measure (MAE,
relative error, rank correlation over all examples and within rooms): the difference NEW − OLD,
its 90 % interval when the rooms are drawn again with replacement (``soundpred.metrics.paired_bootstrap``), and the share of
draws in which NEW is better. Prints a Markdown table.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from soundpred.bundle import load_bundle
from soundpred.distance import point_estimate, point_shrink
from soundpred.metrics import paired_bootstrap
from train.distance_eval import DistanceConfig, dry_sources, eval_sets, predict_model, room_banks, set_examples

NAMES = {"mae_m": "MAE m", "rel_error": "rel. error", "spearman": "rank corr.",
         "spearman_within_room": "rank within rooms"}


def estimates(bundle, x, kinds=None):
    """The bundle's distance estimates (m) for the examples ``x``, as the Predictor reports them
    (``kinds``: the room kind of each example, told to a bundle that takes it; None: "auto")."""
    mu, log_sigma = predict_model(bundle.model, x, kinds)
    return point_estimate(mu, np.exp(log_sigma), point_shrink(bundle.meta))


def main(argv=None):
    d = DistanceConfig()
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("new", type=Path)
    p.add_argument("old", type=Path)
    p.add_argument("--draws", type=int, default=2000)
    p.add_argument("--eval-rooms", type=int, default=d.eval_rooms)
    p.add_argument("--speech", type=int, default=d.speech)
    p.add_argument("--kind", action="store_true", help="tell both bundles each room's true kind")
    args = p.parse_args(argv)
    new, old = load_bundle(args.new), load_bundle(args.old)
    fe = new.frontend
    sources = dry_sources(fe.sample_rate, n_speech=args.speech, data=d.data)
    banks = room_banks(fe.sample_rate, rooms=d.rooms, eval_rooms=args.eval_rooms, seed=d.seed)
    rows, results = [], {}
    for s in eval_sets(banks, sources, d.seed)[:4]:  # not the training rooms
        x = set_examples(s, fe, d.speech_share)
        kinds = s.bank.kind if args.kind else None
        res = results[s.name] = paired_bootstrap(estimates(new, x, kinds), estimates(old, x, kinds), s.bank.distance,
                                                 s.bank.room, n=args.draws)
        for k, name in NAMES.items():
            if k not in res:
                continue
            r = res[k]
            rows.append(f"| {s.name} | {name} | {r['difference']:+.3f} | {r['interval'][0]:+.3f} to "
                        f"{r['interval'][1]:+.3f} | {r['share_better']:.2f} |")
    told = ", each room's true kind told" if args.kind else ""
    print(f"{args.new} against {args.old} ({args.draws} draws of the rooms{told}):\n\n"
          "| set | measure | difference | 90 % interval | share of draws better |\n|---|---|---|---|---|\n"
          + "\n".join(rows))
    return results


if __name__ == "__main__":
    main()
