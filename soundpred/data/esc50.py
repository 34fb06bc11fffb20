"""ESC-50 (Piczak 2015): ``meta/esc50.csv`` (filename,fold,target,category,esc10,...) and ``audio/``.

The field's protocol is 5-fold cross-validation on the given folds; ``test_fold``
puts that fold in split ``"test"`` and the others in ``"train"``.
"""
from __future__ import annotations

from pathlib import Path

from .common import Clip, read_csv, resolve_audio

__all__ = ["read_esc50"]


def read_esc50(root, *, test_fold: int | None = None, esc10: bool = False) -> list[Clip]:
    root = Path(root)
    meta = root / "meta" / "esc50.csv"
    if not meta.is_file():
        raise FileNotFoundError(f"{meta} not found (ESC-50 layout: meta/esc50.csv, audio/)")
    if test_fold is not None and test_fold not in range(1, 6):
        raise ValueError("test_fold must be 1..5")
    clips = []
    for row in read_csv(meta):
        if esc10 and row.get("esc10", "False") != "True":
            continue
        fold = int(row["fold"])
        split = "test" if fold == test_fold else "train"
        clips.append(Clip(resolve_audio(root / "audio", row["filename"]), row["category"], True,
                          split, fold, origin="esc50"))
    return clips
