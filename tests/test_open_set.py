"""The open-set decision: features, probability, threshold, and its round trip through a bundle's meta."""
from __future__ import annotations

import numpy as np
import pytest

from soundpred.open_set import OpenSet


def _decision(threshold=0.5):
    return OpenSet(compatible=(1, 2), weights=(1.0, -1.0, 0.0), bias=0.0, threshold=threshold)


def test_features_split_compatible_from_other_classes():
    d = _decision()
    audioset = np.array([0.9, 0.1, 0.2, 0.0])
    f = d.features(np.array([0.5, 0.5]), audioset)
    np.testing.assert_allclose(f, [np.log(0.2 / 0.8), np.log(0.9 / 0.1), 0.0], atol=1e-6)


def test_known_follows_the_stronger_side():
    d = _decision()
    assert d.known(np.array([0.6, 0.4]), np.array([0.05, 0.8, 0.1, 0.0]))  # a compatible class rings
    assert not d.known(np.array([0.6, 0.4]), np.array([0.8, 0.05, 0.1, 0.0]))  # another class rings
    assert _decision(threshold=0.0).known(np.array([0.6, 0.4]), np.array([0.8, 0.05, 0.1, 0.0]))


def test_meta_round_trip_and_refusals():
    d = _decision(0.3)
    assert OpenSet.from_meta(d.to_meta(), 4) == d
    assert OpenSet.from_meta(None, 4) is None and OpenSet.from_meta(d.to_meta(), 0) is None
    with pytest.raises(ValueError):
        OpenSet.from_meta({**d.to_meta(), "compatible": [7]}, 4)


def test_fit_keeps_false_unknowns_under_the_target():
    from train.open_set import fit

    rng = np.random.default_rng(0)
    n_as = 6
    def clips(n, ring):
        a = rng.uniform(0, 0.1, (n, n_as))
        a[np.arange(n), rng.choice(ring, n)] = rng.uniform(0.3, 0.95, n)
        s = rng.dirichlet(np.ones(4), n)
        return s, a
    inside, outside = clips(200, [0, 1]), clips(200, [4, 5])
    d = fit(inside, outside, [0, 1], max_false_unknown=0.05)
    assert np.mean(d.probability(*inside) < d.threshold) <= 0.05
    assert np.mean(d.probability(*outside) >= d.threshold) < 0.1
