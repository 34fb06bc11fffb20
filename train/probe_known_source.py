"""How well positions inside a room could be ordered if the source were known, on the very
examples the distance model hears.

    python -m train.probe_known_source                       # the validation rooms; about 2 minutes
    python -m train.probe_known_source --sets held-out shifted hybrid --model runs/m3

Issue 12 asks for a within-room rank correlation of 0.70 on measured rooms. Three figures per set
say where the simulated ordering is lost (the Spearman correlation with the true distance, the
mean within rooms, and over all examples):

- **the true response's DRR**: the ceiling of any cue read from the response, with no noise and
  no unknown source (``train.room_statistics`` gives it for the banks);
- **the known source**: each example (drawn exactly as the evaluation draws it) is deconvolved by
  its own direct sound alone (``synthesize(direct=True)``: the dry source through the response's
  first ±2.5 ms, with the example's colouration and level, so both cancel), a Wiener
  deconvolution that keeps the example's noise. The energy within ±2.5 ms of lag 0 against the
  rest up to ``--window`` seconds orders the positions. No model could know the source, so this is
  not a target: it shows how much of the ordering the noise and colouration leave;
- **the model**: the bundle's estimate (room kind ``auto``) on the same examples, which has to
  read the source and the room from one recording.

The validation rooms are ``train.ensemble``'s (training and hybrid settings, seeds no
evaluation set uses, training dry sources); the evaluation sets are ``train.distance
--evaluate``'s, with the same examples. Results: docs/distance.md.
"""
from __future__ import annotations

import argparse
import sys

import numpy as np

from soundpred.bundle import load_bundle
from soundpred.hub import EMBEDDED
from soundpred.metrics import _spearman, spearman_within_rooms
from soundpred.rooms import DIRECT_HALF_SECONDS
from train.distance_eval import (EVAL_BANKS, DistanceConfig, EvalSet, bank_parameters, dry_sources, eval_set,
                                 make_examples, predict_model, validation_sets)

#: the ``--window`` default: 50 ms, as C50 (the early part orders best when the noise stays in)
WINDOW_S = 0.05


def deconvolve(x: np.ndarray, direct: np.ndarray, eps: float = 1e-3) -> np.ndarray:
    """The response of ``x`` relative to its ``direct`` sound: a Wiener deconvolution
    ``X D* / (|D|² + eps mean |D|²)``, circular over twice the length (lag 0 at index 0,
    negative lags at the end)."""
    size = 1 << int(np.ceil(np.log2(2 * len(x))))
    xs, ds = np.fft.rfft(np.asarray(x, np.float64), size), np.fft.rfft(np.asarray(direct, np.float64), size)
    power = np.abs(ds) ** 2
    return np.fft.irfft(xs * ds.conj() / (power + eps * power.mean()), size)


def direct_ratio_db(h: np.ndarray, sr: int, window_s: float = WINDOW_S) -> float:
    """Energy of ``h`` within ±:data:`~soundpred.rooms.DIRECT_HALF_SECONDS` of lag 0 over its
    energy from there to ``window_s``, dB (``h`` from :func:`deconvolve`)."""
    w = int(DIRECT_HALF_SECONDS * sr)
    e = np.asarray(h, np.float64) ** 2
    return float(10 * np.log10((e[:w].sum() + e[-w:].sum()) / (e[w:int(window_s * sr)].sum() + 1e-30) + 1e-30))


def deconvolved(s: EvalSet, n: int, sr: int, speech_share: float):
    """``(examples, responses)``: the set's examples (``n`` samples each) as the evaluation draws
    them and, one at a time (an iterator: each is twice the example long), each deconvolved by its
    own direct sound (:func:`deconvolve`)."""
    x, direct = make_examples(s.bank, s.speech, s.clips, s.settings, n=n, sr=sr, seed=s.seed,
                              speech_share=speech_share, direct=True)
    return x, (deconvolve(a, b) for a, b in zip(x, direct))


def known_source_ratios(s: EvalSet, n: int, sr: int, speech_share: float, window_s: float = WINDOW_S):
    """``(examples, ratios)``: the set's examples as the evaluation draws them and, per example,
    :func:`direct_ratio_db` of it deconvolved by its own direct sound."""
    x, responses = deconvolved(s, n, sr, speech_share)
    return x, np.array([direct_ratio_db(h, sr, window_s) for h in responses])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=str(EMBEDDED["distance"]), help="distance bundle (default: the embedded one)")
    ap.add_argument("--sets", nargs="+", default=["validation"], choices=["validation", *EVAL_BANKS],
                    help="validation: train.ensemble's validation rooms (both settings)")
    ap.add_argument("--window", type=float, default=WINDOW_S, help="seconds after the direct sound that count")
    args = ap.parse_args(argv)
    config = DistanceConfig()
    bundle = load_bundle(args.model)
    fe = bundle.frontend
    sr, n = fe.sample_rate, fe.window_samples
    sources = dry_sources(sr, n_speech=config.speech, data=config.data)
    sets = [s for name in args.sets for s in (validation_sets(sources, sr, seed=config.seed) if name == "validation"
                                               else [eval_set(name, sources, config.seed, rooms=config.eval_rooms, sr=sr)])]
    print(f"Spearman correlation with the true distance, within rooms (mean) / over all examples; "
          f"the known source's window {args.window * 1000:g} ms; model {args.model}\n")
    print("| set | true response's DRR | known source | model |\n|---|---|---|---|")
    for s in sets:
        x, ratio = known_source_ratios(s, n, sr, config.speech_share, args.window)
        mu, _ = predict_model(bundle.model, x)
        d, room = s.bank.distance, s.bank.room
        drr = bank_parameters(s.bank, sr)[:, 0]
        cells = [(spearman_within_rooms(v, d, room), _spearman(v, d)) for v in (-drr, -ratio, mu)]
        print(f"| {s.name} | " + " | ".join(f"{w:.3f} / {a:.3f}" for w, a in cells) + " |")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
