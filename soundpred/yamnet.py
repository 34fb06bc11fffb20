"""YAMNet (AudioSet, MobileNetV1 on log-mel patches) rebuilt in Keras 3.

Waveform in, with the project's :class:`~soundpred.features.LogMel` layer configured as
YAMNet's front end (:data:`YAMNET_FRONTEND`), then the 14-layer MobileNetV1 body, a
global average (the 1024-d embedding) and two heads:

- ``audioset``: YAMNet's own 521-class sigmoid head, kept as trained on AudioSet; it says
  what a sound is when it is none of the model's labels;
- ``scores``: a softmax over the model's FSDKaggle2018 labels, initialised from the AudioSet
  rows of the labels YAMNet has (:func:`init_label_head`).

Batch norm is folded into the convolutions' biases, as in the exported weights that
``python -m train.import_yamnet`` reads. Architecture and front-end constants follow
tensorflow/models ``research/audioset/yamnet`` (Apache-2.0).
"""
from __future__ import annotations

import csv
from pathlib import Path

import keras
import numpy as np
from keras import layers

from .features import LogMel, SpecAugment
from .params import FrontEnd

__all__ = ["YAMNET_FRONTEND", "BODY", "N_AUDIOSET", "build_yamnet", "body_layer_names",
           "read_class_map", "audioset_index", "init_label_head"]

#: YAMNet's published features: 16 kHz, 25 ms periodic-Hann window, 10 ms hop, 512-point FFT,
#: magnitude, 64 HTK mel bands 125-7500 Hz, ln(mel + 0.001); one patch of 96 frames = 0.975 s.
YAMNET_FRONTEND = FrontEnd(sample_rate=16000, n_fft=512, win_length=400, hop_length=160, n_mels=64,
                           fmin=125.0, fmax=7500.0, top_db=80.0, window_seconds=0.975,
                           mel_scale="htk", power=1.0, center=False, log="ln", log_offset=0.001)

#: (kind, stride, filters) of the 14 layers: a full 3x3 convolution, then depthwise-separable ones.
BODY = (("conv", 2, 32),) + tuple(("separable", s, f) for s, f in (
    (1, 64), (2, 128), (1, 128), (2, 256), (1, 256), (2, 512), (1, 512), (1, 512), (1, 512),
    (1, 512), (1, 512), (2, 1024), (1, 1024)))
N_AUDIOSET = 521
#: Initial logit of a label with no AudioSet class: below what YAMNet gives absent classes.
UNMAPPED_BIAS = -15.0


def body_layer_names() -> list[str]:
    """Keras layer names of the body, in order: ``layer1``, ``layer2_dw``, ``layer2_pw``, ..."""
    names = []
    for i, (kind, _, _) in enumerate(BODY, start=1):
        names += [f"layer{i}"] if kind == "conv" else [f"layer{i}_dw", f"layer{i}_pw"]
    return names


def _body(x):
    for i, (kind, stride, filters) in enumerate(BODY, start=1):
        if kind == "conv":
            x = layers.Conv2D(filters, 3, strides=stride, padding="same", activation="relu", name=f"layer{i}")(x)
        else:
            x = layers.DepthwiseConv2D(3, strides=stride, padding="same", activation="relu",
                                       name=f"layer{i}_dw")(x)
            x = layers.Conv2D(filters, 1, padding="same", activation="relu", name=f"layer{i}_pw")(x)
    return x


def build_yamnet(n_labels: int | None = None, *, frontend: FrontEnd = YAMNET_FRONTEND,
                 spec_augment: bool = False, dropout: float = 0.0, name: str = "yamnet") -> keras.Model:
    """Waveform ``(batch, samples)`` at 16 kHz -> outputs.

    Without ``n_labels``: the AudioSet scores ``(batch, 521)`` alone (YAMNet as published).
    With ``n_labels``: ``[scores (batch, n_labels) softmax, audioset (batch, 521) sigmoid]``.
    Each window of ``frontend.window_samples`` is one 96-frame patch; longer input is
    averaged over the body's output grid.
    """
    wave = keras.Input(shape=(None,), name="waveform")
    x = LogMel(frontend.to_dict(), name="logmel")(wave)
    if spec_augment:
        x = SpecAugment(time_width=12, freq_width=8, name="specaugment")(x)
    emb = layers.GlobalAveragePooling2D(name="embedding")(_body(x))
    audioset = layers.Dense(N_AUDIOSET, activation="sigmoid", name="audioset")(emb)
    if not n_labels:
        return keras.Model(wave, audioset, name=name)
    h = layers.Dropout(dropout, name="label_dropout")(emb) if dropout else emb
    logits = layers.Dense(n_labels, name="label_logits")(h)
    scores = layers.Softmax(name="scores")(logits)
    return keras.Model(wave, [scores, audioset], name=name)


def read_class_map(path) -> list[str]:
    """Display names of YAMNet's 521 classes from ``yamnet_class_map.csv`` (index,mid,display_name)."""
    with open(Path(path), newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    names = [r["display_name"] for r in sorted(rows, key=lambda r: int(r["index"]))]
    if len(names) != N_AUDIOSET:
        raise ValueError(f"{path}: expected {N_AUDIOSET} classes, found {len(names)}")
    return names


def _norm(name: str) -> str:
    return name.lower().replace(", ", "_or_").replace(" ", "_")


def audioset_index(labels, class_names: list[str]) -> dict[str, int]:
    """``{FSD label: AudioSet class index}`` for the labels YAMNet has, matched by display name
    (``Violin_or_fiddle`` = "Violin, fiddle", ``Burping_or_eructation`` = "Burping, eructation")."""
    by_name = {}
    for i, n in enumerate(class_names):
        by_name.setdefault(_norm(n), i)
        by_name.setdefault(n.lower().replace(", ", "_").replace(" ", "_"), i)
    return {lab: by_name[lab.lower()] for lab in labels if lab.lower() in by_name}


def init_label_head(model: keras.Model, labels, class_names: list[str]) -> list[str]:
    """Set the ``label_logits`` rows of the labels YAMNet has to their AudioSet rows, so the
    softmax starts as YAMNet's zero-shot ranking; the others (Oboe) start at zero weights and
    a bias of :data:`UNMAPPED_BIAS` (never the answer until data teach them). Returns the labels
    that had no AudioSet row."""
    audioset = model.get_layer("audioset")
    w_as, b_as = (np.asarray(v) for v in audioset.get_weights())
    index = audioset_index(labels, class_names)
    w = np.zeros((w_as.shape[0], len(labels)), np.float32)
    b = np.full(len(labels), UNMAPPED_BIAS, np.float32)
    for j, lab in enumerate(labels):
        if lab in index:
            w[:, j], b[j] = w_as[:, index[lab]], b_as[index[lab]]
    model.get_layer("label_logits").set_weights([w, b])
    return [lab for lab in labels if lab not in index]

