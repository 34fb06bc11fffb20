import numpy as np
import pytest

from soundpred.metrics import confusion_matrix, map_at_k, per_class_recall, summarize, top1_accuracy


def test_map3_hand_computed():
    # true labels 0, 1, 2, 3 with the true label at rank 1, 2, 3 and 4
    scores = np.array([[0.7, 0.2, 0.1, 0.0],
                       [0.5, 0.3, 0.1, 0.1],
                       [0.4, 0.3, 0.2, 0.1],
                       [0.4, 0.3, 0.2, 0.1]])
    y = np.array([0, 1, 2, 3])
    assert map_at_k(scores, y, 3) == pytest.approx((1 + 1 / 2 + 1 / 3 + 0) / 4)
    assert map_at_k(scores, y, 1) == pytest.approx(0.25)
    assert top1_accuracy(scores, y) == pytest.approx(0.25)


def test_map3_perfect_and_worst():
    scores = np.eye(5)
    assert map_at_k(scores, np.arange(5)) == 1.0
    # the true class always ranked last
    assert map_at_k(1 - np.eye(5), np.arange(5)) == 0.0


def test_confusion_and_recall():
    scores = np.array([[1, 0], [1, 0], [0, 1], [1, 0]], float)
    y = np.array([0, 0, 1, 1])
    np.testing.assert_array_equal(confusion_matrix(scores, y), [[2, 0], [1, 1]])
    np.testing.assert_allclose(per_class_recall(scores, y), [1.0, 0.5])
    s = summarize(scores, y, ["a", "b"])
    assert s["macro_recall"] == 0.75 and s["top1"] == 0.75 and s["per_class_recall"] == {"a": 1.0, "b": 0.5}


def test_shape_checks():
    with pytest.raises(ValueError):
        map_at_k(np.zeros((3, 2)), np.zeros(4))


def test_distance_summary_hand_computed():
    from soundpred.metrics import distance_summary

    true = np.array([0.5, 1.5, 3.0, 10.0])
    pred = np.array([1.0, 1.5, 2.0, 15.0])
    s = distance_summary(pred, true, lo=pred / 2, hi=pred * 2, rt60=[0.2, 0.2, 0.7, 1.5])
    assert s["mae_m"] == pytest.approx((0.5 + 0 + 1 + 5) / 4, abs=1e-3)
    assert s["median_ae_m"] == pytest.approx(0.75)
    assert s["rel_error"] == pytest.approx((1 + 0 + 1 / 3 + 0.5) / 4, abs=1e-3)
    assert s["coverage"] == 1.0
    assert s["by_distance"]["0.3-1"] == {"n": 1, "mae_m": 0.5, "rel_error": 1.0, "estimate_p10_p90": [1.0, 1.0]}
    assert s["spearman"] == 1.0 and "spearman_within_room" not in s
    assert s["by_distance"]["8-20"]["mae_m"] == 5.0 and "4-8" not in s["by_distance"]
    assert s["by_rt60"]["0.1-0.3"]["n"] == 2


def test_mae_rel_unrounded_and_with_one_answer_for_all():
    """The unrounded MAE and relative error that differences and ratios use: hand-computed, equal
    to :func:`distance_summary`'s to its 3 decimals, and with one number answered for every example
    (the median guess)."""
    from soundpred.metrics import distance_summary, mae_rel

    true = np.array([0.5, 1.5, 3.0, 10.0])
    pred = np.array([1.0, 1.5, 2.0, 15.0])
    mae, rel = mae_rel(pred, true)
    assert mae == pytest.approx(6.5 / 4, abs=1e-12) and rel == pytest.approx((1 + 0 + 1 / 3 + 0.5) / 4, abs=1e-12)
    s = distance_summary(pred, true)
    assert (round(mae, 3), round(rel, 3)) == (s["mae_m"], s["rel_error"])
    assert mae_rel(2.0, list(true)) == pytest.approx(((1.5 + 0.5 + 1 + 8) / 4, (3 + 1 / 3 + 1 / 3 + 0.8) / 4))


