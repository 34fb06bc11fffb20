"""Probe: does the AudioSet backbone (YAMNet) carry distance beyond the default distance model?

    python -m train.probe_yamnet_distance        # about 7 minutes on 2 cores once the banks are cached

Issue 12 allows the classifier's AudioSet backbone as an extra input to the distance model "only
if it measurably helps". Before any network is built around it, this probe asks the question
cheaply:

- **YAMNet features**: YAMNet as published (``../shared/pretrained/yamnet``) on each example
  scaled to one RMS first (no level reaches it, the distance model's rule): the 1024-d embedding
  and the time mean and spread of a middle layer (``layer6_pw``, where the network still sees
  texture rather than classes), 32 principal components each. Gradient boosting of log distance
  on them is fitted on two examples of each training-room response; so is the same on
  :func:`~train.distance_eval.classical_features`, for comparison.
- **Stacks**: least squares of log distance on the default's belief (mu and log sigma, room kind
  ``auto``) alone (the control: a recalibration with no new information) and with those
  predictions, fitted on the validation rooms of ``train.ensemble`` (training and hybrid settings,
  seeds +700 and +800, training dry sources, three examples per response with seeds no evaluation
  set uses), which no member of the default was trained on.
- **Scored on** the same held-out, shifted, broad and hybrid examples as
  ``python -m train.distance --evaluate`` (same seeds), so the default's rows repeat its figures.

The backbone helps only if the belief plus YAMNet beats the belief alone, on held-out and
shifted simulation, in MAE, relative error and rank correlation. Results: docs/distance.md.
"""
from __future__ import annotations

import argparse
import functools
import sys
import time

import keras
import numpy as np
from sklearn.decomposition import PCA
from sklearn.ensemble import HistGradientBoostingRegressor

from soundpred.bundle import load_bundle
from soundpred.distance import point_estimate, point_shrink
from soundpred.hub import EMBEDDED
from soundpred.metrics import distance_summary
from soundpred.rooms import TRAIN
from train.distance_eval import (DistanceConfig, classical_features, logmel_of, dry_sources, eval_sets, make_examples, predict_model, room_banks,
                                 validation_sets)
from train.import_yamnet import DEFAULT_TFLITE, build_audioset_model

MID_LAYER = "layer6_pw"
COMPONENTS = 32
FIT_REPEATS = 3
TRAIN_REPEATS = 2


@functools.cache
def _probe(tflite) -> keras.Model:
    yam = build_audioset_model(tflite)
    return keras.Model(yam.input, [yam.get_layer("embedding").output, yam.get_layer(MID_LAYER).output])


