"""Room simulation: the direct path arrives when physics says, and alignment hides it from models."""
from __future__ import annotations

import numpy as np
import pytest

from soundpred.rooms import (
    BROAD,
    DIRECT_INDEX,
    SHIFTED,
    SPEED_OF_SOUND,
    TRAIN,
    draw_distance,
    make_bank,
    sample_room,
    simulate_rir,
    synthesize,
)

SR = 16000


def first_arrival(h, frac=0.3):
    return int(np.argmax(np.abs(h) > frac * np.abs(h).max()))


@pytest.mark.parametrize("distance", [0.5, 2.0, 7.0, 15.0])
def test_direct_path_delay_matches_distance(distance):
    rng = np.random.default_rng(int(distance * 10))
    room = sample_room(TRAIN, rng, distance=distance)
    assert np.linalg.norm(np.subtract(room["src"], room["mic"])) == pytest.approx(distance)
    h = simulate_rir(room, TRAIN, sr=SR, rng=rng, align=False)
    expect = distance / SPEED_OF_SOUND * SR + 40  # time of flight + pyroomacoustics' fractional-delay centre
    assert abs(first_arrival(h) - expect) <= 4  # 0.25 ms: the octave filters shift it a little


@pytest.mark.parametrize("settings", [TRAIN, SHIFTED])
def test_aligned_rirs_carry_no_time_of_flight(settings):
    """Whatever the distance, the direct sound sits at DIRECT_INDEX and nothing comes before it.
    (With the shifted settings' cardioids the direct sound may be weaker than reflections.)"""
    rng = np.random.default_rng(1)
    for d in (0.4, 1.5, 5.0, 12.0):
        h = simulate_rir(sample_room(settings, rng, distance=d), settings, sr=SR, rng=rng)
        assert abs(h[DIRECT_INDEX]) == pytest.approx(1.0)
        assert np.abs(h[:DIRECT_INDEX - 3]).max() < 0.2
        if settings is TRAIN:  # omnidirectional: the direct sound is the first strong arrival
            assert abs(first_arrival(h) - DIRECT_INDEX) <= 1


def test_onset_randomisation_removes_time_of_flight():
    """Onsets measured in the synthesized audio do not follow distance. Control: the same rooms
    with unaligned RIRs and no random lead, where the onset is the time of flight."""
    rng = np.random.default_rng(0)
    t = np.arange(SR * 6) / SR
    dry = (np.sin(2 * np.pi * 300 * t) * (t > 0.05)).astype(np.float32)
    distances = np.geomspace(0.5, 15, 24)
    measured, control = [], []
    for d in distances:
        room = sample_room(TRAIN, rng, distance=d)
        seed = int(rng.integers(2 ** 31))
        aligned = simulate_rir(room, TRAIN, sr=SR, rng=np.random.default_rng(seed))
        unaligned = simulate_rir(room, TRAIN, sr=SR, rng=np.random.default_rng(seed), align=False)
        y, _ = synthesize(dry, aligned, TRAIN, n=4 * SR, sr=SR, rng=rng)
        # a low threshold: far in a reverberant room, the reflections' build-up dwarfs the direct sound
        measured.append(first_arrival(y, 0.05))
        control.append(first_arrival(np.convolve(dry[:SR], unaligned), 0.05))
    assert np.corrcoef(distances, control)[0, 1] > 0.95
    assert abs(np.corrcoef(np.log(distances), measured)[0, 1]) < 0.5
    assert abs(np.corrcoef(distances, measured)[0, 1]) < 0.5


def test_distance_priors():
    """Training distances: log-normal around 2.5 m (sigma 0.7), truncated to 0.3–20 m and to the
    room; the broad evaluation set: log-uniform over 0.3–20 m."""
    rng = np.random.default_rng(0)
    d = np.log([draw_distance(TRAIN, rng) for _ in range(5000)])
    assert np.exp(d.min()) >= 0.3 and np.exp(d.max()) <= 20.0
    assert np.exp(np.median(d)) == pytest.approx(2.5, rel=0.06)
    assert np.std(d) == pytest.approx(0.7, rel=0.08)
    assert max(draw_distance(TRAIN, rng, hi=1.5) for _ in range(500)) <= 1.5
    b = np.log([draw_distance(BROAD, rng) for _ in range(5000)])
    lo, hi = np.log(0.3), np.log(20.0)
    np.testing.assert_allclose(np.quantile(b, [0.1, 0.5, 0.9]), lo + (hi - lo) * np.array([0.1, 0.5, 0.9]), atol=0.1)


def test_bank_is_seeded_and_cached(tmp_path):
    a = make_bank(TRAIN, 3, 2, seed=9, sr=SR, cache_dir=tmp_path / "a", progress=False)
    b = make_bank(TRAIN, 3, 2, seed=9, sr=SR, cache_dir=tmp_path / "b", progress=False)
    c = make_bank(TRAIN, 3, 2, seed=9, sr=SR, cache_dir=tmp_path / "a", progress=False)  # from the cache
    assert len(a) == 6 and list(a.room) == [0, 0, 1, 1, 2, 2]
    for x, y, z in zip(a.rirs, b.rirs, c.rirs):
        np.testing.assert_array_equal(x, y)
        np.testing.assert_array_equal(x, z)
    np.testing.assert_array_equal(a.distance, c.distance)
    assert np.all((a.distance >= 0.3) & (a.distance <= 20)) and np.all((a.rt60 >= 0.1) & (a.rt60 <= 2.0))


def test_synthesize_length_level_noise():
    rng = np.random.default_rng(3)
    h = simulate_rir(sample_room(SHIFTED, rng, distance=3.0), SHIFTED, sr=SR, rng=rng)
    dry = np.random.default_rng(0).standard_normal(SR * 5).astype(np.float32)
    peaks = []
    for _ in range(20):
        y, onset = synthesize(dry, h, SHIFTED, n=SR * 4, sr=SR, rng=rng)
        assert y.shape == (SR * 4,) and y.dtype == np.float32 and np.all(np.isfinite(y))
        assert 0 < onset < SR * 2 + DIRECT_INDEX + 1
        peaks.append(np.abs(y).max())
    assert max(peaks) / min(peaks) > 5  # random level
