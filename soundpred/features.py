"""The front end as Keras layers, inside every model: waveform in, log-mel out.

Because the layer is part of the saved model, training and serving compute the
same features by construction.
"""
from __future__ import annotations

import numpy as np
import keras
from keras import ops

from .params import FrontEnd

__all__ = ["LogMel", "SpecAugment", "mel_matrix", "dct_matrix"]


def mel_matrix(fe: FrontEnd) -> np.ndarray:
    """Mel filterbank, shape ``(n_fft // 2 + 1, n_mels)`` (librosa's Slaney filters)."""
    import librosa

    return librosa.filters.mel(sr=fe.sample_rate, n_fft=fe.n_fft, n_mels=fe.n_mels,
                               fmin=fe.fmin, fmax=fe.fmax).T.astype(np.float32)


def dct_matrix(n_in: int, n_out: int) -> np.ndarray:
    """Orthonormal DCT-II as a matrix, shape ``(n_in, n_out)`` (``scipy.fft.dct(norm='ortho')``)."""
    n = np.arange(n_in)
    k = np.arange(n_out)
    m = np.cos(np.pi / n_in * (n[:, None] + 0.5) * k[None, :]) * np.sqrt(2.0 / n_in)
    m[:, 0] /= np.sqrt(2.0)
    return m.astype(np.float32)


@keras.saving.register_keras_serializable(package="soundpred")
class LogMel(keras.layers.Layer):
    """Waveform ``(batch, samples)`` -> normalised log-mel ``(batch, frames, n_mels, 1)``.

    Power STFT (Hann, centred) -> mel filterbank -> dB, then each example is
    referenced to its own maximum and scaled by ``top_db`` into ``[-1, 0]``: the
    result does not depend on the input level. With ``n_mfcc > 0`` the output is
    ``(batch, frames, n_mfcc, 1)`` MFCCs of the (unnormalised) dB mel spectrum.
    """

    def __init__(self, frontend: dict | None = None, **kwargs):
        super().__init__(**kwargs)
        self.fe = FrontEnd.from_dict(frontend or {})
        self._mel = mel_matrix(self.fe)
        self._dct = dct_matrix(self.fe.n_mels, self.fe.n_mfcc) if self.fe.n_mfcc else None

    def call(self, waveform):
        fe = self.fe
        x = ops.cast(waveform, "float32")
        real, imag = ops.stft(x, sequence_length=fe.win_length, sequence_stride=fe.hop_length,
                              fft_length=fe.n_fft, window="hann", center=True)
        power = real * real + imag * imag  # (batch, frames, n_fft//2+1)
        mel = ops.matmul(power, ops.convert_to_tensor(self._mel))
        db = 10.0 * ops.log(ops.maximum(mel, 1e-10)) / np.log(10.0)
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
