"""Probe: what the spread of the estimates alone does to MAE and relative error (a diagnostic).

    python -m train.probe_spread                  # the embedded default, every card set
    python -m train.probe_spread runs/m3 --sets "held-out rooms" --factors 0.8 1 1.25

Issue 12 asks for estimates that spread as far as the truth does; its rule for a new default asks
for lower MAE, relative error and rank correlation on every set. Sessions 54 and 55 found inputs
that squeeze the estimates (silence, pauses) and treatments that undo the squeeze, and each time
the squeeze had helped relative error where the network orders distances poorly. This separates
the spread from everything else: each estimate's log-distance is moved ``factor`` times as far
from the centre (the training prior's median, :data:`CENTRE_M`):

    d' = CENTRE_M * (d / CENTRE_M) ** factor

A factor under 1 squeezes, over 1 stretches. The order of the estimates does not change, so
neither do the rank correlations; MAE, relative error, the slope within rooms and the 10th-90th
percentile do. Per set and factor, then, per set, the factors on the grid with the least MAE and
the least relative error. A diagnostic of the rule, not a candidate: a stretch ties rank by
construction, so it could never pass, and a factor picked on the card's sets would be tuned to them.

    python -m train.probe_spread --validation

``--validation`` also picks a factor where ``train.ensemble`` calibrates an ensemble: on its
validation rooms (training and hybrid settings, rooms no evaluation set uses), by its rule for the
point estimate's shrink (:func:`train.ensemble.choose_shrink`: the least relative error, over the
median guess's and averaged over the two sets, among the factors whose MAE is no worse than 1's),
and prints the card's figures at that factor, paired with F's over rooms
(:func:`soundpred.metrics.paired_bootstrap`; the rank columns are zero by construction).
"""
from __future__ import annotations

import numpy as np

from soundpred.bundle import load_bundle
from soundpred.metrics import paired_bootstrap
from soundpred.rooms import TRAIN
from train.distance_compare import estimates
from train.distance_eval import Baselines, DistanceConfig, dry_sources, room_banks, set_examples, validation_sets
from train.ensemble import choose_shrink, error_ratios
from train.probe_common import card_parser, card_sets, print_paired, summary_head, summary_row

#: the training prior's median (m): ``soundpred.rooms.TRAIN.distance_prior``, a log-normal around it
CENTRE_M = float(TRAIN.distance_prior[1])
FACTORS = (0.6, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.5, 2.0)


def spread(estimate: np.ndarray, factor: float, centre: float = CENTRE_M) -> np.ndarray:
    """``estimate`` (m) with each log-distance ``factor`` times as far from ``log(centre)``."""
    return centre * (np.asarray(estimate, dtype=np.float64) / centre) ** factor


def validation_factor(bundle, factors) -> float:
    """The factor of ``factors`` that ``train.ensemble`` would choose on its validation rooms
    (:func:`train.ensemble.choose_shrink`'s rule), after printing each factor's errors there."""
    d = DistanceConfig()
    sr = bundle.frontend.sample_rate
    sources = dry_sources(sr, n_speech=d.speech, data=d.data)
    median = Baselines.median(room_banks(sr, rooms=d.rooms, eval_rooms=d.eval_rooms, seed=d.seed).train)
    errors = []
    for s in validation_sets(sources, sr, seed=d.seed):
        plain = estimates(bundle, set_examples(s, bundle.frontend, d.speech_share))
        errors.append({f: error_ratios(spread(plain, f), s.bank.distance, median) for f in factors})
        print(f"- {s.name}, MAE / relative error over the median guess's: "
              + ", ".join(f"{f:g}: {e[0]:.3f}/{e[1]:.3f}" for f, e in errors[-1].items()), flush=True)
    return choose_shrink(errors, base=1.0)  # the factor 1 (no change) in the place of shrink 0


def main(argv=None):
    p = card_parser(__doc__)
    p.add_argument("--factors", nargs="+", type=float, default=list(FACTORS))
    p.add_argument("--validation", action="store_true", help="also pick a factor on the validation rooms")
    args = p.parse_args(argv)
    if 1.0 not in args.factors:
        p.error("--factors must hold 1 (no change)")
    bundle = load_bundle(args.bundle)
    chosen = validation_factor(bundle, args.factors) if args.validation else None
    if chosen is not None:
        print(f"Validation rooms: the factor chosen is {chosen:g}\n", flush=True)
    print(summary_head("factor"))
    results, best, paired = {}, {}, {}
    for s, x in card_sets(bundle.frontend, args.sets):
        plain = estimates(bundle, x)
        for factor in args.factors:
            results[(s.name, factor)], row = summary_row(s, f"{factor:g}", spread(plain, factor))
            print(row, flush=True)
        best[s.name] = {m: min(args.factors, key=lambda f: results[(s.name, f)][m]) for m in ("mae_m", "rel_error")}
        if chosen is not None:
            paired[(s.name, f"{chosen:g}", "1")] = paired_bootstrap(spread(plain, chosen), plain, s.bank.distance,
                                                                    s.bank.room)
    print(f"\nFactor with the least MAE / relative error (of {' '.join(f'{f:g}' for f in args.factors)}):\n")
    for name, b in best.items():
        print(f"- {name}: {b['mae_m']:g} / {b['rel_error']:g}")
    if paired:
        print_paired(paired, ("factor", "against"))
    return results, best, paired


if __name__ == "__main__":
    main()
