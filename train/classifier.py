"""Train and evaluate a sound classifier; write a model bundle.

    python -m train.classifier --data ../shared/data/fsd-starter --out models/classifier
    python -m train.classifier --arch student --out runs/student      # the seed project's model

Reads FSDKaggle2018 (Kaggle or Zenodo layout). A stratified tenth of the training
clips is held out for validation (curves, best-epoch choice); the test split is
only scored at the end. Recipe: random crops, square-root class balancing, mixup,
SpecAugment, random low-pass and noise (so the recording bandwidth of a source
is no cue), weight ``--unverified-weight`` on FSDKaggle2018's unverified labels.
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

import numpy as np

from train.common import adamw_cosine, add_hub_args, finish_bundle, write_history

DEFAULT_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "fsd-starter"


def display_path(p: Path) -> str:
    """A path as it reads from the repository root (no machine-specific prefix where avoidable)."""
    return os.path.relpath(Path(p).resolve(), Path(__file__).resolve().parent.parent)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="FSDKaggle2018 root (default: %(default)s)")
    p.add_argument("--extra", type=Path, action="append", default=[],
                   help="extra folder-per-class training data (label folders named as FSD labels)")
    p.add_argument("--out", type=Path, required=True, help="bundle folder to write")
    p.add_argument("--arch", choices=("cnn", "student"), default="cnn")
    p.add_argument("--epochs", type=int, default=60)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--width", type=int, default=24, help="channels of the first CNN block")
    p.add_argument("--mixup", type=float, default=0.4, help="mixup Beta alpha (0: off)")
    p.add_argument("--unverified-weight", type=float, default=0.5)
    p.add_argument("--val-fraction", type=float, default=0.1)
    p.add_argument("--limit", type=int, default=0, help="use only this many training clips (smoke runs)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-cache", action="store_true", help="do not cache decoded audio")
    p.add_argument("--verbose", type=int, default=1, help="Keras verbosity (1: progress bar)")
    add_hub_args(p)
    return p.parse_args(argv)


def stratified_split(labels: list[str], fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, val): ``fraction`` of each class (at least one if it has 3+) to val."""
    rng = np.random.default_rng(seed)
    train, val = [], []
    for lab in sorted(set(labels)):
        idx = rng.permutation([i for i, x in enumerate(labels) if x == lab])
        k = int(round(len(idx) * fraction)) if fraction > 0 else 0
        if fraction > 0 and k == 0 and len(idx) >= 3:
            k = 1
        val.extend(idx[:k])
        train.extend(idx[k:])
    return np.sort(train), np.sort(val)


def make_batches(waves, y, weights, n_classes, fe, args, *, augment: bool):
    """A Keras PyDataset yielding ``(waveforms, one-hot targets, sample weights)``."""
    import keras

    from train.data import add_noise, lowpass, random_crop

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


def write_card(meta: dict) -> str:
    m, tr = meta["metrics"], meta["training"]
    test = m.get("test", {})
    rows = "\n".join(f"| {k} | {v} |" for k, v in (("top-1", test.get("top1")), ("MAP@3", test.get("map3")),
                                                      ("macro recall", test.get("macro_recall")),
                                                      ("clips", test.get("n_clips"))))
    labels = ", ".join(meta["labels"])
    origins = "\n".join(f"- {k}: {v} clips" for k, v in tr["origins"].items())
    extra_note = ("\nExtra real recordings from packages (`python -m train.extra_data`): Debian "
                  "`hydrogen-drumkits` acoustic kits (GPL / CC per kit) and npm `tonejs-instrument-*` notes "
                  "(CC-BY 3.0 samples)." if tr.get("extra") else "")
    return f"""---
library_name: keras
license: other
tags: [audio, audio-classification, soundpred, fsdkaggle2018]
pipeline_tag: audio-classification
datasets: [fsdkaggle2018]
metrics:
- name: top1
  value: {test.get("top1")}
- name: map3
  value: {test.get("map3")}
---
# soundpred classifier: {meta["name"]}

Waveform in ({tr["frontend"]["sample_rate"]} Hz mono), scores over {len(meta["labels"])} of the
41 FSDKaggle2018 labels out. The log-mel front end is a layer inside the model.

## Data
Trained on `{tr["data"]}` ({tr["n_train"]} clips; {tr["n_val"]} held out for validation).
{origins}

The starter set mixes genuine FSDKaggle2018 clips (per-clip Creative Commons), DCASE2016 task 2
office sounds, a cat/dog set and a glass-break set (research use). The weights are derived from
that audio: check those licences before any commercial use.{extra_note}

Labels: {labels}

## Metrics on the test split (`{tr["data"]}`, sliding {tr["frontend"]["window_seconds"]} s windows averaged)
| metric | value |
|---|---|
{rows}

## Training
`{tr["command"]}` — {tr["epochs"]} epochs, {tr["train_seconds"]:.0f} s on {tr["machine"]}.
Architecture `{tr["arch"]}`, {tr["params"]} parameters.
"""


