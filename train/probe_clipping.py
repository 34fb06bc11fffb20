"""Probe: what does clipping cost the distance estimates?

    python -m train.probe_clipping                    # the embedded default, every card set and variant
    python -m train.probe_clipping runs/m3 --sets "held-out rooms" --variants hard-6 hard-20

A phone held near a loud source clips: the converter flattens every peak that would pass full
scale. The peaks are the onsets, where the direct sound is strongest, so clipping takes more off
the direct sound than off the reverberation that follows it. The app warns for a clipped recording
(more than :data:`soundpred.audio.CLIPPED_SHARE` of its samples at full scale); this probe
measures what that does to the distance.

Each set's examples (:func:`train.distance_eval.held_out_sets`: the card's rooms, sources and
examples) are scaled so that each one's peak lies DRIVE dB over full scale and clipped at +-1
(``hard-DRIVE``), and each one's mean is taken off, as the app takes a recording's off; ``none``
takes the mean off alone and reproduces the card (held-out rank 0.500 for its 0.501). Per set and
variant: MAE, relative error, rank correlation over all examples and the mean within rooms, the
slope within rooms and the 10th-90th percentile of the estimates (as ``train.probe_codecs``
prints them), the median share of samples at full scale and the share of examples the app would
call clipped; then each variant against ``none`` paired over rooms
(:func:`soundpred.metrics.paired_bootstrap`).
"""
from __future__ import annotations

import numpy as np

from soundpred.audio import CLIPPED_SHARE, at_full_scale
from soundpred.bundle import load_bundle
from train.distance_compare import estimates
from train.probe_common import card_parser, card_sets, print_paired, score_set, summary_head

#: dB over full scale that each example's peak is driven to before the clip
DRIVES_DB = (3, 6, 12, 20)
VARIANTS = ("none", *(f"hard-{d}" for d in DRIVES_DB))


def clipped(x: np.ndarray, variant: str) -> np.ndarray:
    """The examples ``x`` (``(n_examples, n)``) as ``variant`` says: ``none`` as they are, or
    ``hard-DRIVE``, each scaled so its peak lies DRIVE dB over full scale and clipped at +-1. float32."""
    x = np.asarray(x, np.float32)
    if variant == "none":
        return x
    kind, _, drive = variant.partition("-")
    if kind != "hard" or not drive.isdigit():
        raise ValueError(f"{variant!r}: 'none' or 'hard-DRIVE' (dB over full scale)")
    peak = np.abs(x).max(axis=1, keepdims=True)
    gain = np.float32(10 ** (int(drive) / 20)) / np.maximum(peak, np.float32(1e-12))
    return np.clip(x * gain, -1.0, 1.0)


def full_scale_share(y: np.ndarray) -> np.ndarray:
    """Each example's share of samples at full scale, as the app's decoder counts them."""
    return np.mean(at_full_scale(y), axis=1)


def main(argv=None):
    p = card_parser(__doc__)
    p.add_argument("--variants", nargs="+", default=list(VARIANTS[1:]), choices=list(VARIANTS))
    args = p.parse_args(argv)
    bundle = load_bundle(args.bundle)
    variants = ["none"] + [v for v in args.variants if v != "none"]
    print(summary_head("clipping"))
    results, paired, shares = {}, {}, {}
    for s, x in card_sets(bundle.frontend, args.sets):
        est = {}
        for v in variants:
            y = clipped(x, v)
            share = full_scale_share(y)
            shares[(s.name, v)] = (float(np.median(share)), float(np.mean(share > CLIPPED_SHARE)))
            est[v] = estimates(bundle, y - y.mean(axis=1, keepdims=True))  # the app takes the mean off
        score_set(s, est, [(v, "none") for v in variants[1:]], results, paired)
    print("\nSamples at full scale (median share over the examples; share of examples the app calls clipped):\n")
    print("| set | clipping | median share at full scale | share of examples over the trigger |\n|---|---|---|---|")
    for (name, v), (median, over) in shares.items():
        print(f"| {name} | {v} | {median:.4f} | {over:.3f} |")
    print_paired(paired, ("clipping", "against"))
    return results, paired, shares


if __name__ == "__main__":
    main()
