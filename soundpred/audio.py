"""Decode and validate audio: files, bytes and Gradio's ``(sr, array)`` tuple.

Everything that reaches a model passes through :func:`load` and comes out as
mono float32 at the model's rate, or raises :class:`AudioError` with a message
a person can act on.
"""
from __future__ import annotations

import io
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import soundfile as sf

__all__ = ["AudioError", "load", "decode", "to_mono_float", "resample", "MIN_RATE", "MAX_RATE"]

MIN_RATE, MAX_RATE = 8000, 192000
#: Shortest input that is analysed at all (a tenth of a second).
MIN_SECONDS = 0.1


class AudioError(ValueError):
    """Audio that cannot be used; ``str(err)`` is meant for the person who gave it."""


def to_mono_float(samples: np.ndarray) -> np.ndarray:
    """Convert PCM of any dtype and layout ``(n,)`` or ``(n, channels)`` to mono float32.

    Integer PCM is scaled to [-1, 1) by its full scale (unsigned 8-bit is centred
    first); channels are averaged.
    """
    x = np.asarray(samples)
    if x.ndim == 0 or x.size == 0:
        raise AudioError("The audio contains no samples.")
    if x.ndim > 2:
        raise AudioError(f"Audio arrays must be (samples,) or (samples, channels); got shape {x.shape}.")
    if x.dtype.kind == "u":
        half = 2 ** (8 * x.dtype.itemsize - 1)
        x = (x.astype(np.float64) - half) / half
    elif x.dtype.kind == "i":
        x = x.astype(np.float64) / 2 ** (8 * x.dtype.itemsize - 1)
    elif x.dtype.kind == "f":
        x = x.astype(np.float64, copy=False)
    elif x.dtype.kind == "b":
        raise AudioError("Boolean arrays are not audio.")
    else:
        raise AudioError(f"Unsupported sample type {x.dtype}.")
    if x.ndim == 2:
        # Gradio and soundfile give (samples, channels); a (channels, samples)
        # array with few rows is also accepted.
        if x.shape[0] < x.shape[1] and x.shape[0] <= 16:
            x = x.T
        x = x.mean(axis=1)
    return x.astype(np.float32)


def resample(y: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """Band-limited resampling (soxr, high quality); a no-op at equal rates."""
    if orig_sr == target_sr:
        return y.astype(np.float32, copy=False)
    import soxr

    return soxr.resample(y, orig_sr, target_sr, quality="HQ").astype(np.float32)


def _ffmpeg_decode(data: bytes | None, path: str | None, max_seconds: float | None = None) -> tuple[np.ndarray, int]:
    """Decode what libsndfile cannot (webm/opus, m4a/aac, ...) with ffmpeg; with ``max_seconds``,
    stop a little after it (an over-long file is refused without decoding it whole)."""
    exe = shutil.which("ffmpeg")
    if exe is None:
        raise AudioError("This format needs ffmpeg, which is not installed (apt-get install ffmpeg).")
    src = path if path is not None else "pipe:0"
    # The stream is decoded at 48 kHz: browser recordings are 48 kHz opus or 44.1/48 kHz AAC,
    # and every model here runs at a lower rate.
    limit = [] if max_seconds is None else ["-t", f"{max_seconds + 1:.3f}"]
    proc = subprocess.run([exe, "-hide_banner", "-v", "error", "-i", src, "-vn", *limit, "-f", "f32le",
                           "-ac", "1", "-ar", "48000", "-"],
                          input=data, capture_output=True)
    if proc.returncode != 0 or not proc.stdout:
        msg = proc.stderr.decode(errors="replace").strip().splitlines()
        detail = msg[-1] if msg else "no audio stream"
        if path is not None:  # name the file, not where the server keeps it
            detail = detail.replace(path, Path(path).name)
        raise AudioError(f"Could not decode the audio ({detail}). Supported: wav, flac, ogg, mp3, "
                         "webm/opus, m4a.")
    y = np.frombuffer(proc.stdout, dtype="<f4").copy()
    if max_seconds is not None and y.size > 48000 * max_seconds:
        raise AudioError(f"The audio is more than {max_seconds:.0f} s long; the limit is {max_seconds:.0f} s.")
    return y, 48000


def decode(source, *, max_seconds: float | None = None) -> tuple[np.ndarray, int]:
    """Decode ``source`` to ``(mono float32 samples, sample_rate)`` at the source rate.

    Parameters
    ----------
    source : str, os.PathLike, bytes, file-like or tuple
        A path, the file's bytes, an open binary file, or ``(sr, array)`` as
        Gradio's ``gr.Audio(type="numpy")`` gives (array ``(n,)`` or ``(n, ch)``,
        any PCM dtype).
    max_seconds : float or None
        Refuse longer audio, without decoding all of it where the format allows.
    """
    if isinstance(source, tuple):
        if len(source) != 2:
            raise AudioError("Expected (sample_rate, samples).")
        sr, arr = source
        if arr is None:
            raise AudioError("No audio was recorded or uploaded.")
        return to_mono_float(arr), int(sr)

    path = data = None
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if not os.path.exists(path):
            raise AudioError(f"File not found: {path}")
        if os.path.getsize(path) == 0:
            raise AudioError(f"The file is empty: {Path(path).name}")
    elif isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif hasattr(source, "read"):
        data = source.read()
    else:
        raise AudioError(f"Cannot read audio from {type(source).__name__}.")
    if data is not None and len(data) == 0:
        raise AudioError("The audio data is empty.")

    try:
        with sf.SoundFile(path if path is not None else io.BytesIO(data)) as f:
            sr = f.samplerate
            if max_seconds is not None and sr and f.frames / sr > max_seconds:  # from the header, unread
                raise _too_long(f.frames / sr, max_seconds)
            y = f.read(dtype="float32", always_2d=True)
        return to_mono_float(y), int(sr)
    except AudioError:
        raise
    except Exception:  # libsndfile refused it: let ffmpeg try (webm, m4a, odd mp3s)
        pass
    return _ffmpeg_decode(data, path, max_seconds)


def validate(y: np.ndarray, sr: int, *, max_seconds: float | None = None) -> None:
    """Raise :class:`AudioError` for audio no model should see."""
    if not MIN_RATE <= sr <= MAX_RATE:
        raise AudioError(f"Sample rate {sr} Hz is outside the supported {MIN_RATE}–{MAX_RATE} Hz.")
    if y.size == 0:
        raise AudioError("The audio contains no samples.")
    if not np.all(np.isfinite(y)):
        raise AudioError("The audio contains NaN or infinite values; it is corrupt.")
    seconds = y.size / sr
    if seconds < MIN_SECONDS:
        raise AudioError(f"The audio is {seconds * 1000:.0f} ms long; at least "
                         f"{MIN_SECONDS * 1000:.0f} ms are needed.")
    if max_seconds is not None and seconds > max_seconds:
        raise _too_long(seconds, max_seconds)


def _too_long(seconds: float, max_seconds: float) -> AudioError:
    return AudioError(f"The audio is {seconds:.0f} s long; the limit is {max_seconds:.0f} s.")


def load(source, *, sr: int, max_seconds: float | None = None) -> np.ndarray:
    """Decode, validate and resample ``source`` to mono float32 at ``sr``.

    Returns
    -------
    np.ndarray, shape (n,), float32
    """
    y, orig_sr = decode(source, max_seconds=max_seconds)
    validate(y, orig_sr, max_seconds=max_seconds)
    return resample(y, orig_sr, sr)