def main(argv=None):
    args = parse_args(argv)
    import keras

    from soundpred.bundle import Bundle, save_bundle
    from soundpred.data import read_fsdkaggle2018, read_folders
    from soundpred.labels import FSD_LABELS
    from soundpred.metrics import confusion_matrix, summarize
    from soundpred.models import STUDENT_FRONTEND, build_classifier, build_student
    from soundpred.params import FrontEnd
    from soundpred.plots import confusion_figure
    from soundpred.predict import Predictor
    from train.data import load_waveforms

    keras.utils.set_random_seed(args.seed)
    train_clips = read_fsdkaggle2018(args.data, "train")
    for folder in args.extra:
        train_clips += read_folders(folder, origin=folder.name)
    test_clips = read_fsdkaggle2018(args.data, "test")
    if args.limit:
        rng = np.random.default_rng(args.seed)
        train_clips = [train_clips[i] for i in sorted(rng.choice(len(train_clips), args.limit, replace=False))]
        test_clips = test_clips[: max(4, args.limit // 4)]
    labels = [lab for lab in FSD_LABELS if lab in {c.label for c in train_clips}]
    index = {lab: i for i, lab in enumerate(labels)}
    test_clips = [c for c in test_clips if c.label in index]

    fe = STUDENT_FRONTEND if args.arch == "student" else FrontEnd()
    train_clips, waves = load_waveforms(train_clips, fe.sample_rate, desc="decoding train", cache=not args.no_cache)
    test_clips, test_waves = load_waveforms(test_clips, fe.sample_rate, desc="decoding test", cache=not args.no_cache)
    y = np.array([index[c.label] for c in train_clips])
    weights = np.array([1.0 if c.verified else args.unverified_weight for c in train_clips])
    tr_idx, va_idx = stratified_split([c.label for c in train_clips], args.val_fraction, args.seed)
    print(f"{len(tr_idx)} train, {len(va_idx)} val, {len(test_clips)} test clips; {len(labels)} labels",
          file=sys.stderr)

    augment = args.arch == "cnn"
    if args.arch == "cnn":
        model = build_classifier(fe, len(labels), width=args.width)
        steps = math.ceil(len(tr_idx) / args.batch_size)
        opt = adamw_cosine(args.lr, args.epochs * steps, 2 * steps)
        loss = keras.losses.CategoricalCrossentropy(label_smoothing=0.05)
    else:
        model = build_student(fe, len(labels))
        opt = keras.optimizers.Adam(1e-3)
        loss = keras.losses.CategoricalCrossentropy()
    model.compile(optimizer=opt, loss=loss, metrics=["categorical_accuracy"])

    bundle = Bundle(model=model, frontend=fe, task="classification", labels=labels)
    predictor = Predictor(bundle)
    val_waves, val_y = [waves[i] for i in va_idx], y[va_idx]

    class ValMap(keras.callbacks.Callback):
        """Validation MAP@3 as served (sliding windows); keeps the best weights."""

        def __init__(self):
            super().__init__()
            self.best, self.best_weights, self.best_epoch = -1.0, None, 0

        def on_epoch_end(self, epoch, logs=None):
            if not len(val_y):
                return
            s = summarize(evaluate(predictor, val_waves, val_y), val_y, labels)
            logs["val_map3"], logs["val_top1"] = s["map3"], s["top1"]
            if s["map3"] >= self.best:
                self.best, self.best_weights, self.best_epoch = s["map3"], model.get_weights(), epoch + 1

    cb = ValMap()
    data = make_batches([waves[i] for i in tr_idx], y[tr_idx], weights[tr_idx], len(labels), fe, args,
                        augment=augment)
    t0 = time.time()
    hist = model.fit(data, epochs=args.epochs, callbacks=[cb], verbose=args.verbose)
    train_seconds = time.time() - t0
    if cb.best_weights is not None:
        model.set_weights(cb.best_weights)
    print(f"trained in {train_seconds:.0f} s; best val MAP@3 {cb.best:.3f} at epoch {cb.best_epoch}",
          file=sys.stderr)

    test_y = np.array([index[c.label] for c in test_clips])
    test_scores = evaluate(predictor, test_waves, test_y)
    metrics = {"test": summarize(test_scores, test_y, labels), "val_map3": round(cb.best, 4),
               "best_epoch": cb.best_epoch,
               "train_top1_last_epoch": round(float(hist.history["categorical_accuracy"][-1]), 4)}
    origins = Counter(c.origin for c in train_clips)
    meta = {"name": f"soundpred-{args.arch}-{len(labels)}", "labels": labels, "metrics": metrics,
            "training": {"data": display_path(args.data), "extra": [e.name for e in args.extra],
                         "origins": dict(origins), "n_train": int(len(tr_idx)), "n_val": int(len(va_idx)),
                         "arch": args.arch, "epochs": args.epochs, "params": int(model.count_params()),
                         "seed": args.seed, "train_seconds": round(train_seconds, 1),
                         "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
                         "frontend": fe.to_dict(),
                         "command": "python -m train.classifier " + " ".join(sys.argv[1:] if argv is None else argv)}}
    card = write_card(meta)
    save_bundle(model, args.out, frontend=fe, task="classification", labels=labels, metrics=metrics,
                training=meta["training"], card=card, name=meta["name"])
    write_history(args.out, hist.history)
    confusion_figure(confusion_matrix(test_scores, test_y, len(labels)), labels,
                     title=f"test split, top-1 {metrics['test']['top1']:.3f}").savefig(
        args.out / "figures" / "confusion_test.png")
    print(json.dumps({k: metrics["test"][k] for k in ("top1", "map3", "macro_recall", "n_clips")}))
    finish_bundle(args, labels)
    return metrics


if __name__ == "__main__":
    main()
