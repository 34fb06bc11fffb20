from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3", ".m4a", ".webm", ".opus", ".aiff", ".aif")


@dataclass(frozen=True)
class Clip:
    """One labelled recording.

    ``verified`` is False for FSDKaggle2018's unverified (noisy) labels; ``split`` is
    ``"train"`` or ``"test"``; ``fold`` is the ESC-50 fold (else 0); ``origin`` says
    where a clip came from (dataset name, or e.g. ``"rendered"`` for semi-real audio).
    """

    path: Path
    label: str
    verified: bool = True
    split: str = "train"
    fold: int = 0
    origin: str = ""


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def resolve_audio(folder: Path, fname: str) -> Path:
    """``folder/fname``; if absent, the same stem with another audio extension
    (the starter set ships FLAC under names the real set spells ``.wav``)."""
    p = folder / fname
    if p.exists():
        return p
    for ext in AUDIO_EXTENSIONS:
        q = p.with_suffix(ext)
        if q.exists():
            return q
    raise FileNotFoundError(f"audio file listed in the metadata is missing: {p}")


def cache_dir() -> Path:
    """Where decoded audio, dry speech and room banks are cached: ``$SOUNDPRED_CACHE``,
    else ``~/.cache/soundpred``."""
    return Path(os.environ.get("SOUNDPRED_CACHE", Path.home() / ".cache" / "soundpred"))
