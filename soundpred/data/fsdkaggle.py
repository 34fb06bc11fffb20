"""FSDKaggle2018 (Freesound General-Purpose Audio Tagging, DCASE2018 task 2).

Two layouts are read:

Kaggle::

    train.csv (fname,label,manually_verified)     audio_train/
    test_post_competition.csv (fname,label,usage,...)   audio_test/

Zenodo::

    FSDKaggle2018.meta/train_post_competition.csv
    FSDKaggle2018.meta/test_post_competition_scoring_clips.csv
    FSDKaggle2018.audio_train/   FSDKaggle2018.audio_test/

Test rows whose ``usage`` is ``Ignored`` (padding clips of the competition) are skipped.
"""
from __future__ import annotations

from pathlib import Path

from ..labels import FSD_LABELS
from .common import Clip, read_csv, resolve_audio

__all__ = ["read_fsdkaggle2018"]

_LAYOUTS = {
    "kaggle": (("train.csv", "audio_train"), ("test_post_competition.csv", "audio_test")),
    "zenodo": (("FSDKaggle2018.meta/train_post_competition.csv", "FSDKaggle2018.audio_train"),
               ("FSDKaggle2018.meta/test_post_competition_scoring_clips.csv", "FSDKaggle2018.audio_test")),
}


def detect_layout(root: Path) -> str:
    for name, ((train_csv, _), _) in _LAYOUTS.items():
        if (root / train_csv).is_file():
            return name
    raise FileNotFoundError(f"{root} has neither train.csv (Kaggle layout) nor "
                            "FSDKaggle2018.meta/train_post_competition.csv (Zenodo layout)")


def read_fsdkaggle2018(root, split: str = "train", *, verified_only: bool = False) -> list[Clip]:
    """Read the ``split`` (``"train"`` or ``"test"``) of FSDKaggle2018 under ``root``."""
    root = Path(root)
    if split not in ("train", "test"):
        raise ValueError("split must be 'train' or 'test'")
    layout = detect_layout(root)
    csv_name, audio_dir = _LAYOUTS[layout][0 if split == "train" else 1]
    clips = []
    for row in read_csv(root / csv_name):
        if row.get("usage", "").strip().lower() == "ignored":
            continue
        label = row["label"].strip()
        if label not in FSD_LABELS:
            raise ValueError(f"{csv_name}: unknown label {label!r}")
        verified = row.get("manually_verified", "1").strip() in ("1", "True", "true")
        if verified_only and not verified:
            continue
        clips.append(Clip(resolve_audio(root / audio_dir, row["fname"].strip()), label, verified,
                          split, origin="fsdkaggle2018"))
    return clips
