"""Loading clips into memory (with a cache) and the augmentations used in training."""
from __future__ import annotations

import hashlib
import os
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

from soundpred import audio
from soundpred.data import Clip, cache_dir, read_folders, read_fsdkaggle2018
from soundpred.paths import MORE_REAL
from soundpred.data.common import read_csv
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
        tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")  # concurrent trainers each write their own
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


def session_groups(root) -> dict[str, str]:
    """``{file name: recording group}`` from a ``sources.csv`` (fname,label,source,origin,...):
    clips of one group (the same note of one instrument, one Freesound recording, one
    harmonica take) are near-duplicates and must fall on the same side of a split."""
    groups = {}
    for row in read_csv(Path(root) / "sources.csv"):
        origin = row["origin"].split(":", 1)[-1]
        stem = Path(origin).stem
        source = row["source"]
        if source == "philharmonia":  # audio/oboe/oboe_C4_1_forte_normal.mp3 -> oboe_C4
            key = "_".join(stem.split("_")[:2])
        elif source in ("urbansound8k", "kitchen20"):  # Freesound id: 102305-6-0-0 / 0-101477-A-3
            parts = stem.split("-")
            key = parts[0] if source == "urbansound8k" else "-".join(parts[:2])
        elif source == "jrhodes":  # A_029__F1_2 -> A_029__F1 (one note, several velocities)
            key = stem.rsplit("_", 1)[0]
        else:  # a take (harmonica): its folder
            key = str(Path(origin).parent)
        groups[row["fname"]] = f"{source}:{key}"
    return groups


def group_split(clips: list[Clip], groups: dict[str, str], fraction: float) -> tuple[list[Clip], list[Clip]]:
    """(train, held out): whole groups go to the held-out side by a hash of their name, about
    ``fraction`` of them, never at random per clip. Stable across runs and machines."""
    train, held = [], []
    for c in clips:
        g = groups.get(c.path.name) or groups.get(c.path.with_suffix(".flac").name) or c.path.name
        h = int(hashlib.sha1(g.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
        (held if h < fraction else train).append(c)
    return train, held


#: Share of more-real's recording groups held out (never trained on).
HELD_OUT_FRACTION = 0.25
#: Share of each label's FSDKaggle2018-layout training clips used for validation.
VAL_FRACTION = 0.1


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


def load_training_clips(data: Path, *, extra=(), more_real: Path | str | None = MORE_REAL, limit: int = 0,
                        seed: int = 0) -> tuple[list[Clip], list[Clip], list[Clip]]:
    """(train, held-out, test) clip lists: FSDKaggle2018-layout ``data`` train/test, ``more_real``
    split by recording group (:data:`HELD_OUT_FRACTION` of the groups held out), ``extra``
    folders (one per label) added to training; ``limit`` > 0 subsamples (smoke tests)."""
    train_clips = read_fsdkaggle2018(data, "train")
    for folder in extra:
        train_clips += read_folders(folder, origin=Path(folder).name)
    held_out = []
    if more_real and str(more_real) != "none":
        root = Path(more_real)
        more = [replace(c, origin="more-real:" + c.path.name.split("_")[0])
                for c in read_fsdkaggle2018(root, "train")]
        more_train, held_out = group_split(more, session_groups(root), HELD_OUT_FRACTION)
        train_clips += more_train
    test_clips = read_fsdkaggle2018(data, "test")
    if limit:
        rng = np.random.default_rng(seed)
        train_clips = [train_clips[i] for i in sorted(rng.choice(len(train_clips), limit, replace=False))]
        test_clips = test_clips[: max(4, limit // 4)]
        held_out = held_out[: max(4, limit // 4)]
    return train_clips, held_out, test_clips
