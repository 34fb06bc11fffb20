"""Open-set decision: is a sound one of the model's labels at all?

The classifier's AudioSet head knows 521 kinds of sound. Sounds of the model's labels
raise a known set of AudioSet classes (the labels' own classes and their relatives:
"Music", "Dog", "Bowed string instrument", ...: the ``compatible`` classes, chosen from
training clips by ``python -m train.open_set``); rain, engines, birds or speech raise
others. Three clip-level features go into a logistic model fitted on clips inside the
labels and on sounds outside them:

- the logit of the highest AudioSet score among the compatible classes,
- the logit of the highest AudioSet score among all the other classes,
- the logit of the label head's highest score.

``known`` is ``probability >= threshold``; the threshold is set on held-out clips of the
labels so that few of them are called unknown. The fitted numbers travel in the bundle's
``soundpred.json`` under ``open_set``.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

__all__ = ["OpenSet", "logit"]


def logit(p, eps: float = 1e-6):
    p = np.clip(np.asarray(p, dtype=np.float64), eps, 1 - eps)
    return np.log(p / (1 - p))


@dataclass(frozen=True)
class OpenSet:
    compatible: tuple[int, ...]
    weights: tuple[float, float, float]
    bias: float
    threshold: float

    def features(self, scores: np.ndarray, audioset: np.ndarray) -> np.ndarray:
        """``(..., 3)`` features from label scores ``(..., n_labels)`` and AudioSet scores ``(..., 521)``."""
        audioset = np.asarray(audioset, dtype=np.float64)
        mask = np.zeros(audioset.shape[-1], bool)
        mask[list(self.compatible)] = True
        inside = np.where(mask, audioset, 0.0).max(axis=-1)
        outside = np.where(mask, 0.0, audioset).max(axis=-1)
        return np.stack([logit(inside), logit(outside), logit(np.max(scores, axis=-1))], axis=-1)

    def probability(self, scores, audioset) -> np.ndarray | float:
        z = self.features(scores, audioset) @ np.asarray(self.weights) + self.bias
        p = 1.0 / (1.0 + np.exp(-z))
        return float(p) if np.ndim(p) == 0 else p

    def known(self, scores, audioset) -> bool:
        return bool(self.probability(scores, audioset) >= self.threshold)

    def to_meta(self) -> dict:
        d = asdict(self)
        return {**d, "compatible": [int(i) for i in self.compatible],
                "weights": [float(w) for w in self.weights]}

    @classmethod
    def from_meta(cls, meta: dict | None, n_audioset: int) -> "OpenSet | None":
        """None when the bundle has no open-set decision (older bundles, no AudioSet head)."""
        if not meta or not n_audioset:
            return None
        compatible = tuple(int(i) for i in meta["compatible"])
        if any(not 0 <= i < n_audioset for i in compatible) or len(meta["weights"]) != 3:
            raise ValueError("open_set settings do not fit the AudioSet head")
        return cls(compatible, tuple(float(w) for w in meta["weights"]), float(meta["bias"]),
                   float(meta["threshold"]))