def yamnet_features(x: np.ndarray, tflite=DEFAULT_TFLITE, batch: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """``(embedding (n, 1024), middle layer's time mean and std (n, 512))`` of each 16 kHz example,
    each scaled to RMS 0.05 first."""
    probe = _probe(str(tflite))
    rms = np.sqrt(np.mean(x.astype(np.float64) ** 2, axis=1, keepdims=True)) + 1e-9
    x = (0.05 * x / rms).astype(np.float32)
    emb, mids = [], []
    for i in range(0, len(x), batch):
        e, m = (np.asarray(v) for v in probe.predict_on_batch(x[i:i + batch]))
        m = m.mean(axis=2)  # over frequency
        emb.append(e)
        mids.append(np.concatenate([m.mean(axis=1), m.std(axis=1)], axis=1))
    return np.concatenate(emb), np.concatenate(mids)


def regressor(seed: int = 0) -> HistGradientBoostingRegressor:
    return HistGradientBoostingRegressor(max_iter=300, learning_rate=0.05, max_leaf_nodes=15, l2_regularization=1.0,
                                         min_samples_leaf=40, random_state=seed)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=str(EMBEDDED["distance"]), help="distance bundle (default: the embedded one)")
    ap.add_argument("--tflite", default=str(DEFAULT_TFLITE), help="YAMNet's published weights")
    ap.add_argument("--stack-on", choices=("both", "training"), default="both",
                    help="validation rooms the stacks are fitted on: both sets, or only those of the training "
                         "settings (the held-out set's distances)")
    args = ap.parse_args(argv)
    t0 = time.time()
    config = DistanceConfig()
    keras.utils.set_random_seed(config.seed)
    bundle = load_bundle(args.model)
    fe = bundle.frontend
    sr = fe.sample_rate
    shrink = point_shrink(bundle.meta)
    sources = dry_sources(sr, n_speech=config.speech, data=config.data)
    banks = room_banks(sr, rooms=config.rooms, eval_rooms=config.eval_rooms, seed=config.seed)

    # A: the training rooms (the ensemble was trained on them, so only YAMNet is fitted here)
    xa = np.concatenate([make_examples(banks.train, sources.train_speech, sources.train_clips, TRAIN,
                                       n=fe.window_samples, sr=sr, seed=50 + r, speech_share=config.speech_share)
                         for r in range(TRAIN_REPEATS)])
    ya = np.tile(np.log(banks.train.distance), TRAIN_REPEATS)
    emb_a, mid_a = yamnet_features(xa, args.tflite)
    classical_a = classical_features(logmel_of(fe, xa))
    del xa
    pca = {"emb": PCA(COMPONENTS, random_state=0).fit(emb_a), "mid": PCA(COMPONENTS, random_state=0).fit(mid_a)}

    def yam_design(f):
        return np.c_[pca["emb"].transform(f["emb"]), pca["mid"].transform(f["mid"])]

    yam_model = regressor().fit(yam_design({"emb": emb_a, "mid": mid_a}), ya)
    classical_model = regressor().fit(classical_a, ya)
    print(f"fitted on {len(ya)} training-room examples ({time.time() - t0:.0f} s)", file=sys.stderr)

    def features(bank, settings, speech, clips, seed):
        x = make_examples(bank, speech, clips, settings, n=fe.window_samples, sr=sr, seed=seed,
                          speech_share=config.speech_share)
        mu, log_sigma = predict_model(bundle.model, x)
        emb, mid = yamnet_features(x, args.tflite)
        f = {"mu": mu, "log_sigma": log_sigma, "emb": emb, "mid": mid}
        f["yamnet"] = yam_model.predict(yam_design(f))
        f["classical"] = classical_model.predict(classical_features(logmel_of(fe, x)))
        return f

    # B: the validation rooms (no member saw them): linear stacks of the belief with each probe
    fit, fit_d = [], []
    for s in validation_sets(sources, sr, seed=config.seed)[:1 if args.stack_on == "training" else 2]:
        for r in range(FIT_REPEATS):
            fit.append(features(s.bank, s.settings, s.speech, s.clips, seed=s.seed + 100 * (r + 1)))
            fit_d.append(s.bank.distance)
    fit = {k: np.concatenate([f[k] for f in fit]) for k in fit[0]}
    y = np.log(np.concatenate(fit_d))
    print(f"stacks fitted on {len(y)} validation examples ({time.time() - t0:.0f} s)", file=sys.stderr)

    variants = {"belief": ("mu", "log_sigma"), "belief + classical": ("mu", "log_sigma", "classical"),
                "belief + YAMNet": ("mu", "log_sigma", "yamnet"),
                "belief + classical + YAMNet": ("mu", "log_sigma", "classical", "yamnet")}

    def design(f, cols):
        return np.c_[np.ones(len(f["mu"])), np.stack([f[c] for c in cols], axis=1)]

    stacks = {n: np.linalg.lstsq(design(fit, cols), y, rcond=None)[0] for n, cols in variants.items()}
    for n, w in stacks.items():
        print(f"stack {n}: " + ", ".join(f"{c} {v:+.3f}" for c, v in zip(("1",) + variants[n], w)), file=sys.stderr)
    median = float(np.median(banks.train.distance))  # the median guess of --evaluate

    keys = ("mae_m", "rel_error", "spearman", "spearman_within_room", "slope_within_room")
    print("| set | model | MAE m | rel. error | rank corr. | within-room rank | within-room slope |")
    print("|---|---|---|---|---|---|---|")
    for s in eval_sets(banks, sources, config.seed):
        if s.name == "training rooms":
            continue
        f = features(s.bank, s.settings, s.speech, s.clips, s.seed)
        d, room = s.bank.distance, s.bank.room
        rows = {"default (as --evaluate)": point_estimate(f["mu"], np.exp(f["log_sigma"]), shrink)}
        rows["YAMNet alone (training rooms)"] = np.exp(f["yamnet"])
        rows["classical features alone (training rooms)"] = np.exp(f["classical"])
        rows.update({f"stack: {n}": np.exp(design(f, variants[n]) @ w) for n, w in stacks.items()})
        rows["median guess"] = np.full(len(d), median)
        for name, est in rows.items():
            summ = distance_summary(est, d, room=room)
            print(f"| {s.name} | {name} | " + " | ".join(
                "–" if summ.get(k) is None or summ[k] != summ[k] else f"{summ[k]:.3f}" for k in keys) + " |")
        sys.stdout.flush()
    print(f"({time.time() - t0:.0f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
