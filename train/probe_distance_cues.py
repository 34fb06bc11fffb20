"""Probe: do blind cepstral features carry distance beyond the classical log-mel ones?

    python -m train.probe_distance_cues        # about 2 minutes once the room banks are cached

The floor and wall reflections that arrive a few ms after the direct sound comb-filter the
spectrum; their delay shrinks with the source distance (for the floor bounce, about 6 ms at
1 m and 1.3 ms at 10 m for heads 1.5 m above the floor). The frame-averaged power cepstrum at
quefrencies 0.5–12.5 ms is the textbook blind view of that comb. Gradient boosting of
log-distance on :func:`~train.distance_eval.classical_features`, on those cepstral features and on
both, is fitted on the training bank (two examples per RIR) and scored on the held-out and
shifted banks of ``train.distance`` (same seeds, same dry-source split), beside the median
guess.
"""
from __future__ import annotations

import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor

from soundpred.metrics import distance_summary
from soundpred.models import DISTANCE_FRONTEND as fe
from soundpred.rooms import SHIFTED, TRAIN
from train.distance_eval import classical_features, dry_sources, logmel_of, make_examples, room_banks


def cepstral_features(x: np.ndarray, n: int = 1024, hop: int = 256, qmin: int = 8, qmax: int = 200) -> np.ndarray:
    """Per example: the mean magnitude and the magnitude of the mean of the frame-wise real
    cepstrum at quefrencies ``qmin``–``qmax`` samples, over the louder half of the frames."""
    win = np.hanning(n)
    out = []
    for y in x:
        frames = np.lib.stride_tricks.sliding_window_view(y, n)[::hop] * win
        p = np.abs(np.fft.rfft(frames, axis=1)) ** 2
        e = p.sum(axis=1)
        p = p[e > np.percentile(e, 50)]
        c = np.fft.irfft(np.log(p + 1e-10 * p.max()), axis=1)[:, qmin:qmax]
        c = c / (np.abs(c).mean(axis=1, keepdims=True) + 1e-9)
        out.append(np.concatenate([np.abs(c).mean(axis=0), np.abs(c.mean(axis=0))]))
    return np.array(out)


def main():


    sr = fe.sample_rate
    banks = room_banks(sr)
    train, heldout, shifted = banks.train, banks.heldout, banks.shifted
    sets = {"held-out": (heldout, TRAIN, 11), "shifted": (shifted, SHIFTED, 12)}  # train.distance's example seeds
    d = dry_sources(sr)
    src = (d.train_speech, d.train_clips, d.eval_speech, d.eval_clips)

    def features(x):
        return classical_features(logmel_of(fe, x)), cepstral_features(x)

    xtr = np.concatenate([make_examples(train, src[0], src[1], TRAIN, n=fe.window_samples, sr=sr, seed=50 + r,
                                        speech_share=0.7) for r in range(2)])
    ytr = np.tile(np.log(train.distance), 2)
    f_train = features(xtr)
    del xtr
    f_eval = {k: features(make_examples(b, src[2], src[3], s, n=fe.window_samples, sr=sr, seed=seed, speech_share=0.7))
              for k, (b, s, seed) in sets.items()}
    median = float(np.exp(np.median(ytr)))
    print("| features | set | MAE m | rel. error | corr(pred, log d) | median guess MAE / rel. |\n|---|---|---|---|---|---|")
    for name, pick in (("classical", lambda f: f[0]), ("cepstral", lambda f: f[1]),
                       ("both", lambda f: np.c_[f[0], f[1]])):
        model = HistGradientBoostingRegressor(max_iter=300, learning_rate=0.05, random_state=0).fit(pick(f_train), ytr)
        for k, (bank, _, _) in sets.items():
            pred = model.predict(pick(f_eval[k]))
            s = distance_summary(np.exp(pred), bank.distance)
            g = distance_summary(np.full(len(bank), median), bank.distance)
            print(f"| {name} | {k} | {s['mae_m']:.3f} | {s['rel_error']:.3f} | "
                  f"{np.corrcoef(pred, np.log(bank.distance))[0, 1]:.3f} | {g['mae_m']:.3f} / {g['rel_error']:.3f} |")


if __name__ == "__main__":
    main()
