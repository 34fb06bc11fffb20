"""A folder per class: ``root/<label>/*.wav`` (any audio extension, searched recursively)."""
from __future__ import annotations

from pathlib import Path

from .common import AUDIO_EXTENSIONS, Clip

__all__ = ["read_folders"]


def read_folders(root, *, origin: str = "folders", split: str = "train") -> list[Clip]:
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root} is not a folder")
    clips = []
    for class_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        for f in sorted(class_dir.rglob("*")):
            if f.suffix.lower() in AUDIO_EXTENSIONS and f.is_file():
                clips.append(Clip(f, class_dir.name, True, split, origin=origin))
    return clips