def test_distance_rank_correlation_within_rooms():
    """Two rooms whose estimates order their own sources the wrong way round, though the
    rooms' levels make the overall order look right."""
    from soundpred.metrics import distance_summary

    true = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    pred = np.array([1.3, 1.2, 1.1, 5.0, 4.5, 4.0])  # room 0 small, room 1 large, reversed inside
    s = distance_summary(pred, true, room=[0, 0, 0, 1, 1, 1])
    assert s["spearman_within_room"] == -1.0
    assert s["spearman"] == pytest.approx(1 - 6 * 16 / (6 * 35), abs=1e-3)  # rank differences 2,0,-2,2,0,-2
    assert s["by_distance"]["4-8"]["estimate_p10_p90"] == [4.1, 4.9]


def test_slope_within_rooms_measures_how_far_the_estimate_moves():
    """Perfect ordering is not enough: estimates that move half as far (in log) as the truth
    inside each room have slope 0.5, whatever each room's offset; following the truth gives 1."""
    from soundpred.metrics import distance_summary, slope_within_rooms

    true = np.array([1.0, 2.0, 4.0, 3.0, 12.0])
    room = np.array([0, 0, 0, 1, 1])
    half = np.exp(0.5 * np.log(true) + np.array([0.3, 0.3, 0.3, -1.0, -1.0]))  # room offsets
    assert slope_within_rooms(half, true, room) == pytest.approx(0.5, abs=1e-3)
    assert slope_within_rooms(true * 3, true, room) == pytest.approx(1.0, abs=1e-3)
    s = distance_summary(half, true, room=room)
    assert s["spearman_within_room"] == 1.0 and s["slope_within_room"] == pytest.approx(0.5, abs=1e-3)
    assert slope_within_rooms(true[[0, 3]], true[[0, 3]], room[[0, 3]]) is None  # one example per room


def test_paired_bootstrap_tells_a_real_gain_from_none():
    from soundpred.metrics import paired_bootstrap

    rng = np.random.default_rng(0)
    true = np.exp(rng.uniform(np.log(0.5), np.log(10), 200))
    room = np.repeat(np.arange(50), 4)
    noisy = true * np.exp(rng.normal(0, 0.5, 200))
    better = true * np.exp(rng.normal(0, 0.1, 200))
    gain = paired_bootstrap(better, noisy, true, room, n=300)
    assert gain["mae_m"]["difference"] < 0 and gain["mae_m"]["interval"][1] < 0
    assert gain["mae_m"]["share_better"] == 1.0 and gain["spearman"]["share_better"] == 1.0
    same = paired_bootstrap(noisy, noisy, true, room, n=300)
    assert same["rel_error"] == {"difference": 0.0, "interval": [0.0, 0.0], "share_better": 0.0}


def test_paired_bootstrap_within_rooms():
    """The within-room rank measure: estimates in the true order within every room against
    estimates in the reverse order gain 2 in every room (so in every draw), whatever each room's
    scale; against themselves, 0. Rooms of fewer than three examples give none."""
    from soundpred.metrics import paired_bootstrap

    true = np.tile([1.0, 2.0, 4.0, 8.0], 5)
    room = np.repeat(np.arange(5), 4)
    reverse = np.tile([8.0, 4.0, 2.0, 1.0], 5) * np.repeat(np.arange(1, 6), 4)
    g = paired_bootstrap(true * 1.5, reverse, true, room, n=200)["spearman_within_room"]
    assert g == {"difference": 2.0, "interval": [2.0, 2.0], "share_better": 1.0}
    noisy = true * np.random.default_rng(1).lognormal(0, 1.0, len(true))
    same = paired_bootstrap(noisy, noisy, true, room, n=200)["spearman_within_room"]
    assert same["difference"] == 0.0 and same["share_better"] == 0.0
    pairs = paired_bootstrap(true, reverse, true, np.repeat(np.arange(10), 2), n=50)
    assert "spearman_within_room" not in pairs and "spearman" in pairs
