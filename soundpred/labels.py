"""The 41 labels of FSDKaggle2018 (DCASE2018 task 2), in the competition's order."""
from __future__ import annotations

__all__ = ["FSD_LABELS", "display_name", "check_labels"]

FSD_LABELS: tuple[str, ...] = (
    "Acoustic_guitar", "Applause", "Bark", "Bass_drum", "Burping_or_eructation", "Bus",
    "Cello", "Chime", "Clarinet", "Computer_keyboard", "Cough", "Cowbell", "Double_bass",
    "Drawer_open_or_close", "Electric_piano", "Fart", "Finger_snapping", "Fireworks", "Flute",
    "Glockenspiel", "Gong", "Gunshot_or_gunfire", "Harmonica", "Hi-hat", "Keys_jangling",
    "Knock", "Laughter", "Meow", "Microwave_oven", "Oboe", "Saxophone", "Scissors", "Shatter",
    "Snare_drum", "Squeak", "Tambourine", "Tearing", "Telephone", "Trumpet",
    "Violin_or_fiddle", "Writing",
)
assert len(FSD_LABELS) == 41

_DISPLAY = {"Violin_or_fiddle": "Violin or fiddle", "Hi-hat": "Hi-hat",
            "Burping_or_eructation": "Burping", "Gunshot_or_gunfire": "Gunshot or gunfire"}


def display_name(label: str) -> str:
    """Human-readable name: ``"Drawer_open_or_close"`` -> ``"Drawer open or close"``."""
    return _DISPLAY.get(label, label.replace("_", " "))


def check_labels(labels) -> list[str]:
    """Return ``labels`` as a list, raising ``ValueError`` for any not in the 41."""
    labels = list(labels)
    bad = [x for x in labels if x not in FSD_LABELS]
    if bad:
        raise ValueError(f"not FSDKaggle2018 labels: {bad}")
    if len(set(labels)) != len(labels):
        raise ValueError("duplicate labels")
    return labels
