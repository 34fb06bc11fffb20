"""The front end as Keras layers, inside every model: waveform in, log-mel out.

Because the layer is part of the saved model, training and serving compute the
same features by construction.
"""
from __future__ import annotations

import keras
import librosa
import numpy as np
from keras import ops

from .params import FrontEnd

__all__ = ["LogMel", "SpecAugment", "mel_matrix", "htk_mel_matrix", "dct_matrix", "display_db"]


def htk_mel_matrix(sr: int, n_fft: int, n_mels: int, fmin: float, fmax: float) -> np.ndarray:
    """HTK-scale triangular filters, shape ``(n_fft // 2 + 1, n_mels)``: the numpy twin of
    ``tf.signal.linear_to_mel_weight_matrix`` (peak 1, the DC bin left out), which YAMNet uses."""
    def hz_to_mel(f):
        return 1127.0 * np.log1p(np.asarray(f, dtype=np.float64) / 700.0)

    n_bins = n_fft // 2 + 1
    bin_mel = hz_to_mel(np.linspace(0.0, sr / 2, n_bins))[1:]  # DC bin excluded
    edges = np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2)
    lower, centre, upper = edges[:-2], edges[1:-1], edges[2:]
    up = (bin_mel[:, None] - lower) / (centre - lower)
    down = (upper - bin_mel[:, None]) / (upper - centre)
    weights = np.maximum(0.0, np.minimum(up, down))
    return np.pad(weights, ((1, 0), (0, 0))).astype(np.float32)


def mel_matrix(fe: FrontEnd) -> np.ndarray:
    """Mel filterbank of ``fe``, shape ``(n_fft // 2 + 1, n_mels)``."""
    if fe.mel_scale == "htk":
        return htk_mel_matrix(fe.sample_rate, fe.n_fft, fe.n_mels, fe.fmin, fe.fmax)
    return librosa.filters.mel(sr=fe.sample_rate, n_fft=fe.n_fft, n_mels=fe.n_mels,
                               fmin=fe.fmin, fmax=fe.fmax).T.astype(np.float32)


def display_db(features: np.ndarray, fe: FrontEnd) -> np.ndarray:
    """Any log-mel output of ``fe`` (``(frames, n_mels)``) as dB re its loudest bin over
    ``top_db``, in ``[-1, 0]``: what the spectrogram figure shows, whatever the front end."""
    features = np.asarray(features, dtype=np.float32)
    if fe.log == "db":
        return features
    db = (20.0 / fe.power / np.log(10.0)) * features  # ln(mel) -> dB (of power or of magnitude)
    return np.maximum(db - db.max(), -fe.top_db) / fe.top_db


def dct_matrix(n_in: int, n_out: int) -> np.ndarray:
    """Orthonormal DCT-II as a matrix, shape ``(n_in, n_out)`` (``scipy.fft.dct(norm='ortho')``)."""
    n = np.arange(n_in)
    k = np.arange(n_out)
    m = np.cos(np.pi / n_in * (n[:, None] + 0.5) * k[None, :]) * np.sqrt(2.0 / n_in)
    m[:, 0] /= np.sqrt(2.0)
    return m.astype(np.float32)


