"""Train and evaluate a sound classifier; write a model bundle.

    python -m train.classifier --out runs/yamnet41                    # YAMNet backbone, all 41 labels
    python -m train.classifier --data /data/FSDKaggle2018 --more-real none --out runs/fsd
    python -m train.classifier --arch cnn --out runs/cnn              # the from-scratch log-mel CNN
    python -m train.classifier --arch student --out runs/student      # the seed project's model

Reads FSDKaggle2018 (Kaggle or Zenodo layout) and, by default, ``../shared/data/more-real``
(whole recording groups held out for validation, see ``train.data.group_split``). A
stratified tenth of the FSDKaggle2018 training clips is held out for validation too
(curves, best-epoch choice); the test split is only scored at the end.

``--arch yamnet`` (default) fine-tunes the AudioSet-pretrained YAMNet (``train.finetune``:
distillation from the frozen YAMNet keeps the labels that have no clips; then the
open-set decision is fitted, ``train.open_set``). The other architectures train from
scratch. Common recipe: random crops, square-root class balancing, mixup, SpecAugment,
random low-pass and noise (so the recording bandwidth of a source is no cue), weight
``--unverified-weight`` on FSDKaggle2018's unverified labels.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from collections import Counter
from pathlib import Path

import keras
import numpy as np

from soundpred.bundle import Bundle, save_bundle
from soundpred.labels import FSD_LABELS
from soundpred.metrics import confusion_matrix, summarize
from soundpred.models import STUDENT_FRONTEND, build_classifier, build_student
from soundpred.params import FrontEnd
from soundpred.paths import MORE_REAL, STARTER
from soundpred.plots import confusion_figure
from soundpred.predict import Predictor
from soundpred.yamnet import YAMNET_FRONTEND, build_yamnet, init_label_head, read_class_map
from train import finetune as ft
from train import open_set
from train.cards import write_card
from train.common import HubPush, adamw_cosine, add_hub_args, finish_bundle, options_json, write_history
from train.data import (VAL_FRACTION, add_noise, load_training_clips, load_waveforms, lowpass, random_crop,
                        stratified_split)
from train.import_yamnet import DEFAULT_CLASS_MAP, DEFAULT_TFLITE, build_audioset_model, load_weights, tflite_weights

DEFAULT_DATA = STARTER
#: Fraction of more-real's recording groups held out for validation and evaluation.


def display_path(p: Path) -> str:
    """A path as it reads from the repository root (no machine-specific prefix where avoidable)."""
    return os.path.relpath(Path(p).resolve(), Path(__file__).resolve().parent.parent)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="FSDKaggle2018 root (default: %(default)s)")
    p.add_argument("--extra", type=Path, action="append", default=[],
                   help="extra folder-per-class training data (label folders named as FSD labels)")
    p.add_argument("--more-real", default=str(MORE_REAL),
                   help="more-real folder (Kaggle layout + sources.csv), or 'none' (default: %(default)s)")
    p.add_argument("--out", type=Path, required=True, help="bundle folder to write")
    p.add_argument("--arch", choices=("yamnet", "cnn", "student"), default="yamnet")
    p.add_argument("--epochs", type=int, default=None, help="default: 10 (yamnet, phase 2), 60 (cnn)")
    p.add_argument("--batch-size", type=int, default=None, help="default: 64 (yamnet), 32 (cnn)")
    p.add_argument("--lr", type=float, default=None, help="default: 1e-3 (yamnet heads; body at a tenth), 2e-3 (cnn)")
    g = p.add_argument_group("YAMNet fine-tuning (train.finetune)")
    g.add_argument("--head-epochs", type=int, default=3, help="epochs of label head alone first")
    g.add_argument("--steps", type=int, default=100, help="batches per epoch")
    g.add_argument("--unfreeze", type=int, default=4, help="top MobileNet layers trained in phase 2 (0-14)")
    g.add_argument("--distill", type=float, default=0.3, help="weight of the teacher in the label target")
    g.add_argument("--audioset-weight", type=float, default=1.0, help="weight of the AudioSet distillation loss")
    g.add_argument("--no-open-set", action="store_true", help="skip fitting the open-set decision")
    p.add_argument("--width", type=int, default=24, help="channels of the first CNN block")
    p.add_argument("--mixup", type=float, default=0.4, help="mixup Beta alpha (0: off)")
    p.add_argument("--unverified-weight", type=float, default=0.5)
    p.add_argument("--val-fraction", type=float, default=VAL_FRACTION)
    p.add_argument("--limit", type=int, default=0, help="use only this many training clips (smoke runs)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-cache", action="store_true", help="do not cache decoded audio")
    p.add_argument("--tflite", type=Path, default=None, help="YAMNet TFLite file (default: ../shared/pretrained/yamnet)")
    p.add_argument("--verbose", type=int, default=1, help="Keras verbosity (1: progress bar)")
    add_hub_args(p)
    return p.parse_args(argv)


def make_batches(waves, y, weights, n_classes, fe, args, *, augment: bool):
    """A Keras PyDataset yielding ``(waveforms, one-hot targets, sample weights)``."""


    counts = np.bincount(y, minlength=n_classes).astype(float)
    probs = 1.0 / np.sqrt(counts[y]) if augment else np.ones(len(y))
    probs /= probs.sum()
    win, sr = fe.window_samples, fe.sample_rate
    steps = max(1, math.ceil(len(y) / args.batch_size))

    class Batches(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.rng = np.random.default_rng(args.seed)

        def __len__(self):
            return steps

        def _one(self, i):
            rng = self.rng
            if not augment:  # the seed's pipeline: the first window, padded
                x = waves[i][:win]
                return np.pad(x, (0, win - len(x)))
            x = random_crop(waves[i], win, rng)
            if rng.random() < 0.3:
                x = lowpass(x, sr, rng.uniform(2500, sr / 2))
            if rng.random() < 0.3:
                x = add_noise(x, rng.uniform(10, 40), rng, colour=rng.choice([0.0, 1.0, 2.0]))
            return x * rng.uniform(0.1, 1.0)

        def __getitem__(self, step):
            rng = self.rng
            idx = rng.choice(len(y), size=args.batch_size, p=probs)
            x = np.stack([self._one(i) for i in idx]).astype(np.float32)
            t = np.eye(n_classes, dtype=np.float32)[y[idx]]
            w = weights[idx].astype(np.float32)
            if augment and args.mixup > 0:
                lam = rng.beta(args.mixup, args.mixup, size=(len(idx), 1)).astype(np.float32)
                lam = np.maximum(lam, 1 - lam)  # the first clip dominates
                perm = rng.permutation(len(idx))
                x = lam * x + (1 - lam) * x[perm]
                t = lam * t + (1 - lam) * t[perm]
                w = lam[:, 0] * w + (1 - lam[:, 0]) * w[perm]
            return x, t, w

    return Batches()


def evaluate(predictor, waves, y) -> np.ndarray:
    """Clip scores as served: sliding windows, averaged over the non-quiet ones."""
    return np.stack([predictor.clip_scores(w) for w in waves])


def main(argv=None):
    args = parse_args(argv)
    yamnet = args.arch == "yamnet"
    args.epochs = args.epochs if args.epochs is not None else (10 if yamnet else 60)
    args.batch_size = args.batch_size or (64 if yamnet else 32)
    args.lr = args.lr or (1e-3 if yamnet else 2e-3)


    keras.utils.set_random_seed(args.seed)
    train_clips, held_clips, test_clips = load_training_clips(args.data, extra=args.extra, more_real=args.more_real,
                                                              limit=args.limit, seed=args.seed)
    if yamnet:  # the head covers all 41 labels: the ones without clips rest on AudioSet
        labels = list(FSD_LABELS)
    else:
        labels = [lab for lab in FSD_LABELS if lab in {c.label for c in train_clips}]
    index = {lab: i for i, lab in enumerate(labels)}
    test_clips = [c for c in test_clips if c.label in index]
    held_clips = [c for c in held_clips if c.label in index]

    if yamnet:
        fe = YAMNET_FRONTEND
    else:
        fe = STUDENT_FRONTEND if args.arch == "student" else FrontEnd()
    cache = not args.no_cache
    train_clips, waves = load_waveforms(train_clips, fe.sample_rate, desc="decoding train", cache=cache)
    test_clips, test_waves = load_waveforms(test_clips, fe.sample_rate, desc="decoding test", cache=cache)
    held_clips, held_waves = load_waveforms(held_clips, fe.sample_rate, desc="decoding held-out", cache=cache)
    y = np.array([index[c.label] for c in train_clips])
    weights = np.array([1.0 if c.verified else args.unverified_weight for c in train_clips])
    fsd = [i for i, c in enumerate(train_clips) if c.origin == "fsdkaggle2018"]
    rest = [i for i, c in enumerate(train_clips) if c.origin != "fsdkaggle2018"]
    tr_f, va_f = stratified_split([train_clips[i].label for i in fsd], args.val_fraction, args.seed)
    tr_idx = np.sort(np.concatenate([np.asarray(fsd, int)[tr_f], np.asarray(rest, int)])).astype(int)
    va_idx = np.asarray(fsd, int)[va_f]
    val_waves = [waves[i] for i in va_idx] + held_waves
    val_y = np.concatenate([y[va_idx], [index[c.label] for c in held_clips]]).astype(int)
    print(f"{len(tr_idx)} train, {len(val_y)} validation ({len(held_clips)} of them more-real held out), "
          f"{len(test_clips)} test clips; {len(labels)} labels", file=sys.stderr)

    extra_meta = {}
    if yamnet:

        class_names = read_class_map(DEFAULT_CLASS_MAP)
        args.tflite = args.tflite or DEFAULT_TFLITE
        imported = tflite_weights(args.tflite)
        model = build_yamnet(len(labels), spec_augment=True, dropout=0.2, name="soundpred_yamnet")
        load_weights(model, imported)
        no_audioset = init_label_head(model, labels, class_names)
        teacher = build_audioset_model(args.tflite)
        cfg = ft.FinetuneConfig(head_epochs=args.head_epochs, epochs=args.epochs, steps=args.steps,
                                batch_size=args.batch_size, lr=args.lr, unfreeze=args.unfreeze,
                                distill=args.distill, audioset_weight=args.audioset_weight, mixup=args.mixup,
                                seed=args.seed)
        data = ft.YamnetBatches([waves[i] for i in tr_idx], y[tr_idx], weights[tr_idx], labels, teacher,
                                class_names, cfg, fe.window_samples, fe.sample_rate)
        extra_meta = {"audioset_labels": class_names}
    elif args.arch == "cnn":
        model = build_classifier(fe, len(labels), width=args.width)
        steps = math.ceil(len(tr_idx) / args.batch_size)
        model.compile(optimizer=adamw_cosine(args.lr, args.epochs * steps, 2 * steps),
                      loss=keras.losses.CategoricalCrossentropy(label_smoothing=0.05),
                      metrics=["categorical_accuracy"])
    else:
        model = build_student(fe, len(labels))
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=keras.losses.CategoricalCrossentropy(),
                      metrics=["categorical_accuracy"])

    bundle = Bundle(model=model, frontend=fe, task="classification", labels=labels,
                    meta={"audioset_labels": extra_meta.get("audioset_labels", [])})
    predictor = Predictor(bundle)

    class ValMap(keras.callbacks.Callback):
        """Validation MAP@3 as served (sliding windows); keeps the best weights."""

        def __init__(self):
            super().__init__()
            self.best, self.best_weights, self.best_epoch, self.epoch = -1.0, None, 0, 0

        def on_epoch_end(self, epoch, logs=None):
            self.epoch += 1
            if not len(val_y):
                return
            s = summarize(evaluate(predictor, val_waves, val_y), val_y, labels)
            logs["val_map3"], logs["val_top1"] = s["map3"], s["top1"]
            print(f"epoch {self.epoch}: validation top-1 {s['top1']:.3f}, MAP@3 {s['map3']:.3f}", file=sys.stderr)
            if s["map3"] >= self.best:
                self.best, self.best_weights, self.best_epoch = s["map3"], model.get_weights(), self.epoch

    cb = ValMap()
    t0 = time.time()
    if yamnet:
        history = ft.finetune(model, data, cfg, callbacks=[cb], verbose=args.verbose)
        epochs_run = args.head_epochs + args.epochs
    else:
        data = make_batches([waves[i] for i in tr_idx], y[tr_idx], weights[tr_idx], len(labels), fe, args,
                            augment=args.arch == "cnn")
        history = model.fit(data, epochs=args.epochs, callbacks=[cb], verbose=args.verbose).history
        epochs_run = args.epochs
    train_seconds = time.time() - t0
    if cb.best_weights is not None:
        model.set_weights(cb.best_weights)
    print(f"trained in {train_seconds:.0f} s; best validation MAP@3 {cb.best:.3f} at epoch {cb.best_epoch}",
          file=sys.stderr)

    test_y = np.array([index[c.label] for c in test_clips])
    test_scores = evaluate(predictor, test_waves, test_y)
    metrics = {"test": summarize(test_scores, test_y, labels), "val_map3": round(cb.best, 4),
               "best_epoch": cb.best_epoch}
    if held_clips:
        held_y = np.array([index[c.label] for c in held_clips])
        metrics["more_real_held_out"] = summarize(evaluate(predictor, held_waves, held_y), held_y, labels)
    if yamnet:
        seen = set(y[tr_idx].tolist())
        metrics["labels_without_clips"] = [lab for i, lab in enumerate(labels) if i not in seen]
        metrics["labels_without_audioset_class"] = no_audioset
    origins = Counter(c.origin for c in (train_clips[i] for i in tr_idx))
    meta = {"name": f"soundpred-{args.arch}-{len(labels)}", "labels": labels, "metrics": metrics,
            "training": {"data": display_path(args.data), "extra": [e.name for e in args.extra],
                         "more_real": None if args.more_real == "none" else display_path(Path(args.more_real)),
                         "origins": dict(origins), "n_train": int(len(tr_idx)), "n_val": int(len(val_y)),
                         "arch": args.arch, "epochs": epochs_run, "params": int(model.count_params()),
                         "seed": args.seed, "train_seconds": round(train_seconds, 1),
                         "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
                         "frontend": fe.to_dict(),
                         "finetune": None if not yamnet else {k: v for k, v in vars(cfg).items()},
                         "command": "python -m train.classifier " + " ".join(sys.argv[1:] if argv is None else argv)}}
    card = write_card(meta)
    save_bundle(model, args.out, frontend=fe, task="classification", labels=labels, metrics=metrics,
                training=meta["training"], card=card, name=meta["name"], **extra_meta)
    write_history(args.out, history)
    confusion_figure(confusion_matrix(test_scores, test_y, len(labels)), labels,
                     title=f"test split, top-1 {metrics['test']['top1']:.3f}").savefig(
        args.out / "figures" / "confusion_test.png")
    print(json.dumps({k: metrics["test"][k] for k in ("top1", "map3", "macro_recall", "n_clips")}))
    finish_bundle(args.out, options_json(args), labels, push=HubPush.from_args(args))
    if yamnet and not args.no_open_set:

        open_set.main([str(args.out)])
    return metrics


if __name__ == "__main__":
    main()
