"""Network builders. Every model takes a waveform ``(batch, samples)`` at the front end's rate."""
from __future__ import annotations

import keras
from keras import layers

from .features import LogMel, SpecAugment
from .params import FrontEnd

__all__ = ["build_classifier", "build_student", "STUDENT_FRONTEND"]

#: Keras' default (0.99) lets the moving statistics lag far behind on a few hundred
#: steps per run, and the model then predicts one class in inference; 0.9 tracks them.
BN_MOMENTUM = 0.9


def _conv_block(x, filters, n_convs, name):
    for i in range(n_convs):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv{i}")(x)
        x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_bn{i}")(x)
        x = layers.ReLU(name=f"{name}_relu{i}")(x)
    return layers.AveragePooling2D(2, name=f"{name}_pool")(x)


def build_classifier(fe: FrontEnd, n_classes: int, *, width: int = 24, dropout: float = 0.3,
                     spec_augment: bool = True) -> keras.Model:
    """Log-mel CNN: 4 blocks of (conv3x3-BN-ReLU) x2 with 2x2 average pooling, channels
    ``width`` x (1, 2, 4, 8); then frequency mean, time mean+max pooling (as in the
    DCASE/PANNs CNNs), dropout and a softmax over ``n_classes``.

    The log-mel layer is named ``"logmel"``; SpecAugment acts only in training.
    """
    wave = keras.Input(shape=(None,), name="waveform")
    x = LogMel(fe.to_dict(), name="logmel")(wave)
    if spec_augment:
        x = SpecAugment(time_width=max(1, fe.frames(fe.window_samples) // 10),
                        freq_width=max(1, fe.n_mels // 8), name="specaugment")(x)
    x = layers.BatchNormalization(axis=2, momentum=BN_MOMENTUM, name="bn_in")(x)  # per mel band
    for i, mult in enumerate((1, 2, 4, 8)):
        x = _conv_block(x, width * mult, 2 if i else 1, f"block{i + 1}")
    x = keras.ops.mean(x, axis=2)  # over frequency -> (batch, time, channels)
    x = layers.Concatenate(name="pool")([layers.GlobalAveragePooling1D()(x), layers.GlobalMaxPooling1D()(x)])
    x = layers.Dropout(dropout)(x)
    x = layers.Dense(width * 8, activation="relu", name="embedding")(x)
    x = layers.Dropout(dropout)(x)
    out = layers.Dense(n_classes, activation="softmax", name="scores")(x)
    return keras.Model(wave, out, name="soundpred_classifier")


#: The seed project's features: 40 MFCC over 2 s of audio (it loaded at 44.1 kHz; the
#: MFCCs are computed here at 22.05 kHz with librosa's default 2048/512 STFT).
STUDENT_FRONTEND = FrontEnd(sample_rate=22050, n_fft=2048, win_length=2048, hop_length=512,
                            n_mels=128, fmin=20.0, fmax=11025.0, n_mfcc=40, window_seconds=2.0)


def build_student(fe: FrontEnd, n_classes: int) -> keras.Model:
    """The seed notebook's design: 4 conv blocks with batch norm on 40 MFCC over 2 s,
    dense 64, softmax. Kept as the baseline every classifier is compared with."""
    wave = keras.Input(shape=(None,), name="waveform")
    x = LogMel(fe.to_dict(), name="logmel")(wave)
    for i, f in enumerate((16, 32, 64, 128)):
        x = layers.Conv2D(f, 2, padding="same", activation="relu", name=f"conv{i}")(x)
        x = layers.MaxPooling2D(2, padding="same", name=f"pool{i}")(x)
        x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"bn{i}")(x)
        x = layers.Dropout(0.2)(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(64, activation="relu")(x)
    out = layers.Dense(n_classes, activation="softmax", name="scores")(x)
    return keras.Model(wave, out, name="student_mfcc_cnn")
