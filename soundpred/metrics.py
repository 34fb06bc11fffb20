"""Classification metrics for single-label clips (DCASE2018 task 2 conventions) and distance metrics."""
from __future__ import annotations

import numpy as np
from scipy.stats import spearmanr

__all__ = ["paired_bootstrap", "slope_within_rooms", "spearman_within_rooms", "distance_summary", "map_at_k",
           "top1_accuracy", "per_class_recall", "confusion_matrix", "summarize"]


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


DISTANCE_BINS = ((0.3, 1.0), (1.0, 2.0), (2.0, 4.0), (4.0, 8.0), (8.0, 20.0))
RT60_BINS = ((0.1, 0.3), (0.3, 0.6), (0.6, 1.0), (1.0, 2.0))


def _spearman(a, b) -> float | None:
    if len(a) < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return None
    return round(float(spearmanr(a, b).statistic), 3)


def spearman_within_rooms(a, b, room) -> float | None:
    """Mean Spearman correlation of ``a`` and ``b`` inside each room (``room`` ids); rooms with
    fewer than 3 examples or no spread are left out. None if no room is left."""
    a, b, room = np.asarray(a, float), np.asarray(b, float), np.asarray(room)
    within = [w for w in (_spearman(a[room == r], b[room == r]) for r in np.unique(room)) if w is not None]
    return round(float(np.mean(within)), 3) if within else None


def slope_within_rooms(pred, true, room) -> float | None:
    """How far the estimate moves when the source moves inside a room: the slope of
    log(``pred``) on log(``true``) after removing each room's mean (pooled over rooms with two or
    more examples). 1: a source twice as far gets twice the estimate; 0: the estimate stays put,
    whatever the ordering. None if no room has two different distances."""
    lp, lt, room = np.log(np.asarray(pred, float)), np.log(np.asarray(true, float)), np.asarray(room)
    num = den = 0.0
    for r in np.unique(room):
        m = room == r
        if m.sum() >= 2:
            dt, dp = lt[m] - lt[m].mean(), lp[m] - lp[m].mean()
            num, den = num + float(dt @ dp), den + float(dt @ dt)
    return round(num / den, 3) if den > 0 else None


def mae_rel(pred, true) -> tuple[float, float]:
    """MAE in metres and mean relative error ``|d̂ - d| / d`` of ``pred``, unrounded (for
    differences and ratios; :func:`distance_summary` rounds to 3 decimals). ``pred`` may be one
    number for every example."""
    true = np.asarray(true, float)
    err = np.abs(np.asarray(pred, float) - true)
    return float(err.mean()), float((err / true).mean())


def distance_summary(pred, true, *, lo=None, hi=None, rt60=None, room=None) -> dict:
    """Distance errors in metres: MAE, median absolute error, mean relative error
    ``|d̂ - d| / d`` (DCASE 2024 task 3), per distance bin (with the 10th–90th percentile of the
    estimates there: how far they spread) and per RT60 bin if given, the share of true distances
    inside ``[lo, hi]`` if given, and the Spearman rank correlation of estimate and truth: over
    all examples and, with ``room`` ids, the mean within rooms (does a source farther away in
    the same room get a larger estimate?) and :func:`slope_within_rooms` (how much larger?)."""
    pred, true = np.asarray(pred, float), np.asarray(true, float)
    err = np.abs(pred - true)
    out = {"n": int(len(true)), "mae_m": round(float(err.mean()), 3),
           "median_ae_m": round(float(np.median(err)), 3),
           "rel_error": round(float(np.mean(err / true)), 3),
           "spearman": _spearman(pred, true)}
    if room is not None:
        out["spearman_within_room"] = spearman_within_rooms(pred, true, room)
        out["slope_within_room"] = slope_within_rooms(pred, true, room)
    if lo is not None and hi is not None:
        out["coverage"] = round(float(np.mean((np.asarray(lo) <= true) & (true <= np.asarray(hi)))), 3)

    def by(values, bins):
        rows = {}
        for a, b in bins:
            m = (values >= a) & (values < b) if b != bins[-1][1] else (values >= a) & (values <= b)
            if m.any():
                rows[f"{a:g}-{b:g}"] = {"n": int(m.sum()), "mae_m": round(float(err[m].mean()), 3),
                                        "rel_error": round(float(np.mean(err[m] / true[m])), 3),
                                        "estimate_p10_p90": [round(float(v), 2) for v in np.percentile(pred[m], [10, 90])]}
        return rows

    out["by_distance"] = by(true, DISTANCE_BINS)
    if rt60 is not None:
        out["by_rt60"] = by(np.asarray(rt60, float), RT60_BINS)
    return out


def paired_bootstrap(new, old, true, room, *, n: int = 2000, seed: int = 0, coverage: float = 0.9) -> dict:
    """How sure is it that estimates ``new`` beat ``old`` of the same examples? Rooms are drawn
    with replacement (examples of one room move together, since they share its acoustics), ``n``
    times. For MAE, relative error, Spearman correlation over all examples and the mean Spearman
    correlation within rooms (:func:`spearman_within_rooms`; rooms where either has none are
    left out): the difference new − old on all examples, its ``coverage`` interval over the
    draws, and the share of draws in which new is better (lower error, higher correlation)."""
    new, old, true, room = (np.asarray(v) for v in (new, old, true, room))
    groups = [np.flatnonzero(room == r) for r in np.unique(room)]
    within = np.array([[_spearman(v[g], true[g]) for v in (new, old)] for g in groups], dtype=float)  # None: NaN
    defined = ~np.isnan(within).any(axis=1)
    rng = np.random.default_rng(seed)

    def measures(rooms):
        idx = np.concatenate([groups[i] for i in rooms])
        d, a, b = true[idx], new[idx], old[idx]
        w = within[rooms][defined[rooms]]
        (mae_a, rel_a), (mae_b, rel_b) = mae_rel(a, d), mae_rel(b, d)
        return (mae_a - mae_b, rel_a - rel_b,
                spearmanr(a, d).statistic - spearmanr(b, d).statistic,
                w[:, 0].mean() - w[:, 1].mean() if len(w) else np.nan)

    draws = np.array([measures(rng.integers(len(groups), size=len(groups))) for _ in range(n)])
    point = measures(np.arange(len(groups)))
    q = [(1 - coverage) / 2 * 100, (1 + coverage) / 2 * 100]
    out = {}
    for k, name in enumerate(("mae_m", "rel_error", "spearman", "spearman_within_room")):
        if np.isnan(point[k]):
            continue  # no room with three examples: no within-room measure
        col = draws[~np.isnan(draws[:, k]), k]
        lo, hi = np.percentile(col, q)
        better = col > 0 if name.startswith("spearman") else col < 0
        out[name] = {"difference": round(float(point[k]), 4), "interval": [round(float(lo), 4), round(float(hi), 4)],
                     "share_better": round(float(better.mean()), 3)}
    return out
