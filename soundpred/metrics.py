"""Classification metrics for single-label clips (DCASE2018 task 2 conventions)."""
from __future__ import annotations

import numpy as np

__all__ = ["map_at_k", "top1_accuracy", "per_class_recall", "confusion_matrix", "summarize"]


def _check(scores, y_true):
    scores = np.asarray(scores, dtype=np.float64)
    y_true = np.asarray(y_true, dtype=np.int64)
    if scores.ndim != 2 or y_true.shape != (scores.shape[0],):
        raise ValueError("scores must be (n, n_classes) and y_true (n,)")
    return scores, y_true


def map_at_k(scores, y_true, k: int = 3) -> float:
    """Mean average precision at ``k`` with one true label per clip: a clip scores
    ``1/rank`` if its label is among the top ``k`` (ties broken by class order), else 0."""
    scores, y_true = _check(scores, y_true)
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    hits = order == y_true[:, None]
    ranks = np.arange(1, hits.shape[1] + 1)
    return float(np.mean((hits / ranks).sum(axis=1)))


def top1_accuracy(scores, y_true) -> float:
    scores, y_true = _check(scores, y_true)
    return float(np.mean(np.argmax(scores, axis=1) == y_true))


def confusion_matrix(scores, y_true, n_classes: int | None = None) -> np.ndarray:
    """Counts ``[true, predicted]``."""
    scores, y_true = _check(scores, y_true)
    n = n_classes or scores.shape[1]
    cm = np.zeros((n, n), dtype=np.int64)
    np.add.at(cm, (y_true, np.argmax(scores, axis=1)), 1)
    return cm


def per_class_recall(scores, y_true) -> np.ndarray:
    """Recall of each class; NaN for classes with no clip."""
    cm = confusion_matrix(scores, y_true)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.diag(cm) / cm.sum(axis=1)


def summarize(scores, y_true, labels) -> dict:
    rec = per_class_recall(scores, y_true)
    return {
        "n_clips": int(len(y_true)),
        "top1": round(top1_accuracy(scores, y_true), 4),
        "map3": round(map_at_k(scores, y_true, 3), 4),
        "macro_recall": round(float(np.nanmean(rec)), 4),
        "per_class_recall": {lab: (None if np.isnan(r) else round(float(r), 4)) for lab, r in zip(labels, rec)},
    }
