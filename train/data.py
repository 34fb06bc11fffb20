"""Loading clips into memory (with a cache) and the augmentations used in training."""
from __future__ import annotations

import hashlib
import os
import sys

import numpy as np
from tqdm import tqdm

from soundpred import audio
from soundpred.data import Clip, cache_dir
from soundpred.rooms import coloured_noise

def load_waveforms(clips: list[Clip], sr: int, *, desc: str = "decoding",
                   cache: bool = True) -> tuple[list[Clip], list[np.ndarray]]:
    """Decode every clip to mono float32 at ``sr``; clips that cannot be used (too short,
    corrupt) are reported and left out. Cached on disk by path list, size and rate.

    Returns ``(clips kept, waveforms)``.
    """
    key = hashlib.sha1(f"{sr}|".encode() + "|".join(
        f"{c.path.resolve()}:{c.path.stat().st_size}" for c in clips).encode()).hexdigest()[:16]
    path = cache_dir() / f"waves-{sr}-{key}.npz"
    if cache and path.exists():
        with np.load(path) as z:
            flat, offsets, kept = z["flat"], z["offsets"], z["kept"]
        return [clips[i] for i in kept], [flat[offsets[j]:offsets[j + 1]] for j in range(len(kept))]
    waves, kept = [], []
    for i, c in enumerate(tqdm(clips, desc=desc, unit="clip", mininterval=2)):
        try:
            waves.append(audio.load(c.path, sr=sr))
            kept.append(i)
        except audio.AudioError as e:
            print(f"skipping {c.path}: {e}", file=sys.stderr)
    if cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        offsets = np.cumsum([0] + [len(w) for w in waves])
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, flat=np.concatenate(waves), offsets=offsets, kept=np.asarray(kept, dtype=np.int64))
        os.replace(tmp, path)
    return [clips[i] for i in kept], waves


def random_crop(y: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """A random ``n``-sample crop; shorter input is placed at a random offset in zeros."""
    if len(y) >= n:
        s = rng.integers(0, len(y) - n + 1)
        return y[s:s + n]
    out = np.zeros(n, np.float32)
    s = rng.integers(0, n - len(y) + 1)
    out[s:s + len(y)] = y
    return out


def lowpass(y: np.ndarray, sr: int, cutoff: float) -> np.ndarray:
    """Brick-wall low-pass in the frequency domain (simulates low-rate recordings)."""
    spec = np.fft.rfft(y)
    spec[int(cutoff / (sr / 2) * (len(spec) - 1)):] = 0
    return np.fft.irfft(spec, n=len(y)).astype(np.float32)


def add_noise(y: np.ndarray, snr_db: float, rng: np.random.Generator, *, colour: float = 0.0) -> np.ndarray:
    """Add noise at ``snr_db`` with spectral slope ``colour`` (0 white, 1 pink, 2 brown)."""
    noise = coloured_noise(len(y), colour, rng)
    p_sig = np.mean(y ** 2) + 1e-12
    noise *= np.sqrt(p_sig / (np.mean(noise ** 2) + 1e-12) / 10 ** (snr_db / 10))
    return (y + noise).astype(np.float32)
