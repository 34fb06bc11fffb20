"""Fine-tuning the YAMNet backbone for the 41 labels (used by ``python -m train.classifier``).

Recipe:

- the student is :func:`soundpred.yamnet.build_yamnet` with the imported AudioSet weights;
  its 41-label head starts from the AudioSet rows of the labels YAMNet has;
- batches of 0.975 s crops (loud ones: a crop 40 dB under the clip's loudest window is
  drawn again), square-root class balancing, random gain (the features keep the level),
  low-pass and coloured noise, mixup, SpecAugment inside the model;
- **distillation**: a frozen copy of YAMNet (the teacher) scores every batch as it is fed.
  The label target is ``(1 - distill) * label + distill * teacher``, where the teacher's
  distribution over the labels is the softmax of its AudioSet logits for the mapped labels;
  and the AudioSet head is trained towards the teacher's 521 scores. Labels without any
  training clip (Applause, Fireworks, ...) only ever see this teacher signal, which keeps
  what AudioSet taught them; the AudioSet head stays frozen, so the backbone must stay
  compatible with it;
- phase 1 trains the label head alone (``head_epochs``); phase 2 also unfreezes the top
  ``unfreeze`` MobileNet layers at a tenth of the learning rate.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import keras
import numpy as np

from soundpred.yamnet import BODY, audioset_index
from train.common import adamw_cosine
from train.data import add_noise, lowpass, random_crop

__all__ = ["FinetuneConfig", "YamnetBatches", "teacher_label_distribution", "set_trainable", "finetune"]

#: A crop this far below the clip's loudest window is drawn again (up to 5 times).
CROP_GATE_DB = 30.0


@dataclass(frozen=True)
class FinetuneConfig:
    head_epochs: int = 3
    epochs: int = 10
    steps: int = 100
    batch_size: int = 64
    lr: float = 1e-3
    unfreeze: int = 4
    distill: float = 0.3
    audioset_weight: float = 1.0
    mixup: float = 0.4
    label_smoothing: float = 0.0
    seed: int = 0


def teacher_label_distribution(audioset_probs: np.ndarray, mapped: np.ndarray) -> np.ndarray:
    """Softmax over the labels of the teacher's AudioSet logits; ``mapped[j]`` is label j's
    AudioSet index or -1 (no AudioSet class: probability 0)."""
    p = np.clip(audioset_probs[:, np.maximum(mapped, 0)], 1e-6, 1 - 1e-6)
    z = np.log(p / (1 - p))
    z[:, mapped < 0] = -np.inf
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


def loud_crop(y: np.ndarray, n: int, rng: np.random.Generator, peak_rms: float) -> np.ndarray:
    """A random ``n``-sample crop that is not near-silent (compared with ``peak_rms``)."""
    if len(y) <= n:
        return random_crop(y, n, rng)  # placed at a random offset in zeros
    for _ in range(5):
        s = rng.integers(0, len(y) - n + 1)
        x = y[s:s + n]
        if 20 * np.log10(np.sqrt(np.mean(x ** 2)) / peak_rms + 1e-12) > -CROP_GATE_DB:
            break
    return x


def window_peak_rms(y: np.ndarray, n: int) -> float:
    m = max(1, len(y) // n)
    blocks = y[: m * n].reshape(m, -1) if len(y) >= n else y[None]
    return float(np.sqrt((blocks ** 2).mean(axis=1)).max()) + 1e-9


class YamnetBatches(keras.utils.PyDataset):
    """``(waveforms, (label targets, AudioSet targets), (weights, weights))`` with teacher targets."""

    def __init__(self, waves, y, weights, labels, teacher, class_names, cfg: FinetuneConfig, win: int, sr: int):
        super().__init__()
        self.waves, self.y, self.weights = waves, np.asarray(y), np.asarray(weights, np.float32)
        self.n_labels, self.teacher, self.cfg, self.win, self.sr = len(labels), teacher, cfg, win, sr
        index = audioset_index(labels, class_names)
        self.mapped = np.array([index.get(lab, -1) for lab in labels])
        counts = np.bincount(self.y, minlength=self.n_labels).astype(float)
        self.probs = 1.0 / np.sqrt(counts[self.y])
        self.probs /= self.probs.sum()
        self.peaks = [window_peak_rms(w, win) for w in waves]
        self.rng = np.random.default_rng(cfg.seed)

    def __len__(self):
        return self.cfg.steps

    def _one(self, i):
        rng = self.rng
        x = loud_crop(self.waves[i], self.win, rng, self.peaks[i])
        if rng.random() < 0.3:
            x = lowpass(x, self.sr, rng.uniform(2500, self.sr / 2))
        if rng.random() < 0.3:
            x = add_noise(x, rng.uniform(10, 40), rng, colour=rng.choice([0.0, 1.0, 2.0]))
        peak = np.abs(x).max() + 1e-9
        return x / peak * 10 ** (rng.uniform(-30, -1) / 20)  # YAMNet's features keep the level

    def __getitem__(self, step):
        rng, cfg = self.rng, self.cfg
        idx = rng.choice(len(self.y), size=cfg.batch_size, p=self.probs)
        x = np.stack([self._one(i) for i in idx]).astype(np.float32)
        t = np.eye(self.n_labels, dtype=np.float32)[self.y[idx]]
        w = self.weights[idx]
        if cfg.mixup > 0:
            lam = rng.beta(cfg.mixup, cfg.mixup, size=(len(idx), 1)).astype(np.float32)
            lam = np.maximum(lam, 1 - lam)
            perm = rng.permutation(len(idx))
            x = lam * x + (1 - lam) * x[perm]
            t = lam * t + (1 - lam) * t[perm]
            w = lam[:, 0] * w + (1 - lam[:, 0]) * w[perm]
        teacher = np.asarray(self.teacher.predict_on_batch(x), np.float32)
        if cfg.distill > 0:
            t = (1 - cfg.distill) * t + cfg.distill * teacher_label_distribution(teacher, self.mapped)
        return x, (t, teacher), (w, w)


def body_layers(model: keras.Model) -> list[list[keras.layers.Layer]]:
    """The 14 MobileNet layers, each as its Keras layers (one conv, or depthwise + pointwise)."""
    out = []
    for i, (kind, _, _) in enumerate(BODY, start=1):
        names = [f"layer{i}"] if kind == "conv" else [f"layer{i}_dw", f"layer{i}_pw"]
        out.append([model.get_layer(n) for n in names])
    return out


def set_trainable(model: keras.Model, unfreeze: int) -> None:
    """Train the label head and the top ``unfreeze`` MobileNet layers; the rest and the
    AudioSet head stay frozen."""
    blocks = body_layers(model)
    for k, block in enumerate(blocks):
        for layer in block:
            layer.trainable = k >= len(blocks) - unfreeze
    model.get_layer("audioset").trainable = False
    model.get_layer("label_logits").trainable = True


def _compile(model, lr: float, total_steps: int, cfg: FinetuneConfig):

    model.compile(optimizer=adamw_cosine(lr, total_steps, max(1, total_steps // 20)),
                  loss=[keras.losses.CategoricalCrossentropy(label_smoothing=cfg.label_smoothing),
                        keras.losses.BinaryCrossentropy()],
                  loss_weights=[1.0, cfg.audioset_weight])


def finetune(model: keras.Model, data: YamnetBatches, cfg: FinetuneConfig, callbacks=(), verbose: int = 1) -> dict:
    """Phase 1 (label head) then phase 2 (plus the top ``cfg.unfreeze`` layers); returns the
    merged Keras history."""
    history: dict[str, list] = {}
    phases = [(0, cfg.head_epochs, cfg.lr), (cfg.unfreeze, cfg.epochs, cfg.lr / 10)]
    for unfreeze, epochs, lr in phases:
        if epochs <= 0:
            continue
        set_trainable(model, unfreeze)
        _compile(model, lr, epochs * len(data), cfg)
        h = model.fit(data, epochs=epochs, callbacks=list(callbacks), verbose=verbose)
        for k, v in h.history.items():
            history.setdefault(k, []).extend(v)
    return history


def steps_for(n_clips: int, batch_size: int) -> int:
    return max(1, math.ceil(n_clips / batch_size))
