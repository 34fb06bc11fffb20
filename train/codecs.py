"""Lossy codings (MP3, AAC, Opus) and a telephone band through real ffmpeg, read back by the app's
own decoder: for ``train.probe_codecs`` and for training with a share of coded examples
(``train.distance --codec-share``).

People upload what their phones and apps make: voice memos in AAC, voice messages in Opus at
16-32 kbit/s, MP3s, calls recorded at 8 kHz. A codec removes what it judges inaudible, which is
often the quiet reverberant tail the distance model listens to (docs/distance.md, session 54).
"""
from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from soundpred import audio
from train.mic_processing import LEVEL_DBFS  # every example's RMS before coding, as before the processing


#: a lossy family: the file's suffix, ffmpeg's encoder, and the rate phones record it at
_FAMILIES = {"mp3": (".mp3", "libmp3lame", 44100), "aac": (".m4a", "aac", 48000), "opus": (".ogg", "libopus", 48000)}


def _lossy(name: str) -> tuple[str, list[str]]:
    """``"mp3-32"`` and the like: (file suffix, ffmpeg output options)."""
    family, kbps = name.split("-")
    suffix, encoder, rate = _FAMILIES[family]
    return suffix, ["-c:a", encoder, "-b:a", f"{kbps}k", "-ar", str(rate)]


#: the probe's variants: (file suffix, ffmpeg output options). The rate is the file's (telephone:
#: 8 kHz; compressed: what phones record at); the app resamples whatever comes to 16 kHz. AAC 64:
#: a phone's voice memo; Opus 16: a voice message.
VARIANTS = {
    "none": (".wav", ["-c:a", "pcm_s16le", "-ar", "16000"]),
    "8k": (".wav", ["-c:a", "pcm_s16le", "-ar", "8000"]),  # a telephone band: the rate alone
    **{v: _lossy(v) for v in ("mp3-128", "mp3-64", "mp3-48", "mp3-32", "aac-64", "opus-32", "opus-16")},
}
#: what training draws from (``--codec-share``): a family at random, then one of its rates, from
#: the probe's low and middle rates and some between them (MPEG-1 Layer III has no rate under 32
#: kbit/s at 44.1 kHz). Telephone: the 8 kHz band alone.
TRAINING_CODINGS = {
    "mp3": [f"mp3-{k}" for k in (32, 40, 48, 64)],
    "aac": [f"aac-{k}" for k in (32, 48, 64)],
    "opus": [f"opus-{k}" for k in (12, 16, 24, 32)],
    "8k": ["8k"],
}
#: every coding :func:`coded` knows
CODINGS = {**VARIANTS, **{v: _lossy(v) for vs in TRAINING_CODINGS.values() for v in vs if v not in VARIANTS}}
GAP_S = 0.5
SR = 16000


def _lag(reference: np.ndarray, decoded: np.ndarray, max_lag: int) -> int:
    """The delay (samples, >= -max_lag) at which ``decoded`` best matches ``reference``, from
    their first minute."""
    n = min(len(reference), len(decoded), 60 * SR)
    a, b = reference[:n], decoded[:n + max_lag]
    size = 1 << int(np.ceil(np.log2(len(a) + len(b))))
    corr = np.fft.irfft(np.fft.rfft(b, size) * np.conj(np.fft.rfft(a, size)), size)
    lags = np.r_[np.arange(0, max_lag + 1), np.arange(-max_lag, 0)]
    return int(lags[np.argmax(corr[lags])])


def coded(x: np.ndarray, variant: str, *, sr: int = SR) -> np.ndarray:
    """The examples ``x`` (``(n_examples, n)`` at ``sr`` = 16 kHz), each at :data:`LEVEL_DBFS`
    RMS (at most 0.99 peak), joined with :data:`GAP_S` of silence, coded by ``variant`` (a key of
    :data:`CODINGS`) and read back by :func:`soundpred.audio.read` at ``sr``: ``(n_examples, n)``
    float32, aligned."""
    if sr != SR:
        raise ValueError(f"the codings take {SR} Hz examples, not {sr}")
    suffix, options = CODINGS[variant]
    x = np.asarray(x, np.float64)
    rms = np.sqrt(np.mean(x ** 2, axis=1, keepdims=True))
    peak = np.abs(x).max(axis=1, keepdims=True)
    gain = np.minimum(10 ** (LEVEL_DBFS / 20) / np.maximum(rms, 1e-12), 0.99 / np.maximum(peak, 1e-12))
    gap = int(GAP_S * sr)
    step = x.shape[1] + gap
    joined = np.zeros(gap + len(x) * step, np.float32)
    for i, e in enumerate(x * gain):
        joined[gap + i * step:gap + i * step + x.shape[1]] = e
    with tempfile.TemporaryDirectory(prefix="soundpred-codec-") as tmp:
        src, out = Path(tmp) / "plain.wav", Path(tmp) / f"coded{suffix}"
        sf.write(src, joined, sr, subtype="FLOAT")
        subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(src), "-ac", "1", *options,
                        str(out)], check=True)
        y = audio.read(out, sr=sr).samples
    lag = _lag(joined, y, max_lag=int(0.2 * sr))
    y = np.pad(y, (max(0, -lag), len(joined) + abs(lag)))[max(0, lag):][:len(joined)]
    return np.stack([y[gap + i * step:gap + i * step + x.shape[1]] for i in range(len(x))]).astype(np.float32)


def training_coded(x: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """The examples ``x`` (``(k, n)``, 16 kHz) through one coding drawn from ``rng`` (a family of
    :data:`TRAINING_CODINGS` at random, then one of its rates), all in one ffmpeg run as
    :func:`coded` joins them, each at its own RMS again (silence stays silence); and the coding's name."""
    family = list(TRAINING_CODINGS)[int(rng.integers(len(TRAINING_CODINGS)))]
    variant = TRAINING_CODINGS[family][int(rng.integers(len(TRAINING_CODINGS[family])))]
    x = np.asarray(x, np.float32)
    y = coded(x, variant)
    rms_x = np.sqrt(np.mean(x.astype(np.float64) ** 2, axis=1, keepdims=True))
    rms_y = np.sqrt(np.mean(y.astype(np.float64) ** 2, axis=1, keepdims=True))
    scale = np.where(rms_y > 0, rms_x / np.maximum(rms_y, 1e-30), 0.0)
    return (y * scale).astype(np.float32), variant
