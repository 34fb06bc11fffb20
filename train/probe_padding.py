"""Probe: what silence around a recording, and a recording shorter than a window, do to the distance.

    python -m train.probe_padding                 # the embedded default, every card set
    python -m train.probe_padding runs/m3 --sets "held-out rooms"

Uploads often carry silence before and after the sound (a recorder started early, a clip cut
loosely), and short clips are shorter than the distance model's 4-s window, which the app fills
with silence (``Predictor.distance_windows``, ``fill="zeros"``). The networks were trained on
windows full of sound and noise (at most 2 s of lead-in, with the noise throughout), so a window
that is mostly silence is new to them. Each example of the card's sets (the same rooms, sources
and examples) is heard, through the app's own :meth:`~soundpred.predict.Predictor.distance_for_waveform`:

- ``plain``: as it is (4 s, one window: the card), and with ``trim`` (a lead-in of noise goes, and
  the window is then filled as below);
- ``zeros 3+3``: with 3 s of digital silence before and after (10 s, four windows), as the app
  cuts it and with ``trim`` (only the :func:`~soundpred.predict.sounding_span`);
- ``floor 3+3``: the same with white noise 60 dB under the example's RMS instead of silence (a
  quiet room between takes);
- ``first 2 s`` and ``first 1 s``: the example's start alone, the window filled with silence
  (``zeros``, the app), by repeating it (``loop``) or not at all (``own``: the networks pool over
  time).

Per set and treatment: MAE, relative error, rank correlation over all examples and the mean within
rooms, and the 10th-90th percentile of the estimates; then the treatments against each other,
paired over rooms (:func:`soundpred.metrics.paired_bootstrap`).
"""
from __future__ import annotations

import numpy as np

from soundpred.bundle import load_bundle
from soundpred.hub import resolve
from soundpred.predict import Predictor
from train.probe_common import card_parser, card_sets, print_paired, score_set, summary_head

PAD_S = 3.0
FLOOR_DB = -60.0

#: treatment: (how the example is changed, distance_for_waveform's options)
TREATMENTS = {
    "plain": ("plain", {}),
    "plain, trim": ("plain", {"trim": True}),
    "plain, trim+loop": ("plain", {"trim": True, "fill": "loop"}),
    "plain, trim+own": ("plain", {"trim": True, "fill": "own"}),
    "zeros 3+3": ("zeros", {}),
    "zeros 3+3, trim": ("zeros", {"trim": True}),
    "floor 3+3": ("floor", {}),
    "floor 3+3, trim": ("floor", {"trim": True}),
    "first 2 s, zeros": ("first2", {}),
    "first 2 s, loop": ("first2", {"fill": "loop"}),
    "first 2 s, own": ("first2", {"fill": "own"}),
    "first 1 s, zeros": ("first1", {}),
    "first 1 s, loop": ("first1", {"fill": "loop"}),
    "first 1 s, own": ("first1", {"fill": "own"}),
}
#: pairs compared over rooms: (new, old)
PAIRS = [("plain, trim", "plain"), ("plain, trim+loop", "plain"), ("plain, trim+own", "plain"),
         ("zeros 3+3", "plain"), ("zeros 3+3, trim", "zeros 3+3"), ("zeros 3+3, trim", "plain"),
         ("floor 3+3", "plain"), ("floor 3+3, trim", "floor 3+3"),
         ("first 2 s, loop", "first 2 s, zeros"), ("first 2 s, own", "first 2 s, zeros"),
         ("first 1 s, loop", "first 1 s, zeros"), ("first 1 s, own", "first 1 s, zeros")]


def changed(x: np.ndarray, how: str, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Example ``x`` as treatment ``how`` hears it (see the module's docstring)."""
    pad = int(PAD_S * sr)
    if how == "plain":
        return x
    if how == "zeros":
        return np.concatenate([np.zeros(pad, x.dtype), x, np.zeros(pad, x.dtype)])
    if how == "floor":
        rms = float(np.sqrt(np.mean(x.astype(np.float64) ** 2)))
        noise = (rms * 10 ** (FLOOR_DB / 20) * rng.standard_normal(2 * pad)).astype(x.dtype)
        return np.concatenate([noise[:pad], x, noise[pad:]])
    if how.startswith("first"):
        return x[:int(float(how[len("first"):]) * sr)]
    raise ValueError(how)


def main(argv=None):
    args = card_parser(__doc__).parse_args(argv)
    bundle = load_bundle(args.bundle)
    fe = bundle.frontend
    predictor = Predictor(resolve(None, "classification")[0], bundle)
    print(summary_head("treatment"))
    results, paired = {}, {}
    for s, x in card_sets(fe, args.sets):
        est = {}
        for name, (how, options) in TREATMENTS.items():
            rng = np.random.default_rng(0)
            est[name] = np.array([predictor.distance_for_waveform(changed(e, how, fe.sample_rate, rng), **options)[0]
                                  for e in x])
        score_set(s, est, PAIRS, results, paired)
    print_paired(paired, ("new", "old"))
    return results, paired


if __name__ == "__main__":
    main()
