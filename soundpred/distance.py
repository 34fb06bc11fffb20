"""The distance output convention, in one place.

A distance model outputs two numbers per window: the mean ``mu`` and the log standard deviation
``log_sigma`` of a Gaussian over the natural log of the source–microphone distance in metres.
``log_sigma`` is clipped to :data:`LOG_SIGMA_RANGE` wherever it is used (the loss, the
Predictor, the evaluation); estimates are meant for :data:`RANGE_M`, the distances the rooms
are simulated with and the app's gauge shows.
"""
from __future__ import annotations

from statistics import NormalDist

import numpy as np

__all__ = ["LOG_SIGMA_RANGE", "RANGE_M", "COVERAGE", "z_value", "clip_log_sigma", "interval"]

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
