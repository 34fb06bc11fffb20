"""The distance output convention, in one place.

A distance model outputs two numbers per window: the mean ``mu`` and the log standard deviation
``log_sigma`` of a Gaussian over the natural log of the source–microphone distance in metres.
``log_sigma`` is clipped to :data:`LOG_SIGMA_RANGE` wherever it is used (the loss, the
Predictor, the evaluation); estimates are meant for :data:`RANGE_M`, the distances the rooms
are simulated with and the app's gauge shows.

The distance reported is :func:`point_estimate`: ``exp(mu - shrink * sigma**2)``, with the
bundle's ``point_shrink`` (``soundpred.json``; 0 when absent). Of the log-normal belief, 0 gives
the median, which has the least expected absolute error, and 1 the value with the least expected
relative error ``|d_hat - d| / d``; a bundle's value lies between, chosen on validation rooms
(``train.ensemble``). The interval does not depend on it.
"""
from __future__ import annotations

from statistics import NormalDist

import numpy as np

__all__ = ["LOG_SIGMA_RANGE", "RANGE_M", "COVERAGE", "z_value", "clip_log_sigma", "interval", "point_estimate",
           "point_shrink"]

LOG_SIGMA_RANGE = (-4.0, 2.0)
RANGE_M = (0.3, 20.0)
#: The interval the app, the CLI and the evaluation report.
COVERAGE = 0.9


def z_value(coverage: float = COVERAGE) -> float:
    """Half-width of the two-sided ``coverage`` interval of a standard Gaussian (1.645 for 90 %)."""
    return NormalDist().inv_cdf(0.5 + coverage / 2)


def clip_log_sigma(log_sigma):
    return np.clip(log_sigma, *LOG_SIGMA_RANGE)


def interval(mu, sigma, coverage: float = COVERAGE):
    """``(low, high)`` in metres of the ``coverage`` interval of log-distance ``mu`` ± z·``sigma``."""
    z = z_value(coverage)
    return np.exp(mu - z * sigma), np.exp(mu + z * sigma)


def point_estimate(mu, sigma, shrink: float = 0.0):
    """The distance in metres reported for log-distance ``mu`` ± ``sigma``: ``exp(mu - shrink·sigma²)``.

    For a log-normal belief, ``shrink`` 0 is its median (least expected absolute error) and 1
    its 1/d-weighted median (least expected relative error: the density over log d, tilted by
    1/d, is the same Gaussian moved down by sigma²)."""
    return np.exp(np.asarray(mu) - shrink * np.asarray(sigma) ** 2)


def point_shrink(meta: dict) -> float:
    """A distance bundle's ``point_shrink`` (``soundpred.json``), checked to lie in [0, 1]."""
    shrink = float(meta.get("point_shrink", 0.0))
    if not 0.0 <= shrink <= 1.0:
        raise ValueError(f"point_shrink must lie in [0, 1], not {shrink}")
    return shrink