@keras.saving.register_keras_serializable(package="soundpred")
class LogMel(keras.layers.Layer):
    """Waveform ``(batch, samples)`` -> log-mel ``(batch, frames, n_mels, 1)``.

    Power (or magnitude) STFT with a periodic Hann window -> mel filterbank -> log.
    With ``log="db"`` each example is referenced to its own maximum and scaled by
    ``top_db`` into ``[-1, 0]``: the result does not depend on the input level. With
    ``log="ln"`` the output is ``ln(mel + log_offset)`` (YAMNet's features). With
    ``n_mfcc > 0`` the output is ``(batch, frames, n_mfcc, 1)`` MFCCs of the
    (unnormalised) dB mel spectrum.
    """

    def __init__(self, frontend: dict | None = None, **kwargs):
        super().__init__(**kwargs)
        self.fe = FrontEnd.from_dict(frontend or {})
        self._mel = mel_matrix(self.fe)
        self._dct = dct_matrix(self.fe.n_mels, self.fe.n_mfcc) if self.fe.n_mfcc else None

    def call(self, waveform):
        fe = self.fe
        x = ops.cast(waveform, "float32")
        if not fe.center:
            # ops.stft centres the win_length window inside each n_fft frame; padding both ends
            # by that offset makes frame t hold samples[t*hop : t*hop + win_length] (tf.signal.stft)
            pad = (fe.n_fft - fe.win_length) // 2
            x = ops.pad(x, ((0, 0), (pad, fe.n_fft - fe.win_length - pad)))
        real, imag = ops.stft(x, sequence_length=fe.win_length, sequence_stride=fe.hop_length,
                              fft_length=fe.n_fft, window="hann", center=fe.center)
        spec = real * real + imag * imag  # (batch, frames, n_fft//2+1)
        if fe.power == 1.0:
            spec = ops.sqrt(ops.maximum(spec, 1e-20))  # finite gradient at exact zeros
        mel = ops.matmul(spec, ops.convert_to_tensor(self._mel))
        if fe.log == "ln" and self._dct is None:
            return ops.expand_dims(ops.log(mel + fe.log_offset), -1)
        db = (20.0 / fe.power) * ops.log(ops.maximum(mel, 1e-10)) / np.log(10.0)
        if self._dct is not None:
            out = ops.matmul(db, ops.convert_to_tensor(self._dct)) / fe.top_db
        else:
            peak = ops.max(db, axis=(1, 2), keepdims=True)
            out = ops.maximum(db - peak, -fe.top_db) / fe.top_db
        return ops.expand_dims(out, -1)

    def compute_output_shape(self, input_shape):
        n = None if input_shape[1] is None else self.fe.frames(input_shape[1])
        bins = self.fe.n_mfcc or self.fe.n_mels
        return (input_shape[0], n, bins, 1)

    def get_config(self):
        return {**super().get_config(), "frontend": self.fe.to_dict()}


@keras.saving.register_keras_serializable(package="soundpred")
class SpecAugment(keras.layers.Layer):
    """SpecAugment (Park et al. 2019) on ``(batch, frames, bins, 1)``: active only in training.

    Masks ``time_masks`` bands of up to ``time_width`` frames and ``freq_masks``
    bands of up to ``freq_width`` bins per example, filling them with the
    example's mean.
    """

    def __init__(self, time_masks=2, time_width=30, freq_masks=2, freq_width=8, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.time_masks, self.time_width = time_masks, time_width
        self.freq_masks, self.freq_width = freq_masks, freq_width
        self.seed = seed
        self.rng = keras.random.SeedGenerator(seed)

    def _mask(self, x, axis, count, width):
        shape = ops.shape(x)
        b, n = shape[0], shape[axis]
        pos = ops.arange(n, dtype="float32")
        pos = ops.reshape(pos, (1, n, 1, 1) if axis == 1 else (1, 1, n, 1))
        keep = ops.ones_like(x)
        for _ in range(count):
            w = keras.random.uniform((b, 1, 1, 1), 0, width, seed=self.rng)
            start = keras.random.uniform((b, 1, 1, 1), 0, 1, seed=self.rng) * (ops.cast(n, "float32") - w)
            inside = ops.logical_and(pos >= start, pos < start + w)
            keep = keep * (1.0 - ops.cast(inside, x.dtype))
        return keep

    def call(self, x, training=False):
        if not training:
            return x
        keep = self._mask(x, 1, self.time_masks, self.time_width) * \
            self._mask(x, 2, self.freq_masks, self.freq_width)
        mean = ops.mean(x, axis=(1, 2, 3), keepdims=True)
        return x * keep + mean * (1.0 - keep)

    def get_config(self):
        return {**super().get_config(), "time_masks": self.time_masks, "time_width": self.time_width,
                "freq_masks": self.freq_masks, "freq_width": self.freq_width, "seed": self.seed}
