"""Front-end settings: one frozen dataclass, saved with every model bundle.

The same object configures the log-mel layer inside the Keras model, the
windowing in :mod:`soundpred.predict` and the crops in training, so the three
cannot disagree.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

__all__ = ["FrontEnd", "FRONTEND_VERSION"]

#: Bumped when the meaning of a field changes; bundles with another version are refused.
FRONTEND_VERSION = 1


@dataclass(frozen=True)
class FrontEnd:
    """Settings of the waveform -> log-mel (or MFCC) front end.

    Attributes
    ----------
    sample_rate : int
        Rate the model consumes, in Hz. Input audio is resampled to it.
    n_fft, win_length, hop_length : int
        STFT size, Hann window length and hop, in samples.
    n_mels : int
        Number of mel bands (Slaney mel scale and area normalisation, as librosa).
    fmin, fmax : float
        Lowest and highest mel band edge, in Hz.
    top_db : float
        Dynamic range kept below the window's loudest bin; the output is
        ``(dB - max_dB) / top_db`` clipped to ``[-1, 0]``, so it does not depend
        on the recording level.
    n_mfcc : int
        0 for log-mel output; otherwise the first ``n_mfcc`` DCT-II (orthonormal)
        coefficients of the log-mel (the seed project's MFCC front end).
    window_seconds : float
        Length of one analysis window given to the network.
    mel_scale : {"slaney", "htk"}
        ``"slaney"``: librosa's Slaney filters with area normalisation; ``"htk"``: the
        HTK-scale triangles of ``tf.signal.linear_to_mel_weight_matrix`` (peak 1, DC bin
        left out), as YAMNet and VGGish use.
    power : float
        2.0 for a power spectrogram, 1.0 for magnitude.
    center : bool
        True: frames centred on ``t * hop`` (reflect padding, librosa's default);
        False: frame ``t`` is ``samples[t*hop : t*hop + win_length]`` (``tf.signal.stft``).
    log : {"db", "ln"}
        ``"db"``: dB re the window's loudest bin, scaled by ``top_db`` into ``[-1, 0]``
        (level-independent); ``"ln"``: ``ln(mel + log_offset)`` (YAMNet's features; they
        keep the level).
    log_offset : float
        Added before the natural log when ``log == "ln"``.
    """

    sample_rate: int = 16000
    n_fft: int = 512
    win_length: int = 400
    hop_length: int = 160
    n_mels: int = 64
    fmin: float = 50.0
    fmax: float = 8000.0
    top_db: float = 80.0
    n_mfcc: int = 0
    window_seconds: float = 3.0
    mel_scale: str = "slaney"
    power: float = 2.0
    center: bool = True
    log: str = "db"
    log_offset: float = 0.001

    def __post_init__(self):
        if not 0 < self.fmin < self.fmax <= self.sample_rate / 2:
            raise ValueError(f"need 0 < fmin < fmax <= sample_rate/2, got {self.fmin}, {self.fmax}")
        if self.win_length > self.n_fft:
            raise ValueError("win_length must not exceed n_fft")
        if self.n_mfcc < 0 or self.n_mfcc > self.n_mels:
            raise ValueError("n_mfcc must be in [0, n_mels]")
        if self.mel_scale not in ("slaney", "htk"):
            raise ValueError(f"mel_scale must be 'slaney' or 'htk', got {self.mel_scale!r}")
        if self.log not in ("db", "ln"):
            raise ValueError(f"log must be 'db' or 'ln', got {self.log!r}")
        if self.power not in (1.0, 2.0):
            raise ValueError("power must be 1.0 (magnitude) or 2.0 (power)")

    @property
    def window_samples(self) -> int:
        return int(round(self.window_seconds * self.sample_rate))

    def frames(self, n_samples: int) -> int:
        """Number of frames the STFT gives for ``n_samples``."""
        if self.center:
            return 1 + n_samples // self.hop_length
        return 1 + max(0, n_samples - self.win_length) // self.hop_length

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "FrontEnd":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unsupported front-end settings: {sorted(unknown)}")
        return cls(**d)
