"""Training smoke run on real starter clips: tiny subset, one epoch, bundle written, loaded, predicts."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from soundpred.bundle import load_bundle, save_bundle
from soundpred.predict import Predictor

from .conftest import ROOT, STARTER, needs_starter, tone


@pytest.mark.slow
@needs_starter
@pytest.mark.parametrize("arch", ["yamnet", "cnn", "student"])
def test_training_smoke(tmp_path, monkeypatch, data_cache, arch):
    """The documented FSDKaggle2018 training command on a tiny subset (YAMNet: the default)."""
    from train import classifier

    monkeypatch.setenv("SOUNDPRED_CACHE", str(data_cache))
    out = tmp_path / "bundle"
    extra = ["--steps", "2", "--head-epochs", "1", "--no-open-set"] if arch == "yamnet" else ["--width", "8"]
    metrics = classifier.main(["--data", str(STARTER), "--out", str(out), "--limit", "48", "--epochs", "1",
                               "--batch-size", "8", "--arch", arch, "--verbose", "0", *extra])
    assert set(metrics["test"]) >= {"top1", "map3", "macro_recall", "per_class_recall"}
    for f in ("README.md", "soundpred.json", "training_log.json", "figures/training_curves.png",
              "figures/confusion_test.png"):
        assert (out / f).is_file(), f
    meta = json.loads((out / "soundpred.json").read_text())
    assert meta["metrics"]["test"]["n_clips"] > 0 and meta["training"]["arch"] == arch
    bundle = load_bundle(out)
    pred = Predictor(bundle).predict((16000, tone(16000, 3.0)))
    assert len(pred.top) == 5 and np.isclose(pred.scores.sum(), 1.0, atol=1e-4)
    assert "top-1" in (out / "README.md").read_text()
    if arch == "yamnet":
        assert len(bundle.labels) == 41 and len(bundle.meta["audioset_labels"]) == 521
        assert "Apache-2.0" in (out / "README.md").read_text() and pred.audioset


def test_group_split_keeps_recording_groups_together(tmp_path):
    from soundpred.data import Clip
    from train.data import group_split

    clips = [Clip(tmp_path / f"c{i}.flac", "Oboe") for i in range(200)]
    groups = {f"c{i}.flac": f"g{i // 4}" for i in range(200)}
    train, held = group_split(clips, groups, 0.25)
    assert not {groups[c.path.name] for c in train} & {groups[c.path.name] for c in held}
    assert 0.1 < len(held) / 200 < 0.4
    assert group_split(clips, groups, 0.25) == (train, held)  # stable


def test_stratified_split_keeps_every_class():
    from train.data import stratified_split

    labels = ["a"] * 10 + ["b"] * 3 + ["c"] * 1
    tr, va = stratified_split(labels, 0.2, seed=0)
    assert sorted(np.concatenate([tr, va])) == list(range(14))
    assert sorted(labels[i] for i in va) == ["a", "a", "b"]
    assert "c" in {labels[i] for i in tr}


def test_augmentations():
    from train.data import add_noise, lowpass, random_crop

    rng = np.random.default_rng(0)
    y = tone(16000, 1.0, freq=6000)
    assert np.abs(lowpass(y, 16000, 3000)).max() < 0.05  # 6 kHz removed by a 3 kHz low-pass
    noisy = add_noise(y, 0.0, rng)
    assert np.mean((noisy - y) ** 2) == pytest.approx(np.mean(y ** 2), rel=0.05)  # 0 dB SNR
    short = random_crop(y[:100], 400, rng)
    assert short.shape == (400,) and np.count_nonzero(short) == 100


@pytest.mark.slow
@needs_starter
def test_distance_training_smoke(tmp_path, monkeypatch, data_cache):
    """Tiny room bank, one short epoch: evaluation tables, figures and a loadable bundle."""
    import shutil

    if shutil.which("espeak-ng") is None:
        pytest.fail("espeak-ng is required (apt-get install espeak-ng)")
    from train import distance

    monkeypatch.setenv("SOUNDPRED_CACHE", str(data_cache))
    out = tmp_path / "dist"
    results = distance.main(["--out", str(out), "--rooms", "4", "--eval-rooms", "2", "--epochs", "1", "--steps", "2",
                             "--batch-size", "4", "--width", "4", "--speech", "12", "--verbose", "0", "--room-hint",
                             "--hybrid-rooms", "2", "--aux-weight", "0.5", "--rel-weight", "0.3", "--hop", "80",
                             "--pair-weight", "0.5", "--aux-pair-weight", "0.5"])
    for name in ("held-out rooms", "shifted simulation", "hybrid simulation"):
        assert set(results[name]) == {"model", "median_guess", "classical_features", "rir_oracle_not_blind",
                                      "model_with_room_kind"}
        assert "spearman_within_room" in results[name]["model"] and "slope_within_room" in results[name]["model"]
        assert "rir_oracle_not_blind" not in results["training rooms"]  # fitted on those RIRs
        assert 0 <= results[name]["model"]["coverage"] <= 1
        assert (out / "figures" / f"distance_{name.replace(' ', '_')}.png").is_file()
    bundle = load_bundle(out)
    assert bundle.task == "distance" and "held-out rooms" in bundle.meta["metrics"]
    assert len(bundle.model.inputs) == 2  # waveform and room hint
    assert len(bundle.model.outputs) == 1  # the acoustics head trained alongside is not in the bundle
    assert bundle.frontend.hop_length == 80 and bundle.meta["training"]["hybrid_rirs"] == 8
    card = (out / "README.md").read_text()
    assert "predicting the true RIR's DRR" in card and "ray-traced tail" in card and "within-room pairs" in card
    assert "acoustics head's DRR and C50 differences" in card and bundle.meta["training"]["aux_pair_weight"] == 0.5
    # --init OUT.state starts a new run from the last epoch's weights (here the bundle's: no averaging)
    from soundpred.models import build_distance
    from train.distance import init_weights
    from train.distance_eval import with_training_heads

    fresh = build_distance(bundle.frontend, width=4, room_hint=True)
    init_weights(with_training_heads(fresh), fresh, tmp_path / "dist.state")
    for a, b in zip(fresh.get_weights(), bundle.model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert not (tmp_path / "dist.checkpoint.weights.h5").exists()  # the state holds them; no second copy
    assert (out / "README.md").read_text().startswith("---\nlibrary_name: keras")


def saved_optimizer(state: Path) -> tuple[int, np.ndarray]:
    """The optimizer's step count and its first Adam moment, as saved in a training state (Keras
    stores a compiled model's optimizer variables in its weights file, the step count first)."""
    import h5py

    from train.common import TrainingState

    with h5py.File(state / TrainingState.WEIGHTS, "r") as f:
        return int(f["optimizer/vars/0"][()]), f["optimizer/vars/2"][()]


@pytest.mark.slow
@needs_starter
def test_distance_training_stops_and_resumes_where_it_left_off(tmp_path, monkeypatch, data_cache):
    """``--stop-after`` ends a run after N epochs with its whole state saved; ``--resume`` goes on
    from it: the optimizer's step count (so the learning-rate schedule) and the checkpoint
    average carry over, the history covers every epoch, and other options are refused."""
    import shutil

    if shutil.which("espeak-ng") is None:
        pytest.fail("espeak-ng is required (apt-get install espeak-ng)")
    from train import distance
    from train.common import TrainingState

    monkeypatch.setenv("SOUNDPRED_CACHE", str(data_cache))
    out = tmp_path / "dist"
    args = ["--out", str(out), "--rooms", "4", "--eval-rooms", "2", "--epochs", "3", "--steps", "2",
            "--batch-size", "4", "--width", "4", "--speech", "12", "--verbose", "0", "--average-last", "2"]
    assert distance.main(args + ["--stop-after", "1"]) is None
    state = TrainingState.read(tmp_path / "dist.state")
    assert state["epochs_done"] == 1 and state["average_count"] == 0 and len(state["history"]["loss"]) == 1
    assert not (out / "soundpred.json").exists()  # no bundle until the last epoch
    step, first_moments = saved_optimizer(tmp_path / "dist.state")
    assert step == 2  # the optimizer's step count: 1 epoch of 2 batches

    with pytest.raises(SystemExit, match="lr"):
        distance.main(args + ["--lr", "0.1", "--resume"])
    assert distance.main(args + ["--resume", "--stop-after", "1"]) is None
    state = TrainingState.read(tmp_path / "dist.state")
    assert state["epochs_done"] == 2 and state["average_count"] == 1 and len(state["history"]["loss"]) == 2
    step, moments = saved_optimizer(tmp_path / "dist.state")
    assert step == 4  # went on counting: the schedule did not start again
    assert moments.shape == first_moments.shape and not np.allclose(moments, first_moments)

    results = distance.main(args + ["--resume"])
    assert "held-out rooms" in results
    state = TrainingState.read(tmp_path / "dist.state")
    assert state["epochs_done"] == 3 and state["average_count"] == 2
    log = json.loads((out / "training_log.json").read_text())
    assert len(log["loss"]) == 3 and log["loss"][:2] == state["history"]["loss"][:2]
    meta = load_bundle(out).meta["training"]
    assert meta["train_seconds"] == pytest.approx(state["train_seconds"], abs=0.1) and meta["epochs"] == 3


def toy_bank(room):
    """A training-settings RirBank of short synthetic RIRs (a direct spike, then a decaying noise
    tail; seeded), one per entry of ``room`` (its room id); RIR i lies 0.5 (i + 1) m away, so each
    distance names its RIR."""
    from soundpred.rooms import TRAIN, RirBank

    rng = np.random.default_rng(0)
    n = len(room)
    distances = np.arange(1, n + 1) * 0.5
    rirs = [np.r_[np.zeros(20), 1.0, 0.3 * rng.standard_normal(400) * np.exp(-np.arange(400) / 80)].astype(np.float32)
            for _ in distances]
    return RirBank(rirs, distances, np.full(n, 0.5), np.asarray(room), TRAIN, np.full(n, 100.0))


def test_init_from_one_member_of_the_embedded_ensemble():
    """``--init models/distance:N`` starts a network of the member's shape from that member alone:
    member 2 of the embedded ensemble is session 39's ``models/distance-p90direct10``, weight for
    weight. Two members, or a network of another shape, are refused with what went wrong."""
    from soundpred.models import DISTANCE_FRONTEND, build_distance
    from train.distance import init_weights
    from train.distance_eval import with_training_heads

    ensemble = ROOT / "models" / "distance"
    net = build_distance(DISTANCE_FRONTEND, room_hint=True)
    init_weights(with_training_heads(net), net, Path(f"{ensemble}:2"))
    for a, b in zip(net.get_weights(), load_bundle(ROOT / "models" / "distance-p90direct10").model.get_weights(),
                    strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="one member"):
        init_weights(net, net, Path(f"{ensemble}:1,2"))
    narrow = build_distance(DISTANCE_FRONTEND, width=4, room_hint=True)
    with pytest.raises(ValueError, match="another shape"):
        init_weights(narrow, narrow, Path(f"{ensemble}:1"))


def test_batches_from_a_first_draw_are_the_batches_a_fresh_run_draws_later():
    """A resumed run starts its batch draws at ``first_draw``; draw k is always the same batch."""
    from soundpred.models import DISTANCE_FRONTEND
    from soundpred.rooms import TRAIN
    from train.distance_eval import DistanceConfig, DrySources, make_batches

    bank = toy_bank(np.repeat(np.arange(4), 3))
    t = np.arange(16000 * 5) / 16000
    speech = [np.sin(2 * np.pi * f * t).astype(np.float32) for f in 250.0 * np.arange(1, 5)]
    config = DistanceConfig(steps=2, batch_size=6, speech_share=1.0)
    sources = DrySources(speech, [], speech, [])
    fresh = make_batches([(bank, TRAIN)], sources, DISTANCE_FRONTEND, config)
    drawn = [fresh[0] for _ in range(4)]  # draws 0, 1, 2, 3
    later = make_batches([(bank, TRAIN)], sources, DISTANCE_FRONTEND, config, first_draw=3)[0]
    np.testing.assert_array_equal(later[0], drawn[3][0])
    np.testing.assert_array_equal(later[1], drawn[3][1])
    assert not np.array_equal(drawn[0][1], drawn[3][1])


def test_distance_loss_adds_relative_error():
    """The training loss: Gaussian NLL of log-distance plus the weighted |d_hat / d - 1|."""
    from train.distance_eval import distance_loss

    y = np.log([[2.0], [2.0]]).astype(np.float32)
    pred = np.array([[np.log(4.0), 0.0], [np.log(1.0), 0.0]], np.float32)  # twice too far, half as far
    nll = 0.5 * np.log(2.0) ** 2
    np.testing.assert_allclose(np.asarray(distance_loss(0.0)(y, pred)), [nll, nll], rtol=1e-5)
    np.testing.assert_allclose(np.asarray(distance_loss(0.3)(y, pred)), [nll + 0.3 * 1.0, nll + 0.3 * 0.5], rtol=1e-5)


def test_distance_loss_pair_term_penalises_a_wrong_difference_within_a_room():
    """The pair term: a pair whose estimates are both off by the same factor (the room's scale
    misjudged, the ordering right) costs nothing extra; a compressed pair costs the squared error
    of the log-distance difference, given to both of its examples."""
    from train.distance_eval import distance_loss

    y = np.log([[1.0], [4.0], [1.0], [4.0]]).astype(np.float32)
    pred = np.array([[np.log(2.0), 0.0], [np.log(8.0), 0.0],  # both twice too far: difference right
                     [np.log(2.0), 0.0], [np.log(2.0), 0.0]], np.float32)  # compressed to one value
    base = np.asarray(distance_loss(0.0)(y, pred))
    extra = np.asarray(distance_loss(0.0, pair_weight=2.0)(y, pred)) - base
    np.testing.assert_allclose(extra, [0.0, 0.0, 2.0 * np.log(4.0) ** 2, 2.0 * np.log(4.0) ** 2], rtol=1e-5, atol=1e-6)


def test_resume_takes_a_state_saved_before_an_option_was_added():
    """A state saved by an older trainer lacks the options added since: left off, they do not
    block ``--resume``; switched on, or any saved option changed, they do."""
    from train.common import changed_options

    saved = {"lr": 1e-3, "pair_weight": 0.0, "hop": 160}
    assert changed_options(saved, {**saved, "aux_pair_weight": 0.0, "init": None}) == []
    assert changed_options(saved, {**saved, "aux_pair_weight": 1.0}) == ["aux_pair_weight"]
    assert changed_options(saved, {**saved, "lr": 2e-3}) == ["lr"]
    assert changed_options({**saved, "old_option": 1}, saved) == ["old_option"]  # one this trainer lost


def test_acoustics_loss_pair_term_judges_the_drr_and_c50_differences_within_a_room():
    """The acoustics head's pair term: DRR and C50 both off by the same amount at the two
    positions of a room cost only their squared error; an estimate that stays put while the true
    DRR and C50 fall costs the squared error of the difference, given to both examples. The
    decay times, RT60 and volume (the same in one room) are judged only example by example."""
    from train.distance_eval import ACOUSTIC_TARGETS, acoustics_loss

    k = len(ACOUSTIC_TARGETS)
    y = np.zeros((4, k), np.float32)
    y[[1, 3], 0], y[[1, 3], 1] = -2.0, -1.0  # the far position of each pair: lower DRR and C50
    pred = y.copy()
    pred[0:2, 0:2] += 0.5  # pair 1: both positions off by the same amount
    pred[3, 0:2] = 0.0  # pair 2: the far position's estimate does not move
    pred[0:2, 4] += 3.0  # the RT60 off at both positions of pair 1: no pair cost (not a judged target)
    base = np.asarray(acoustics_loss(0.0)(y, pred))
    np.testing.assert_allclose(base, np.mean(np.square(pred - y), axis=1), rtol=1e-6)
    extra = np.asarray(acoustics_loss(2.0)(y, pred)) - base
    np.testing.assert_allclose(extra, [0.0, 0.0, 2.0 * (4 + 1) / 2, 2.0 * (4 + 1) / 2], rtol=1e-5, atol=1e-6)


def test_aux_pair_weight_alone_makes_pair_batches_and_needs_the_head():
    """``aux_pair_weight`` without the distance pair term still draws within-room pairs, and the
    command refuses it without the acoustics head it acts on."""
    from train.distance import parse_args
    from train.distance_eval import DistanceConfig

    assert DistanceConfig(aux_weight=0.5, aux_pair_weight=1.0).paired and not DistanceConfig(aux_weight=0.5).paired
    _, config = parse_args(["--out", "x", "--aux-weight", "0.5", "--aux-pair-weight", "1"])
    assert config.aux_pair_weight == 1.0 and config.pair_weight == 0.0 and config.paired
    with pytest.raises(SystemExit):
        parse_args(["--out", "x", "--aux-pair-weight", "1"])


def test_training_parts_share_the_plain_rooms_with_their_twins():
    """``--talker-share``, ``--turned-share`` and ``--mic-share``: of the examples not drawn from
    the hybrid rooms, those shares come from the talker-like bank, the bank with a source facing
    anywhere and the one with a microphone facing anywhere; the command takes shares that add up
    to at most 1, and the card says what was trained on."""
    from dataclasses import replace

    from soundpred.rooms import HYBRID, TRAIN, TRAIN_MIC, TRAIN_TALKER, TRAIN_TURNED, RirBank
    from train.distance import parse_args
    from train.distance_eval import Banks, DistanceConfig, _hybrid_training, _simulation, training_parts

    def bank(settings):
        return RirBank([np.ones(8, np.float32)], np.array([1.0]), np.array([0.5]), np.array([0]), settings,
                       np.array([60.0]))

    plain, talker, turned, hybrid = bank(TRAIN), bank(TRAIN_TALKER), bank(TRAIN_TURNED), bank(HYBRID)
    config = DistanceConfig(hybrid_share=0.4, talker_share=0.25)
    parts, shares = training_parts(Banks(plain, None, None, None, None, hybrid, talker), config)
    assert [b for b, _ in parts] == [plain, talker, hybrid] and [s.name for _, s in parts] == [
        "train", "train-talker", "hybrid"]
    np.testing.assert_allclose(shares, [0.45, 0.15, 0.4])
    parts, shares = training_parts(Banks(plain, None, None, None, None, None, talker), config)
    assert [b for b, _ in parts] == [plain, talker]
    np.testing.assert_allclose(shares, [0.75, 0.25])
    parts, shares = training_parts(Banks(plain, None, None, None, None), config)
    assert [b for b, _ in parts] == [plain] and shares == [1.0]
    both = DistanceConfig(hybrid_share=0.4, talker_share=0.25, turned_share=0.5)
    parts, shares = training_parts(Banks(plain, None, None, None, None, hybrid, talker, turned), both)
    assert [s.name for _, s in parts] == ["train", "train-talker", "train-turned", "hybrid"]
    np.testing.assert_allclose(shares, [0.15, 0.15, 0.3, 0.4])
    parts, shares = training_parts(Banks(plain, None, None, None, None, None, None, turned), both)
    assert [b for b, _ in parts] == [plain, turned]
    np.testing.assert_allclose(shares, [0.5, 0.5])

    _, parsed = parse_args(["--out", "x", "--talker-share", "0.5", "--turned-share", "0.25"])
    assert parsed.talker_share == 0.5 and parsed.turned_share == 0.25
    for bad in (["--talker-share", "1.5"], ["--turned-share", "-0.1"], ["--talker-share", "0.6", "--turned-share", "0.6"]):
        with pytest.raises(SystemExit):
            parse_args(["--out", "x", *bad])
    assert "talker-like" in _hybrid_training({"talker_share": 0.5, "hybrid_rirs": 0})
    assert "talker" not in _hybrid_training({"talker_share": 0.0, "hybrid_rirs": 0})
    assert "face anywhere" in _hybrid_training({"turned_share": 0.5, "hybrid_rirs": 0})
    assert "anywhere" not in _hybrid_training({"talker_share": 0.5, "hybrid_rirs": 0})

    mic = bank(TRAIN_MIC)  # member 1's shares with the microphone twin (session 34's p90mic)
    parts, shares = training_parts(Banks(plain, None, None, None, None, None, None, turned, mic),
                                   DistanceConfig(turned_share=0.5, mic_share=0.25))
    assert [s.name for _, s in parts] == ["train", "train-turned", "train-mic"]
    np.testing.assert_allclose(shares, [0.25, 0.5, 0.25])
    with pytest.raises(SystemExit):
        parse_args(["--out", "x", "--turned-share", "0.5", "--mic-share", "0.6"])
    words = _hybrid_training({"turned_share": 0.5, "mic_share": 0.25, "hybrid_rirs": 0})
    assert "25 % of the examples" in words and "microphone that may face anywhere (hypercardioid" in words
    assert "hypercardioid microphone at a random orientation" in _simulation(TRAIN_MIC)
    assert "omnidirectional source" in _simulation(TRAIN_MIC) and "omnidirectional microphone" not in _simulation(TRAIN_MIC)
    assert "figure-eight microphone" in _simulation(replace(TRAIN, mic_pattern="figure-eight", directivity="source"))
    assert "cardioid source" in _simulation(replace(TRAIN, mic_pattern="figure-eight", directivity="source"))


def test_hybrid_room_variants_are_wired_through():
    """``--hybrid-free-rt60`` and ``--hybrid-train-prior``: the hybrid training rooms come from
    HYBRID_FREE and/or HYBRID with TRAIN's distance prior (the bank's settings and the examples'
    noise), each option needs hybrid rooms, and the member's card line and the ensemble card say
    which hybrid simulation a member heard (older records: HYBRID)."""
    from soundpred.rooms import HYBRID, HYBRID_FREE, TRAIN, RirBank
    from train.distance import parse_args
    from train.distance_eval import (Banks, DistanceConfig, _hybrid_training, _member_lines, _other_simulations,
                                     config_hybrid_settings, hybrid_settings, record_hybrid_settings, training_parts)

    def bank(settings):
        return RirBank([np.ones(8, np.float32)], np.array([1.0]), np.array([0.5]), np.array([0]), settings,
                       np.array([60.0]))

    _, config = parse_args(["--out", "x", "--hybrid-rooms", "9", "--hybrid-share", "0.3", "--hybrid-free-rt60"])
    assert config.hybrid_rt60_free and config_hybrid_settings(config) is HYBRID_FREE
    assert config_hybrid_settings(DistanceConfig(hybrid_rooms=9)) is HYBRID
    for flag in ("--hybrid-free-rt60", "--hybrid-train-prior"):
        with pytest.raises(SystemExit):
            parse_args(["--out", "x", flag])
    plain, free = bank(TRAIN), bank(HYBRID_FREE)
    parts, shares = training_parts(Banks(plain, None, None, None, None, free), config)
    assert [s for _, s in parts] == [TRAIN, HYBRID_FREE]
    np.testing.assert_allclose(shares, [0.7, 0.3])

    _, prior = parse_args(["--out", "x", "--hybrid-rooms", "9", "--hybrid-train-prior"])
    settings = config_hybrid_settings(prior)
    assert settings.name == "hybrid-train-prior" and settings.distance_prior == TRAIN.distance_prior
    assert settings.key() not in (HYBRID.key(), HYBRID_FREE.key(), TRAIN.key())
    same = {k for k, v in vars(HYBRID).items() if getattr(settings, k) == v}
    assert set(vars(HYBRID)) - same == {"name", "distance_prior"}  # the acoustics are HYBRID's
    both = hybrid_settings(rt60_free=True, train_prior=True)
    assert both.rt60_free and both.distance_prior == TRAIN.distance_prior and both.name == "hybrid-free-train-prior"
    assert record_hybrid_settings({}) is HYBRID and record_hybrid_settings({"hybrid_rt60_free": None}) is HYBRID

    assert "whatever the size" in _hybrid_training({"hybrid_rirs": 36, "hybrid_share": 0.3, "hybrid_rt60_free": True})
    assert "whatever the size" not in _hybrid_training({"hybrid_rirs": 36, "hybrid_share": 0.3})
    assert "log-normal around 2.5 m" in _hybrid_training({"hybrid_rirs": 36, "hybrid_share": 0.3,
                                                          "hybrid_train_prior": True})
    member = {"name": "m", "room_hint": True, "hybrid_share": 0.3, "command": "python -m train.distance"}
    free_member, prior_member = {**member, "hybrid_rt60_free": True}, {**member, "hybrid_train_prior": True}
    lines = _member_lines([member, free_member, prior_member, {**prior_member, "hybrid_share": 0.0}]).splitlines()
    assert "`hybrid" not in lines[0] and "hybrid simulation with an RT60 drawn whatever the size (`hybrid-free`)" in lines[1]
    assert "with the training rooms' distances (`hybrid-train-prior`)" in lines[2] and "`hybrid" not in lines[3]
    words = _other_simulations([member, free_member, prior_member])
    assert "`hybrid-free` settings: an RT60 drawn over 0.1–3 s whatever the size" in words
    assert "`hybrid-train-prior` settings: surfaces from measured material tables" in words
    assert "distances log-normal around 2.5 m" in words
    assert "hybrid-" not in _other_simulations([member, {**member, "hybrid_rt60_free": None}])  # older records


def test_hybrid_prior_mix_draws_both_priors():
    """``--hybrid-prior-mix P``: of the hybrid share, P from hybrid rooms drawn with TRAIN's distance
    prior (``hybrid-train-prior``, or ``hybrid-free-train-prior`` with a free RT60), the rest from
    the plain hybrid rooms; no twin bank, no split; the option's limits; the cards say so."""
    from soundpred.rooms import HYBRID, TRAIN, RirBank
    from train.distance import parse_args
    from train.distance_eval import (Banks, _hybrid_training, _member_lines, _other_simulations, config_hybrid_twin,
                                     training_parts)
    from train.ensemble import MEMBER_FIELDS

    def bank(settings):
        return RirBank([np.ones(8, np.float32)], np.array([1.0]), np.array([0.5]), np.array([0]), settings,
                       np.array([60.0]))

    _, config = parse_args(["--out", "x", "--hybrid-rooms", "9", "--hybrid-share", "0.3", "--hybrid-prior-mix", "0.5"])
    twin = config_hybrid_twin(config)
    assert twin.name == "hybrid-train-prior" and twin.distance_prior == TRAIN.distance_prior
    parts, shares = training_parts(Banks(bank(TRAIN), None, None, None, None, bank(HYBRID), hybrid_twin=bank(twin)),
                                   config)
    assert [s for _, s in parts] == [TRAIN, HYBRID, twin]
    np.testing.assert_allclose(shares, [0.7, 0.15, 0.15])
    parts, shares = training_parts(Banks(bank(TRAIN), None, None, None, None, bank(HYBRID)), config)  # no twin built
    assert [s for _, s in parts] == [TRAIN, HYBRID] and np.allclose(shares, [0.7, 0.3])
    _, free = parse_args(["--out", "x", "--hybrid-rooms", "9", "--hybrid-free-rt60", "--hybrid-prior-mix", "0.2"])
    assert config_hybrid_twin(free).name == "hybrid-free-train-prior" and config_hybrid_twin(free).rt60_free
    assert config_hybrid_twin(parse_args(["--out", "x", "--hybrid-rooms", "9"])[1]) is None
    for bad in (["--hybrid-prior-mix", "0.5"], ["--hybrid-rooms", "9", "--hybrid-prior-mix", "1.5"],
                ["--hybrid-rooms", "9", "--hybrid-prior-mix", "0.5", "--hybrid-train-prior"]):
        with pytest.raises(SystemExit):
            parse_args(["--out", "x", *bad])

    assert "hybrid_prior_mix" in MEMBER_FIELDS
    words = _hybrid_training({"hybrid_rirs": 36, "hybrid_share": 0.3, "hybrid_prior_mix": 0.5})
    assert "50 % of them from as many other rooms of that simulation at the training rooms' distances " \
           "(`hybrid-train-prior`)." in words
    assert "training rooms' distances" not in _hybrid_training({"hybrid_rirs": 36, "hybrid_share": 0.3})
    member = {"name": "m", "room_hint": True, "hybrid_share": 0.3, "command": "python -m train.distance",
              "hybrid_prior_mix": 0.5}
    assert "30 % of its training examples from the hybrid simulation, 50 % of those at the training rooms' " \
           "distances" in _member_lines([member])
    assert "`hybrid-train-prior` settings" in _other_simulations([member])
    assert "hybrid-" not in _other_simulations([{**member, "hybrid_prior_mix": 0.0}])


def test_every_twin_of_the_training_rooms_is_wired_through():
    """Each entry of ``TWINS`` has its share in the config, the command and the ensemble's member
    record, its bank in ``Banks``, and training settings named after TRAIN's that change something
    while keeping its RT60, distances and noise: a twin added to the table and missed elsewhere fails here."""
    from dataclasses import fields

    from soundpred.rooms import TRAIN
    from train.distance import parse_args
    from train.distance_eval import TWINS, Banks, DistanceConfig
    from train.ensemble import MEMBER_FIELDS

    bank_fields = {f.name for f in fields(Banks)}
    for twin in TWINS:
        assert twin.bank in bank_fields and hasattr(DistanceConfig(), twin.key) and twin.key in MEMBER_FIELDS
        _, parsed = parse_args(["--out", "x", twin.option, "0.3"])
        assert getattr(parsed, twin.key) == 0.3
        assert twin.settings.name.startswith(TRAIN.name + "-")
        same = {f.name for f in fields(TRAIN) if getattr(TRAIN, f.name) == getattr(twin.settings, f.name)}
        assert {f.name for f in fields(TRAIN)} - same - {"name"}, "a twin must change the source"
        assert same >= {"rt60_range", "distance_prior", "distance_range", "noises", "snr_db"}
    assert len({t.key for t in TWINS}) == len({t.bank for t in TWINS}) == len({t.settings.name for t in TWINS}) == len(TWINS)


def test_pair_batches_take_two_distances_of_one_room_and_one_source():
    """With ``pair_weight`` or ``aux_pair_weight`` every batch is pairs (2j, 2j + 1) of two
    different source–microphone pairs of one room, convolved with the same dry source."""
    from soundpred.models import DISTANCE_FRONTEND
    from soundpred.rooms import TRAIN
    from train.distance_eval import DistanceConfig, DrySources, make_batches

    bank = toy_bank(np.repeat(np.arange(6), 3))  # 6 rooms, 3 source-microphone pairs each
    t = np.arange(16000 * 5) / 16000
    speech = [np.sin(2 * np.pi * f * t).astype(np.float32) for f in 250.0 * np.arange(1, 9)]  # a tone each
    for config in (DistanceConfig(steps=2, batch_size=12, pair_weight=1.0, speech_share=1.0),
                   DistanceConfig(steps=2, batch_size=12, aux_weight=0.5, aux_pair_weight=1.0, speech_share=1.0)):
        x, y = make_batches([(bank, TRAIN)], DrySources(speech, [], speech, []), DISTANCE_FRONTEND, config)[0]
        y = y["log_distance"] if config.aux_weight else y
        rir = np.rint(np.exp(y[:, 0]) / 0.5).astype(int) - 1
        room = bank.room[rir].reshape(-1, 2)
        np.testing.assert_array_equal(room[:, 0], room[:, 1])  # one room per pair
        assert np.all(rir[0::2] != rir[1::2])  # two of its positions
        tone_of = np.abs(np.fft.rfft(x, axis=1)).argmax(1)  # which dry tone each example carries
        np.testing.assert_array_equal(tone_of[0::2], tone_of[1::2])
        assert len(set(tone_of[0::2])) > 1  # and pairs do not all share one
    with pytest.raises(ValueError, match="even"):
        make_batches([(bank, TRAIN)], DrySources(speech, [], speech, []), DISTANCE_FRONTEND,
                     DistanceConfig(batch_size=5, pair_weight=1.0))


def test_source_pairs_take_one_position_and_two_sources():
    """``source_pairs``: every pair (2j, 2j + 1) is one RIR convolved with two different dry
    sources, so the pair term judges how far the estimate moves with the source alone; rooms
    with a single source–microphone pair are fine. The option needs a pair term."""
    from soundpred.models import DISTANCE_FRONTEND
    from soundpred.rooms import TRAIN
    from train.distance import parse_args
    from train.distance_eval import DistanceConfig, DrySources, make_batches

    bank = toy_bank(np.arange(12))  # one RIR per room
    t = np.arange(16000 * 5) / 16000
    speech = [np.sin(2 * np.pi * f * t).astype(np.float32) for f in 250.0 * np.arange(1, 4)]  # three tones
    config = DistanceConfig(steps=3, batch_size=12, pair_weight=1.0, source_pairs=True, speech_share=1.0)
    assert config.paired
    batches = make_batches([(bank, TRAIN)], DrySources(speech, [], speech, []), DISTANCE_FRONTEND, config)
    for step in range(3):
        x, y = batches[step]
        rir = np.rint(np.exp(y[:, 0]) / 0.5).astype(int) - 1
        np.testing.assert_array_equal(rir[0::2], rir[1::2])  # one position per pair
        assert len(set(rir[0::2])) > 1
        tone_of = np.abs(np.fft.rfft(x, axis=1)).argmax(1)
        assert np.all(tone_of[0::2] != tone_of[1::2])  # two sources, even with only three to draw from
    _, parsed = parse_args(["--out", "x", "--pair-weight", "2", "--source-pairs"])
    assert parsed.source_pairs and parsed.pair_weight == 2.0
    with pytest.raises(SystemExit):
        parse_args(["--out", "x", "--source-pairs"])


def test_segment_examples_are_several_sources_at_one_place():
    """``segments``: an example is K model windows, each another dry source (here a tone each)
    through the example's one RIR; a share keeps only the first window and zeros after it. The
    pair terms are refused with it."""
    from soundpred.models import DISTANCE_FRONTEND
    from soundpred.rooms import TRAIN
    from train.distance import parse_args
    from train.distance_eval import DistanceConfig, DrySources, make_batches

    bank = toy_bank(np.arange(6))
    t = np.arange(16000 * 5) / 16000
    speech = [np.sin(2 * np.pi * f * t).astype(np.float32) for f in 250.0 * np.arange(1, 5)]
    n = DISTANCE_FRONTEND.window_samples
    config = DistanceConfig(steps=2, batch_size=16, speech_share=1.0, segments=3, single_share=0.3)
    x, y = make_batches([(bank, TRAIN)], DrySources(speech, [], speech, []), DISTANCE_FRONTEND, config)[0]
    assert x.shape == (16, 3 * n) and y.shape == (16, 1)
    seg = x.reshape(16, 3, n)
    silent = np.abs(seg[:, 1:]).max(axis=2) == 0
    single = silent.all(axis=1)
    assert 0 < single.sum() < 16  # some keep only their first window
    full = ~silent.any(axis=1)
    assert full.sum() > 4
    tone_of = np.abs(np.fft.rfft(seg[full], axis=2)).argmax(axis=2)
    assert all(len(set(row)) == 3 for row in tone_of)  # another source in each window
    assert parse_args(["--out", "x", "--segments", "2"])[1].segments == 2
    for bad in (["--segments", "0"], ["--segments", "2", "--pair-weight", "1"]):
        with pytest.raises(SystemExit):
            parse_args(["--out", "x", *bad])
    with pytest.raises(ValueError, match="segments"):
        make_batches([(bank, TRAIN)], DrySources(speech, [], speech, []), DISTANCE_FRONTEND,
                     DistanceConfig(batch_size=4, segments=2, pair_weight=1.0))


@pytest.mark.slow
def test_training_heads_train_the_trunk_and_stay_out_of_the_bundle(tmp_path):
    """Each training-only head (the acoustics, the direct sound's map) shares the distance model's
    layers (training it alone moves the model's output) and saving the distance model leaves it out."""
    import keras

    from soundpred.bundle import save_bundle
    from soundpred.models import DISTANCE_FRONTEND, build_distance
    from train.distance_eval import ACOUSTIC_TARGETS, with_training_heads

    x = np.random.default_rng(0).standard_normal((4, DISTANCE_FRONTEND.window_samples)).astype(np.float32)
    maps = -np.ones((4, DISTANCE_FRONTEND.frames(x.shape[1]) // 8, DISTANCE_FRONTEND.n_mels // 8, 1), np.float32)
    for head, target in (("acoustics", np.ones((4, len(ACOUSTIC_TARGETS)), np.float32)), ("direct", maps)):
        keras.utils.set_random_seed(0)
        model = build_distance(DISTANCE_FRONTEND, width=4)
        trainer = with_training_heads(model, acoustics=head == "acoustics", direct=head == "direct")
        before = np.asarray(model.predict_on_batch(x))
        trainer.compile(optimizer=keras.optimizers.Adam(1e-2), loss={"log_distance": "mse", head: "mse"},
                        loss_weights={"log_distance": 0.0, head: 1.0})  # only the head's target
        trainer.train_on_batch(x, {"log_distance": np.zeros((4, 2), np.float32), head: target})
        assert not np.allclose(np.asarray(model.predict_on_batch(x)), before)
        loaded = load_bundle(save_bundle(model, tmp_path / head, frontend=DISTANCE_FRONTEND, task="distance"))
        assert len(loaded.model.outputs) == 1
        assert not {"acoustics", "direct", "direct_hidden"} & {layer.name for layer in loaded.model.layers}


def test_training_batches_mix_simulations_with_their_targets():
    """Batches draw rooms from each part in the given shares, with the right log-distance, room
    kind and standardised acoustic targets; every batch is different."""
    from soundpred.models import DISTANCE_FRONTEND
    from soundpred.rooms import HYBRID, TRAIN, RirBank
    from train.distance_eval import DistanceConfig, DrySources, make_batches

    rng = np.random.default_rng(0)

    def bank(distances, volume):
        rirs = []
        for d in distances:  # a direct sound and a decaying tail, weaker for far sources
            h = rng.standard_normal(4000) * np.exp(-np.arange(4000) / 800) * d / 10
            h[40] = 1.0
            rirs.append(h.astype(np.float32))
        n = len(distances)
        return RirBank(rirs, np.array(distances), np.full(n, 0.5), np.arange(n), TRAIN, np.full(n, volume))

    near, far = bank([0.5, 0.7, 0.9], 30.0), bank([6.0, 8.0, 12.0], 3000.0)
    speech = [rng.standard_normal(16000 * 5).astype(np.float32)]
    sources = DrySources(speech, [], speech, [])
    config = DistanceConfig(steps=3, batch_size=16, aux_weight=0.5, room_hint=True, hint_drop=0.0)
    batches = make_batches([(near, TRAIN), (far, HYBRID)], sources, DISTANCE_FRONTEND, config, shares=[0.25, 0.75])
    (x, hint), y = batches[0]
    assert x.shape == (16, DISTANCE_FRONTEND.window_samples) and np.all(np.isfinite(x))
    from_far = np.exp(y["log_distance"][:, 0]) > 5
    assert 6 <= from_far.sum() <= 15  # about three in four
    np.testing.assert_array_equal(hint[from_far].argmax(1), 3)  # large
    np.testing.assert_array_equal(hint[~from_far].argmax(1), 1)  # small
    assert y["acoustics"].shape == (16, 6) and np.all(np.isfinite(y["acoustics"]))
    assert y["acoustics"][from_far, 5].min() > y["acoustics"][~from_far, 5].max()  # log volume
    assert not np.array_equal(batches[1][0][0], x)


def test_direct_sound_target_marks_where_the_direct_sound_is():
    """``direct_target`` gives, per tile of the trunk's block-3 map, the direct sound's share of the
    example's energy (dB / 10, floor -3); ``make_batches`` gives it for every example, at the floor
    where a short input was padded, in the shape of the training head's output; the command takes
    its weight, not with ``--segments``, and the card names the head."""
    import keras

    from soundpred.models import DISTANCE_FRONTEND as fe
    from soundpred.models import build_distance
    from soundpred.rooms import TRAIN, RirBank
    from train.distance_eval import DistanceConfig, DrySources, direct_target, make_batches, with_training_heads

    rng = np.random.default_rng(0)
    n = fe.window_samples
    x = rng.standard_normal(n)
    shape = (fe.frames(n) // 8, fe.n_mels // 8, 1)
    assert direct_target(x, x, fe).shape == shape
    np.testing.assert_allclose(direct_target(x, x, fe), 0.0, atol=1e-5)  # all of it direct
    np.testing.assert_array_equal(direct_target(x, np.zeros(n), fe), -3.0)  # none of it
    half = np.r_[x[:n // 2], np.zeros(n - n // 2)]  # direct sound in the first half, the rest after it
    t = direct_target(half + np.r_[np.zeros(n // 2), x[n // 2:]], half, fe)
    assert t[:shape[0] // 2 - 1].min() > -0.05 and t[shape[0] // 2 + 1:].max() == -3.0
    quiet = direct_target(x, 0.1 * x, fe)  # a tenth of the amplitude: -20 dB
    np.testing.assert_allclose(quiet, -2.0, atol=1e-4)
    from soundpred.features import LogMel, mel_matrix
    from train.distance_eval import _stft

    spec = _stft(x[None], fe)[0]  # the target's framing is the network's own
    db = 10 * np.log10(np.maximum((spec.real ** 2 + spec.imag ** 2) @ mel_matrix(fe), 1e-10))
    np.testing.assert_allclose(np.maximum(db - db.max(), -fe.top_db) / fe.top_db,
                               np.asarray(LogMel(fe.to_dict())(x[None].astype(np.float32)))[0, ..., 0], atol=1e-5)

    rirs = []
    for d in (0.5, 1.0, 2.0, 4.0):  # a direct sound and, after it, a tail, stronger for far sources
        h = np.r_[np.zeros(100), rng.standard_normal(3900) * np.exp(-np.arange(3900) / 800) * d / 4]
        h[40] = 1.0
        rirs.append(h.astype(np.float32))
    bank = RirBank(rirs, np.array([0.5, 1.0, 2.0, 4.0]), np.full(4, 0.5), np.arange(4), TRAIN, np.full(4, 100.0))
    speech = [rng.standard_normal(16000 * 5).astype(np.float32)]
    batches = make_batches([(bank, TRAIN)], DrySources(speech, [], speech, []), fe,
                           DistanceConfig(steps=2, batch_size=16, direct_weight=0.5))
    x, y = batches[0]
    assert set(y) == {"log_distance", "direct"} and y["direct"].shape == (16, *shape)
    level = y["direct"].reshape(16, -1).mean(1)  # the tail is 8 times louder at 4 m than at 0.5 m
    d = np.exp(y["log_distance"][:, 0])
    assert level[d == 0.5].mean() > level[d == 4.0].mean() + 0.5
    padded = np.all(x[:, -2 * fe.hop_length * 8:] == 0, axis=1)
    assert padded.any()  # this seed draws a short input (15 % of examples)
    np.testing.assert_array_equal(y["direct"][padded, -1], -3.0)  # the last tiles of a padded input
    keras.utils.set_random_seed(0)
    trainer = with_training_heads(build_distance(fe, width=4), acoustics=False, direct=True)
    out = trainer.predict_on_batch(x[:2])
    assert set(out) == {"log_distance", "direct"} and out["direct"].shape == (2, *shape)
    with pytest.raises(ValueError, match="direct"):
        make_batches([(bank, TRAIN)], DrySources(speech, [], speech, []), fe,
                     DistanceConfig(batch_size=4, segments=2, direct_weight=0.5))
    from train.distance import parse_args
    from train.distance_eval import _recipe

    assert parse_args(["--out", "x", "--direct-weight", "0.5"])[1].direct_weight == 0.5
    with pytest.raises(SystemExit):
        parse_args(["--out", "x", "--direct-weight", "0.5", "--segments", "2"])
    assert "how much of the energy is the source's direct sound (loss weight 0.5)" in _recipe({"direct_weight": 0.5})
    assert "direct sound" not in _recipe({"aux_weight": 0.5})


def test_average_last_averages_the_final_epochs():
    """Checkpoint averaging: the saved weights are the mean of the last k epochs' weights."""
    import keras

    from train.common import AverageLast

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    seen = []
    record = keras.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: seen.append(model.get_weights()))
    averager = AverageLast(2, epochs=4)
    x, y = np.ones((8, 3), np.float32), np.full((8, 1), 5.0, np.float32)
    model.fit(x, y, epochs=4, batch_size=8, verbose=0, callbacks=[record, averager])
    assert averager.apply() == 2
    for got, a, b in zip(model.get_weights(), seen[2], seen[3]):
        np.testing.assert_allclose(got, (a + b) / 2, rtol=1e-6)
    assert not np.allclose(seen[2][0], seen[3][0])  # the epochs did differ


def test_time_budget_stops_by_training_seconds_or_by_a_wall_clock_deadline():
    """TimeBudget stops after the epoch past which one more would overrun: ``seconds`` of
    training, or the wall-clock ``until`` (train/device_train.sh's deadline); neither set in
    reach, all epochs run. A real Keras fit with the real callback; only the clock is the test's
    own, one second per epoch, so that a busy machine's slow epochs cannot change the verdict
    (with real 1 s sleeps it failed under load: once an epoch took over 1.25 s, a second no
    longer fitted in 2.5 s)."""
    import keras

    from train.common import TimeBudget

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.ones((4, 3), np.float32), np.ones((4, 1), np.float32)

    class Clock:  # seconds since the epoch; each epoch below takes one
        now = 1.8e9

        def __call__(self):
            return self.now

    clock = Clock()

    def epochs_run(**limits):
        budget = TimeBudget(**limits, clock=clock)
        tick = keras.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: setattr(clock, "now", clock.now + 1.0))
        history = model.fit(x, y, epochs=4, verbose=0, callbacks=[tick, budget])
        return len(history.epoch), budget.stopped_after

    assert epochs_run(seconds=2.5) == (2, 2)  # 1 s an epoch: a third would end past 2.5 s
    assert epochs_run(until=clock.now - 1) == (1, 1)  # the deadline has passed: one epoch
    assert epochs_run(seconds=2.5, until=clock.now + 600) == (2, 2)  # the nearer limit counts
    assert epochs_run(seconds=600, until=clock.now + 2.5) == (2, 2)
    assert epochs_run(until=clock.now + 3.5) == (3, 3)
    assert epochs_run(seconds=600, until=clock.now + 600) == (4, None)


@pytest.mark.slow
def test_ensemble_pools_members_and_reports_its_point_estimate(tmp_path, monkeypatch, data_cache, classifier_bundle):
    """train.ensemble on two tiny members (one takes the room kind): one bundle whose output is
    the moment-matched Gaussian of the members' beliefs, with a sigma scale, point shrink and
    (``--hint-share fit``) the hint member's weight when a kind is given, all fitted on
    validation rooms; the Predictor reports exp(mu - shrink * sigma^2); the card names the
    members and the comparison."""
    import shutil

    import keras

    from soundpred.distance import point_estimate
    from soundpred.models import DISTANCE_FRONTEND, build_distance
    from soundpred.predict import Predictor
    from train import ensemble

    if shutil.which("espeak-ng") is None:
        pytest.fail("espeak-ng is required (apt-get install espeak-ng)")
    monkeypatch.setenv("SOUNDPRED_CACHE", str(data_cache))
    keras.utils.set_random_seed(0)
    folders = []
    for i, hint in enumerate((False, True)):
        m = build_distance(DISTANCE_FRONTEND, width=4, room_hint=hint)
        last = m.get_layer("log_distance")  # members that disagree, with different spreads
        w, b = last.get_weights()
        last.set_weights([w, np.array([0.3 + i, -0.8 + 0.5 * i], np.float32)])
        folders.append(save_bundle(m, tmp_path / f"m{i}", frontend=DISTANCE_FRONTEND, task="distance",
                                   training={"command": f"member {i}", "hybrid_share": 0.5, "hybrid_rirs": 9 * i,
                                             "talker_share": 0.5 * i, "turned_share": 0.25 * (1 - i),
                                             "aux_weight": 0.5 * i, "direct_weight": 0.5 * i}))
    out = tmp_path / "ens"
    results, compared = ensemble.main([*map(str, folders), "--out", str(out), "--compare", str(folders[0]),
                                       "--rooms", "4", "--eval-rooms", "2", "--validation-rooms", "2",
                                       "--speech", "12", "--hint-share", "fit"])
    b = load_bundle(out)
    shrink, scale = b.meta["point_shrink"], b.meta["training"]["sigma_scale"]
    assert 0.0 <= shrink <= 1.0 and scale > 0 and len(b.model.inputs) == 2
    assert set(compared[str(folders[0])]) == set(results)

    members = [load_bundle(f).model for f in folders]
    x = np.random.default_rng(0).standard_normal((3, DISTANCE_FRONTEND.window_samples)).astype(np.float32)
    hint = np.eye(4, dtype=np.float32)[[0, 1, 3]]
    p0, p1 = np.asarray(members[0].predict_on_batch(x)), np.asarray(members[1].predict_on_batch([x, hint]))
    share = b.meta["training"]["hint_share"]  # chosen on validation rooms: the hint member's weight with a kind
    assert share == b.meta["training"]["hint_share_fitted"] and (share is None or 0.0 <= share <= 1.0)
    assert set(b.meta["training"]["validation"]["errors_by_hint_share"]) >= {"equal", "0.0", "1.0"}
    w1 = np.array([0.5, 0.5 if share is None else share, 0.5 if share is None else share])  # rows: auto, kinds
    mu = (1 - w1) * p0[:, 0] + w1 * p1[:, 0]
    var = (1 - w1) * (np.exp(2 * p0[:, 1]) + p0[:, 0] ** 2) + w1 * (np.exp(2 * p1[:, 1]) + p1[:, 0] ** 2) - mu ** 2
    got = np.asarray(b.model.predict_on_batch([x, hint]))
    np.testing.assert_allclose(got[:, 0], mu, rtol=1e-5)
    np.testing.assert_allclose(np.exp(got[:, 1]), scale * np.sqrt(var), rtol=1e-4)

    p = Predictor(classifier_bundle, b)
    d, (lo, hi) = p.distance_for_waveform(x[0], room="auto")
    mu0, sigma0 = got[0, 0], np.exp(got[0, 1])
    assert d == pytest.approx(float(point_estimate(mu0, sigma0, shrink)), rel=1e-4)
    assert lo == pytest.approx(float(np.exp(mu0 - 1.645 * sigma0)), rel=1e-3)
    card = (out / "README.md").read_text()
    assert "ensemble of 2 distance models" in card and "`member 1`" in card and f"Against `{folders[0]}`" in card
    assert card.count("% of the rest with a talker-like source") == 1  # the one member trained with it
    assert card.count("% of the rest with a source facing anywhere") == 1  # and the other one
    assert "(no room kind; 0 % of its training examples from the hybrid" in card  # no hybrid rooms: whatever the option said
    assert card.count(", trained with the acoustics head and the direct-sound head") == 1  # member 1 only
    assert "again with a talker-like source (`train-talker`)" in card and "(`train-turned`)" in card
    assert "(`train-turned`), for the members whose line says so), convolved" in card  # inside the simulation's ( )

    # the ensemble's two members, taken by number: pooled again, all weight to the hint member
    again = tmp_path / "again"
    ensemble.main([f"{out}:1", f"{out}:2", "--out", str(again), "--rooms", "4", "--eval-rooms", "2",
                   "--validation-rooms", "2", "--speech", "12", "--hint-share", "1.0"])
    assert json.loads((again / "training_config.json").read_text())["members"] == [f"{out}:1", f"{out}:2"]
    b2 = load_bundle(again)
    got2 = np.asarray(b2.model.predict_on_batch([x, hint]))
    np.testing.assert_allclose(got2[1:, 0], p1[1:, 0], rtol=1e-5)  # a kind given: member 1 alone
    np.testing.assert_allclose(got2[0, 0], (p0[0, 0] + p1[0, 0]) / 2, rtol=1e-5)  # auto: both
    card2 = (again / "README.md").read_text()
    assert "ensemble of 2 distance models" in card2 and "`member 1`" in card2
    assert [(m["hybrid_share"], m["talker_share"], m["turned_share"], m["direct_weight"])
            for m in b2.meta["training"]["members"]] == [
        (0.0, 0.0, 0.25, 0.0), (0.5, 0.5, 0.0, 0.5)]  # the members' training, carried through the first ensemble
    assert b2.meta["training"]["members"][1]["folder"] == f"{out}, member1 (from {folders[1]})"

    # weights per room kind, fitted on the validation rooms: auto stays the equal mixture
    perkind = tmp_path / "perkind"
    ensemble.main([f"{out}:2", f"{out}:2", "--out", str(perkind), "--rooms", "4", "--eval-rooms", "2",
                   "--validation-rooms", "2", "--speech", "12", "--kind-weights", "fit"])
    b3 = load_bundle(perkind)
    weights = b3.meta["training"]["kind_weights"]
    assert list(weights) == ["small", "medium", "large"] and all(sum(w) == pytest.approx(1.0) for w in weights.values())
    assert b3.model.get_layer("log_distance").hinted_weights == [list(map(float, w)) for w in weights.values()]
    got3 = np.asarray(b3.model.predict_on_batch([x, hint]))
    np.testing.assert_allclose(got3[:, 0], p1[:, 0], rtol=1e-5)  # one network twice: any weights give its mean
    card3 = (perkind / "README.md").read_text()
    assert "the members are weighted per kind" in card3 and "| large |" in card3
    with pytest.raises(SystemExit, match="no --hint-share"):
        ensemble.main([str(out), "--out", str(tmp_path / "no"), "--kind-weights", "fit", "--hint-share", "1.0"])

    # fixed weights: a quarter and three quarters, with auto and with a kind alike
    weighted = tmp_path / "weighted"
    ensemble.main([f"{out}:1", f"{out}:2", "--out", str(weighted), "--rooms", "4", "--eval-rooms", "2",
                   "--validation-rooms", "2", "--speech", "12", "--weights", "1,3"])
    b4 = load_bundle(weighted)
    assert b4.meta["training"]["weights"] == [0.25, 0.75] and b4.model.get_layer("log_distance").member_weights == [0.25, 0.75]
    got4 = np.asarray(b4.model.predict_on_batch([x, hint]))
    np.testing.assert_allclose(got4[:, 0], 0.25 * p0[:, 0] + 0.75 * p1[:, 0], rtol=1e-5)
    assert "the members weighted 0.25, 0.75 in their order below" in (weighted / "README.md").read_text()
    for bad, message in ((["--weights", "1,2,3"], "3 weights for 2 members"),
                         (["--weights", "1,1", "--hint-share", "1.0"], "neither --hint-share")):
        with pytest.raises(SystemExit, match=message):
            ensemble.main([f"{out}:1", f"{out}:2", "--out", str(tmp_path / "no"), *bad])


def test_hint_share_weighs_the_members_that_take_the_kind_only_when_it_is_given(tmp_path):
    """GaussianPool's hinted weights: with hint_share 1 an example with a kind gets the hint
    member's belief alone, an "auto" example the equal mixture; the weights survive a save."""
    import keras

    from soundpred.models import DISTANCE_FRONTEND, build_distance, build_distance_ensemble, hinted_weights

    keras.utils.set_random_seed(0)
    plain, hinted = build_distance(DISTANCE_FRONTEND, width=4), build_distance(DISTANCE_FRONTEND, width=4, room_hint=True)
    hinted.get_layer("log_distance").set_weights([hinted.get_layer("log_distance").get_weights()[0],
                                                  np.array([2.0, -1.0], np.float32)])  # disagrees with plain
    ens = build_distance_ensemble([plain, hinted], hint_share=1.0)
    x = np.random.default_rng(1).standard_normal((2, DISTANCE_FRONTEND.window_samples)).astype(np.float32)
    hint = np.eye(4, dtype=np.float32)[[0, 2]]  # auto, medium
    got = np.asarray(ens.predict_on_batch([x, hint]))
    p0, p1 = np.asarray(plain.predict_on_batch(x)), np.asarray(hinted.predict_on_batch([x, hint]))
    np.testing.assert_allclose(got[1], p1[1], rtol=1e-4)  # the kind given: the hint member only
    assert got[0, 0] == pytest.approx((p0[0, 0] + p1[0, 0]) / 2, rel=1e-5)  # auto: both
    loaded = load_bundle(save_bundle(ens, tmp_path / "e", frontend=DISTANCE_FRONTEND, task="distance")).model
    np.testing.assert_allclose(np.asarray(loaded.predict_on_batch([x, hint])), got, rtol=1e-5)
    assert hinted_weights([False, True, True], 0.8) == pytest.approx([0.2, 0.4, 0.4])
    with pytest.raises(ValueError, match="no member"):
        hinted_weights([False, False], 0.5)


def test_kind_weights_mix_the_members_per_room_kind_and_survive_a_save(tmp_path):
    """GaussianPool with one weight vector per room kind: a small room gets member 1 alone, a
    medium one member 2 alone, a large one half each, auto the equal mixture; the weights come
    back from a saved bundle. Weights that do not sum to 1, or two rows, are refused."""
    import keras

    from soundpred.models import DISTANCE_FRONTEND, GaussianPool, build_distance, build_distance_ensemble

    keras.utils.set_random_seed(0)
    nets = [build_distance(DISTANCE_FRONTEND, width=4, room_hint=True) for _ in range(2)]
    nets[1].get_layer("log_distance").set_weights([nets[1].get_layer("log_distance").get_weights()[0],
                                                  np.array([2.0, -1.0], np.float32)])  # disagrees with member 1
    ens = build_distance_ensemble(nets, kind_weights=[[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    x = np.random.default_rng(1).standard_normal((4, DISTANCE_FRONTEND.window_samples)).astype(np.float32)
    hint = np.eye(4, dtype=np.float32)[[0, 1, 2, 3]]  # auto, small, medium, large
    got = np.asarray(ens.predict_on_batch([x, hint]))
    p = [np.asarray(n.predict_on_batch([x, hint])) for n in nets]
    np.testing.assert_allclose(got[1], p[0][1], rtol=1e-4)
    np.testing.assert_allclose(got[2], p[1][2], rtol=1e-4)
    for i in (0, 3):  # auto and large: the equal mixture
        assert got[i, 0] == pytest.approx((p[0][i, 0] + p[1][i, 0]) / 2, rel=1e-5)
    loaded = load_bundle(save_bundle(ens, tmp_path / "e", frontend=DISTANCE_FRONTEND, task="distance")).model
    np.testing.assert_allclose(np.asarray(loaded.predict_on_batch([x, hint])), got, rtol=1e-5)
    assert loaded.get_layer("log_distance").hinted_weights == [[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]]
    for bad in ([[1.0, 0.0], [0.0, 1.0]], [[0.6, 0.6], [0.5, 0.5], [0.5, 0.5]], [0.7, 0.7]):
        with pytest.raises(ValueError, match="summing to 1"):
            GaussianPool(hinted_weights=bad)
    with pytest.raises(ValueError, match="not both"):
        build_distance_ensemble(nets, hint_share=0.5, kind_weights=[0.5, 0.5])


def test_fixed_weights_mix_the_members_with_auto_and_survive_a_save(tmp_path):
    """GaussianPool's ``member_weights``: the mixture of ``train.ensemble.mixture`` with those weights
    (mean and spread), with auto and a kind alike; beside per-kind weights they hold for auto
    only; they come back from a saved bundle. Weights that do not sum to 1, or too few, are refused."""
    import keras

    from soundpred.models import DISTANCE_FRONTEND, GaussianPool, build_distance, build_distance_ensemble
    from train.ensemble import mixture

    keras.utils.set_random_seed(0)
    nets = [build_distance(DISTANCE_FRONTEND, width=4, room_hint=True) for _ in range(3)]
    for i, bias in ((1, [2.0, -1.0]), (2, [-1.0, -0.5])):  # three members that disagree
        layer = nets[i].get_layer("log_distance")
        layer.set_weights([layer.get_weights()[0], np.array(bias, np.float32)])
    w = [0.2, 0.3, 0.5]
    ens = build_distance_ensemble(nets, weights=w)
    x = np.random.default_rng(1).standard_normal((4, DISTANCE_FRONTEND.window_samples)).astype(np.float32)
    hint = np.eye(4, dtype=np.float32)[[0, 1, 2, 3]]  # auto, small, medium, large
    got = np.asarray(ens.predict_on_batch([x, hint]))
    p = np.array([np.asarray(n.predict_on_batch([x, hint])) for n in nets])  # (members, n, 2)
    mu, sigma = mixture(p[:, :, 0], np.exp(p[:, :, 1]), w)
    np.testing.assert_allclose(got[:, 0], mu, rtol=1e-4)
    np.testing.assert_allclose(np.exp(got[:, 1]), sigma, rtol=1e-4)
    assert not np.allclose(got[:, 0], p[:, :, 0].mean(0), rtol=1e-3)  # not the equal mixture
    loaded = load_bundle(save_bundle(ens, tmp_path / "e", frontend=DISTANCE_FRONTEND, task="distance")).model
    np.testing.assert_allclose(np.asarray(loaded.predict_on_batch([x, hint])), got, rtol=1e-5)
    assert loaded.get_layer("log_distance").member_weights == w

    both = build_distance_ensemble(nets, weights=w, kind_weights=[1.0, 0.0, 0.0])
    got2 = np.asarray(both.predict_on_batch([x, hint]))
    np.testing.assert_allclose(got2[0], got[0], rtol=1e-4)  # auto: the fixed weights
    np.testing.assert_allclose(got2[1:, 0], p[0, 1:, 0], rtol=1e-4)  # a kind: member 1 alone
    for bad in ([0.6, 0.6], [-0.5, 1.5], [float("nan"), 1.0]):
        with pytest.raises(ValueError, match="sum to 1"):
            GaussianPool(member_weights=bad)
    with pytest.raises(ValueError, match="2 weights for 3 members"):
        build_distance_ensemble(nets, weights=[0.5, 0.5])
    with pytest.raises(ValueError, match="3 member weights but 2 hinted weights"):
        GaussianPool(hinted_weights=[0.5, 0.5], member_weights=w)


def test_kind_weights_are_fitted_per_kind_on_the_validation_examples():
    """``choose_kind_weights`` on beliefs made up so that member 1 is right in small rooms and
    member 2 in large ones, both in medium ones: it gives small rooms to member 1 and large ones
    to member 2, and keeps the equal weights where no grid vector beats them (medium). The grid
    is every multiple of 0.1 summing to 1."""
    from soundpred.models import GaussianPool
    from train.ensemble import choose_kind_weights, simplex_grid

    grid = simplex_grid(3)
    assert len(grid) == 66 and all(w.sum() == pytest.approx(1.0) and w.min() >= 0 for w in grid)
    assert len({tuple(np.round(w, 6)) for w in grid}) == 66
    rng = np.random.default_rng(0)
    d = np.exp(rng.uniform(np.log(0.5), np.log(10.0), 300))
    kinds = np.array(["small", "medium", "large"])[np.arange(300) % 3]
    off = np.where(kinds == "small", 0.0, 1.0), np.where(kinds == "large", 0.0, 1.0)  # each member's error
    off = (np.where(kinds == "medium", 0.0, off[0]), np.where(kinds == "medium", 0.0, off[1]))
    mus = np.log(d)[None] + np.array(off)
    sigmas = np.full_like(mus, 0.3)
    weights, scores = choose_kind_weights([(mus, sigmas, d)], [kinds], median=2.0, shrink=0.0, scale=1.0)
    assert weights[0] == [1.0, 0.0] and weights[2] == [0.0, 1.0]
    assert weights[1] == [0.5, 0.5]  # both right: a tie, so the equal weights stay
    assert scores["small"]["chosen"] < scores["small"]["equal"] and scores["small"]["examples"] == 100
    weights, scores = choose_kind_weights([(mus[:, kinds != "large"], sigmas[:, kinds != "large"], d[kinds != "large"])],
                                          [kinds[kinds != "large"]], median=2.0, shrink=0.0, scale=1.0)
    assert weights[2] == [0.5, 0.5] and "large" not in scores  # no large room to fit on: equal
    three = np.repeat(mus[:1], 3, axis=0)  # three members that agree: every kind keeps its thirds
    weights, _ = choose_kind_weights([(three, np.full_like(three, 0.3), d)], [kinds], median=2.0, shrink=0.0, scale=1.0)
    assert weights == [[1 / 3] * 3] * 3
    assert GaussianPool(hinted_weights=weights).hinted_weights == weights  # thirds still sum to 1


def test_point_shrink_outside_its_range_is_refused(tmp_path):
    import keras

    from soundpred.bundle import BundleError
    from soundpred.models import DISTANCE_FRONTEND, build_distance

    keras.utils.set_random_seed(0)
    folder = save_bundle(build_distance(DISTANCE_FRONTEND, width=4), tmp_path / "d", frontend=DISTANCE_FRONTEND,
                         task="distance", extra_meta={"point_shrink": 1.5})
    with pytest.raises(BundleError, match="point_shrink must lie in"):
        load_bundle(folder)


def test_a_member_record_without_its_head_weights_takes_them_from_its_command():
    """Ensembles made before session 36 kept each member's command, not its heads' loss weights:
    ``member_training`` reads them from a ``train.distance`` command, and leaves any other
    command, or one that no longer parses, at 0."""
    from train.ensemble import command_config, member_training

    cmd = "python -m train.distance --out 'runs/a b' --epochs 9 --aux-weight 0.5 --direct-weight 0.25 --verbose 2"
    assert command_config(cmd).direct_weight == 0.25 and command_config(cmd).epochs == 9
    assert command_config("python -m train.distance --no-such-option") is None
    assert command_config("python -m train.ensemble runs/a --out runs/b") is None
    got = member_training({"training": {"command": cmd, "hybrid_share": 0.6}})
    assert (got["aux_weight"], got["direct_weight"], got["hybrid_share"]) == (0.5, 0.25, 0.6)
    stored = member_training({"training": {"command": cmd, "aux_weight": 0.0, "direct_weight": 1.0}})
    assert (stored["aux_weight"], stored["direct_weight"]) == (0.0, 1.0)  # what the meta says wins
    plain = member_training({"training": {"command": "python -m train.ensemble x --out y"}})
    assert (plain["aux_weight"], plain["direct_weight"]) == (0.0, 0.0)


def test_an_ensemble_unpacks_into_its_members_and_pools_again_to_itself():
    """``train.ensemble.unpack`` on the embedded default: four members, all taking the room kind,
    with what its card says of them; pooled again with its own scale and room-kind share they
    answer as the default does, to float precision, with and without the room kind. With a member
    that does not take the kind beside them (a fresh network), the share counts: another share
    changes only the examples with a kind given."""
    import keras

    from soundpred.hub import resolve
    from soundpred.models import build_distance, build_distance_ensemble, takes_room_hint
    from train.ensemble import unpack

    default, warning = resolve(None, "distance")
    assert warning is None
    members = unpack(default)
    assert len(members) == 4 and all(takes_room_hint(m.model) for m in members)
    assert all("--room-hint" in m.meta["training"]["command"] for m in members)
    assert members[0].meta["training"]["turned_share"] == 0.5 and "--turned-share 0.5" in members[0].meta["training"]["command"]
    assert "--init models/distance-p90direct10" in members[3].meta["training"]["command"]
    assert unpack(members[0]) == [members[0]]  # a single model stays as it is
    scale = default.model.get_layer("log_distance").sigma_scale  # the card rounds it
    share = default.meta["training"]["hint_share"]
    again = build_distance_ensemble([m.model for m in members], sigma_scale=scale, hint_share=share)
    x = np.random.default_rng(0).standard_normal((3, default.frontend.window_samples)).astype(np.float32) * 0.1
    hint = np.eye(4, dtype=np.float32)[[0, 1, 3]]  # auto, small, large
    want = np.asarray(default.model.predict_on_batch([x, hint]))
    np.testing.assert_allclose(np.asarray(again.predict_on_batch([x, hint])), want, rtol=1e-5, atol=1e-5)
    keras.utils.set_random_seed(0)
    mixed = [members[0].model, members[2].model, build_distance(default.frontend, room_hint=False)]
    fitted = np.asarray(build_distance_ensemble(mixed, sigma_scale=scale, hint_share=1.0).predict_on_batch([x, hint]))
    equal = np.asarray(build_distance_ensemble(mixed, sigma_scale=scale).predict_on_batch([x, hint]))
    np.testing.assert_allclose(equal[0], fitted[0], rtol=1e-5, atol=1e-5)  # "auto": equal weights either way
    assert np.abs(equal[1:, 0] - fitted[1:, 0]).max() > 1e-3  # a kind given: the share counts


def test_an_ensemble_of_two_hops_gives_each_member_its_own_front_end(tmp_path):
    """Members that differ in the STFT hop (160 and 80 samples) pool into one model with a
    log-mel layer each: it answers the moment-matched mixture of the members' own answers,
    after a save too, and unpacks into members of their own front ends; members of another
    window length are refused."""
    from dataclasses import replace

    import keras

    from soundpred.models import DISTANCE_FRONTEND, build_distance, build_distance_ensemble, member_frontends
    from train.ensemble import unpack

    keras.utils.set_random_seed(0)
    fine = replace(DISTANCE_FRONTEND, hop_length=80)
    coarse_net, fine_net = build_distance(DISTANCE_FRONTEND, width=4), build_distance(fine, width=4)
    ens = build_distance_ensemble([coarse_net, fine_net, build_distance(DISTANCE_FRONTEND, width=4)])
    assert [fe.hop_length for fe in member_frontends(ens)] == [160, 80, 160]
    assert sum(isinstance(layer, type(ens.get_layer("logmel"))) for layer in ens.layers) == 2  # one per hop
    x = np.random.default_rng(2).standard_normal((3, DISTANCE_FRONTEND.window_samples)).astype(np.float32)
    own = [np.asarray(m.predict_on_batch(x)) for m in (coarse_net, fine_net)]
    third = np.asarray(ens.get_layer("member2")(ens.get_layer("logmel")(x)))
    assert not np.allclose(own[0], own[1])
    mus = np.stack([own[0][:, 0], own[1][:, 0], third[:, 0]])
    mu = mus.mean(0)
    var = (np.exp(2 * np.stack([own[0][:, 1], own[1][:, 1], third[:, 1]])) + mus ** 2).mean(0) - mu ** 2
    got = np.asarray(ens.predict_on_batch(x))
    np.testing.assert_allclose(got[:, 0], mu, rtol=1e-5)
    np.testing.assert_allclose(np.exp(got[:, 1]), np.sqrt(var), rtol=1e-4)

    loaded = load_bundle(save_bundle(ens, tmp_path / "e", frontend=DISTANCE_FRONTEND, task="distance"))
    np.testing.assert_allclose(np.asarray(loaded.model.predict_on_batch(x)), got, rtol=1e-5)
    members = unpack(loaded)
    assert [m.frontend.hop_length for m in members] == [160, 80, 160]
    np.testing.assert_allclose(np.asarray(members[1].model.predict_on_batch(x)), own[1], rtol=1e-5)
    with pytest.raises(ValueError, match="window length"):
        build_distance_ensemble([coarse_net, build_distance(replace(DISTANCE_FRONTEND, window_seconds=2.0), width=4)])


def test_ensemble_members_are_picked_by_number(tmp_path):
    """``FOLDER:N,M`` on the command line takes members N and M of an ensemble bundle (from 1,
    in the order given): each answers as the ensemble's own member does. A number past its
    members, or a pick from a bundle that is not an ensemble, is refused; a folder whose name
    has a colon is taken as it is."""
    import argparse

    import keras

    from soundpred.models import DISTANCE_FRONTEND, build_distance, build_distance_ensemble
    from train.ensemble import member_arg, members_of, unpack

    keras.utils.set_random_seed(0)
    nets = [build_distance(DISTANCE_FRONTEND, width=4) for _ in range(3)]
    folder = save_bundle(build_distance_ensemble(nets), tmp_path / "e", frontend=DISTANCE_FRONTEND, task="distance")
    single = save_bundle(nets[0], tmp_path / "one", frontend=DISTANCE_FRONTEND, task="distance")
    odd = tmp_path / "a:1"
    odd.mkdir()

    assert member_arg(f"{folder}:3,1") == (folder, [2, 0])
    assert member_arg(str(folder)) == (folder, None)
    assert member_arg(str(odd)) == (odd, None)
    with pytest.raises(argparse.ArgumentTypeError, match="counted from 1"):
        member_arg(f"{folder}:0")
    x = np.random.default_rng(3).standard_normal((2, DISTANCE_FRONTEND.window_samples)).astype(np.float32)
    every = [np.asarray(m.model.predict_on_batch(x)) for m in unpack(load_bundle(folder))]
    picked = members_of(*member_arg(f"{folder}:3,1"))
    assert len(picked) == 2 and not np.allclose(every[0], every[2])
    for member, want in zip(picked, (every[2], every[0])):
        np.testing.assert_allclose(np.asarray(member.model.predict_on_batch(x)), want, rtol=1e-6)
    assert len(members_of(folder, None)) == 3 and len(members_of(single, None)) == 1
    with pytest.raises(SystemExit, match="has 3 member"):
        members_of(folder, [3])
    with pytest.raises(SystemExit, match="has 1 member"):
        members_of(single, [0])


def test_recipe_names_the_kind_of_pairs():
    from train.distance_eval import _recipe

    assert "source pairs (one source–microphone position, two dry sources)" in _recipe(
        {"pair_weight": 2.0, "source_pairs": True})
    assert "within-room pairs (one dry source, two distances)" in _recipe({"pair_weight": 2.0})


def test_pair_ratio_is_scale_free():
    """``pair_ratio``: the pair term over the batch's variance of estimates. Source pairs whose
    estimates all shrink toward one value by a factor keep the same term (the plain term falls
    by the square of it); spreading the positions apart, the same source gaps cost less."""
    from train.distance_eval import distance_loss

    y = np.zeros((8, 1), np.float32)  # source pairs: the two of a pair share their true distance
    mu = np.array([0.0, 0.2, 1.0, 1.3, -1.0, -0.9, 0.5, 0.4], np.float32)

    def term(m, ratio):
        pred = np.c_[m, np.zeros_like(m)].astype(np.float32)
        return float(np.mean(np.asarray(distance_loss(0.0, 1.0, ratio)(y, pred) - distance_loss(0.0)(y, pred))))

    assert term(mu * 0.5, False) == pytest.approx(term(mu, False) * 0.25, rel=1e-4)
    assert term(mu * 0.5, True) == pytest.approx(term(mu, True), rel=0.02)  # +1e-3 in the denominator
    spread = mu + np.repeat([0.0, 1.0, -1.0, 2.0], 2).astype(np.float32)  # same gaps, positions further apart
    assert term(spread, True) < 0.5 * term(mu, True) and term(spread, False) == pytest.approx(term(mu, False), rel=1e-4)


def test_band_stats_are_each_bands_loud_frames_rise_and_floor():
    """``BandStats`` on a log-mel whose bands are known: the mean of the loudest and quietest 10 %
    of frames per band, computed by sorting, and the three statistics in their order."""
    from soundpred.models import BandStats

    mel = np.random.default_rng(0).uniform(-1, 0, (2, 120, 8, 1)).astype(np.float32)
    out = np.asarray(BandStats(top=0.1)(mel))
    ordered = np.sort(mel[..., 0], axis=1)  # (batch, frames, mels), each band sorted over time
    loud, quiet, mean = ordered[:, -12:].mean(1), ordered[:, :12].mean(1), mel[..., 0].mean(1)
    assert out.shape == (2, 24)
    np.testing.assert_allclose(out, np.concatenate([loud, loud - mean, mean - quiet], 1), atol=1e-6)


def test_room_hint_network_starts_as_the_plain_one_it_is_initialised_from(tmp_path):
    """``--init`` from a plain bundle into a ``--room-hint`` network: the dense layer after the
    pooled features now also reads the room kind's embedding; its old rows are copied and the new
    ones start at zero, so the network answers as the plain one whatever kind it is told, until
    training moves those rows. A kernel that does not fit is refused with the layer's name."""
    import keras

    from soundpred.models import DISTANCE_FRONTEND, build_distance
    from train.distance import _grown, init_weights

    keras.utils.set_random_seed(0)
    plain = build_distance(DISTANCE_FRONTEND, width=4)
    plain.set_weights([w + 0.01 * np.random.default_rng(i).standard_normal(w.shape).astype(w.dtype)
                       for i, w in enumerate(plain.get_weights())])
    folder = save_bundle(plain, tmp_path / "plain", frontend=DISTANCE_FRONTEND, task="distance")
    hinted = build_distance(DISTANCE_FRONTEND, width=4, room_hint=True)
    init_weights(hinted, hinted, folder)
    x = np.random.default_rng(1).standard_normal((4, DISTANCE_FRONTEND.window_samples)).astype(np.float32) * 0.1
    kinds = np.eye(4, dtype=np.float32)  # auto, small, medium, large
    want = plain.predict_on_batch(x)
    for kind in kinds:
        np.testing.assert_allclose(hinted.predict_on_batch([x, np.tile(kind, (4, 1))]), want, atol=1e-5)
    hinted.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    for _ in range(2):  # the first step moves the zero rows, the second the hint's embedding through them
        hinted.train_on_batch([x, kinds], np.ones((4, 2), np.float32))
    answers = [hinted.predict_on_batch([x, np.tile(k, (4, 1))]) for k in kinds]
    assert max(np.abs(a - answers[0]).max() for a in answers[1:]) > 1e-4
    with pytest.raises(ValueError, match="layer embedding"):
        _grown([np.zeros((8, 64)), np.zeros(64)], [np.zeros((8, 32)), np.zeros(32)], "embedding")


def test_band_stats_network_starts_as_the_plain_one_it_is_initialised_from(tmp_path):
    """``--init`` from a plain bundle into a ``--band-stats`` network copies every layer by name;
    the band branch is added through a layer that starts at zero, so the new network answers as
    the plain one (with the acoustics head of training on it too), until training moves it. It
    saves and loads as a bundle, and pools into an ensemble with a plain member."""
    import keras

    from soundpred.models import DISTANCE_FRONTEND, build_distance, build_distance_ensemble
    from train.distance import init_weights
    from train.distance_eval import ACOUSTIC_TARGETS, with_training_heads

    keras.utils.set_random_seed(0)
    plain = build_distance(DISTANCE_FRONTEND, width=4)
    plain.set_weights([w + 0.01 * np.random.default_rng(i).standard_normal(w.shape).astype(w.dtype)
                       for i, w in enumerate(plain.get_weights())])  # not the initial values
    folder = save_bundle(plain, tmp_path / "plain", frontend=DISTANCE_FRONTEND, task="distance")
    banded = build_distance(DISTANCE_FRONTEND, width=4, band_stats=True)
    trainer = with_training_heads(banded)
    assert trainer.get_layer("acoustics").input is banded.get_layer("with_bands").output
    x = np.random.default_rng(1).standard_normal((3, DISTANCE_FRONTEND.window_samples)).astype(np.float32) * 0.1
    assert not np.allclose(banded.predict_on_batch(x), plain.predict_on_batch(x), atol=1e-4)
    init_weights(trainer, banded, folder)
    np.testing.assert_allclose(banded.predict_on_batch(x), plain.predict_on_batch(x), atol=1e-5)
    trainer.compile(optimizer=keras.optimizers.Adam(1e-2), loss={"log_distance": "mse", "acoustics": "mse"})
    for _ in range(2):  # the first step moves only the zero-initialised mix; the second the branch's input
        trainer.train_on_batch(x, {"log_distance": np.ones((3, 2), np.float32),
                                   "acoustics": np.zeros((3, len(ACOUSTIC_TARGETS)), np.float32)})
    assert np.abs(banded.get_layer("bands_mix").get_weights()[0]).max() > 0
    loaded = load_bundle(save_bundle(banded, tmp_path / "banded", frontend=DISTANCE_FRONTEND, task="distance"))
    np.testing.assert_allclose(loaded.model.predict_on_batch(x), banded.predict_on_batch(x), atol=1e-5)
    # a process that imports nothing but soundpred.bundle loads it too (the layer registers itself)
    import subprocess
    import sys

    subprocess.run([sys.executable, "-c", "import sys; from soundpred.bundle import load_bundle; "
                    "load_bundle(sys.argv[1])", str(tmp_path / "banded")], check=True, cwd=ROOT)
    ens = build_distance_ensemble([plain, loaded.model])
    assert ens.predict_on_batch(x).shape == (3, 2)


def test_extra_dry_clips_join_the_training_sources_only(tmp_path):
    """``--extra-dry``: of a Kaggle-layout folder with a ``sources.csv`` (as more-real has),
    only the clips whose source is one of ``DRY_EXTRA_SOURCES`` are taken, and they join the
    training clips; the evaluation sources stay exactly what they were without them."""
    import soundfile as sf

    from train.distance_eval import DRY_EXTRA_SOURCES, dry_sources, extra_dry_clips

    extra = tmp_path / "extra"
    (extra / "audio_train").mkdir(parents=True)
    rows, sources = ["fname,label,manually_verified"], ["fname,label,source,origin,license,sr,seconds"]
    for i, (source, seconds) in enumerate([("philharmonia", 2.0), ("jrhodes", 3.0), ("urbansound8k", 2.0),
                                           ("philharmonia", 1.0)]):  # the last is too short to use
        name = f"c{i}.wav"
        sf.write(extra / "audio_train" / name, tone(16000, seconds, freq=200 + 100 * i), 16000)
        rows.append(f"{name},Oboe,1")
        sources.append(f"{name},Oboe,{source},x,y,16000,{seconds}")
    (extra / "train.csv").write_text("\n".join(rows) + "\n")
    (extra / "sources.csv").write_text("\n".join(sources) + "\n")
    assert "urbansound8k" not in DRY_EXTRA_SOURCES
    assert [c.path.name for c in extra_dry_clips(extra)] == ["c0.wav", "c1.wav", "c3.wav"]
    assert len(extra_dry_clips(extra, kinds=())) == 4
    plain = dry_sources(16000, n_speech=6, data=tmp_path / "no-starter")
    more = dry_sources(16000, n_speech=6, data=tmp_path / "no-starter", extra=extra)
    assert [len(c) for c in more.train_clips] == [32000, 48000] and plain.train_clips == []
    assert len(more.eval_clips) == len(plain.eval_clips) == 0
    for a, b in zip(more.eval_speech + more.train_speech, plain.eval_speech + plain.train_speech, strict=True):
        np.testing.assert_array_equal(a, b)
    # the card names them and their licences only when a run used them
    from train.distance_eval import _extra_dry

    more_real = _extra_dry({"dry_sources": {"extra": "../shared/data/more-real"}})
    assert "CC BY-SA 3.0" in more_real and "CC BY-NC 4.0" in more_real
    assert "`extra`" in _extra_dry({"dry_sources": {"extra": str(extra)}})  # another folder: no licences claimed
    assert _extra_dry({"dry_sources": {"extra": None}}) == _extra_dry({}) == ""


def test_a_missing_extra_dry_folder_is_refused(tmp_path, capsys):
    """A mistyped ``--extra-dry`` used to train on the usual sources without a word; now the
    command stops before simulating anything, and ``dry_sources`` refuses it too."""
    from train.distance import parse_args
    from train.distance_eval import dry_sources

    with pytest.raises(SystemExit):
        parse_args(["--out", "x", "--extra-dry", str(tmp_path / "more-rael")])
    assert "no sources.csv" in capsys.readouterr().err
    with pytest.raises(FileNotFoundError, match="no sources.csv"):
        dry_sources(16000, n_speech=6, data=tmp_path / "no-starter", extra=tmp_path / "more-rael")
    (tmp_path / "sources.csv").write_text("fname,label,source\n")
    _, config = parse_args(["--out", "x", "--extra-dry", str(tmp_path)])
    assert config.extra_dry == tmp_path


def test_cue_ordering_follows_the_true_responses_direct_sound():
    """``train.room_statistics.cue_ordering`` on responses made by hand: a direct sound 1/d at the
    aligned index and one reverberant tail per room, so that the DRR and C50 fall with distance
    inside each room (within-room correlation -1); the second room's tail is louder, so over both
    rooms the order is no longer perfect."""
    from soundpred.rooms import DIRECT_INDEX, TRAIN, RirBank
    from train.room_statistics import cue_ordering

    sr, rng = 16000, np.random.default_rng(0)
    rirs, dist, room = [], [], []
    for r, tail_gain in enumerate((0.05, 0.5)):
        tail = rng.standard_normal(sr // 2) * np.exp(-np.arange(sr // 2) / (0.1 * sr)) * tail_gain
        for d in (0.5, 1.0, 2.0, 4.0):
            h = np.zeros(DIRECT_INDEX + sr // 2 + 200)
            h[DIRECT_INDEX] = 1.0 / d
            h[DIRECT_INDEX + 100:DIRECT_INDEX + 100 + len(tail)] = tail
            rirs.append(h.astype(np.float32)), dist.append(d * (1 + r * 0.01)), room.append(r)
    bank = RirBank(rirs, np.array(dist), np.full(8, 0.5), np.array(room), TRAIN, np.full(8, 60.0))
    out = cue_ordering(bank, sr)
    assert out["drr_within"] == -1.0 and out["c50_within"] == -1.0
    assert -0.9 < out["drr_all"] < 0


def test_evaluation_reports_speech_and_clips_apart():
    """``make_examples(with_sources=True)`` gives the same examples and says which carry speech;
    ``by_source`` scores each kind on its own examples, and the card's table shows both."""
    from soundpred.rooms import TRAIN, RirBank
    from train.distance_eval import by_source, make_examples, source_table

    rng = np.random.default_rng(0)
    n_rooms = 12
    rirs = [np.r_[np.zeros(20), 1.0, 0.2 * rng.standard_normal(200)].astype(np.float32) for _ in range(4 * n_rooms)]
    distance = np.tile([1.0, 2.0, 4.0, 8.0], n_rooms)
    bank = RirBank(rirs, distance, np.full(len(rirs), 0.5), np.repeat(np.arange(n_rooms), 4), TRAIN,
                   np.full(len(rirs), 100.0))
    speech = [np.sin(np.arange(16000 * 2) * 0.05).astype(np.float32)]
    clips = [np.sign(np.sin(np.arange(16000 * 2) * 0.01)).astype(np.float32)]
    kw = dict(n=8000, sr=16000, seed=5, speech_share=0.6)
    x = make_examples(bank, speech, clips, TRAIN, **kw)
    x2, is_speech = make_examples(bank, speech, clips, TRAIN, with_sources=True, **kw)
    np.testing.assert_array_equal(x, x2)
    is_clip_tone = np.array([np.abs(np.fft.rfft(e)).argmax() < 8000 * 0.05 / (2 * np.pi) * 0.5 for e in x])
    np.testing.assert_array_equal(is_speech, ~is_clip_tone)  # the flag names the source each example carries
    assert 0 < is_speech.sum() < len(is_speech)
    estimate = np.where(is_speech, distance, 2.5)  # right on speech, the same guess on every clip
    res = by_source(estimate, bank, is_speech, lo=estimate / 2, hi=estimate * 2)
    assert res["speech"]["mae_m"] == 0.0 and res["speech"]["spearman_within_room"] == 1.0
    assert res["clips"]["n"] == (~is_speech).sum() and res["clips"]["mae_m"] > 0
    assert res["speech"]["coverage"] == 1.0 and res["clips"]["coverage"] < 1.0  # 8 m is outside 1.25-5 m
    assert res["speech"]["interval_ratio"] == 4.0
    assert "coverage" not in {k for k, v in by_source(estimate, bank, is_speech)["speech"].items() if v is not None}
    table = source_table({"held-out rooms": {"model": {"by_source": res}}})
    assert "| held-out rooms | speech |" in table and "| held-out rooms | clips |" in table
    assert source_table({"held-out rooms": {"model": {}}}) == ""


def test_soup_interpolates_a_fine_tune_and_its_start(tmp_path):
    """``train.soup`` on the embedded bundles: member 4 of the default (ft10h) was fine-tuned from
    ``models/distance-p90direct10``. alpha 0 answers as the start, 1 as the fine-tune (the member
    taken out of the ensemble), 0.5 as neither; the bundle loads, its card names both parents and
    its record carries what an ensemble's card reads. Networks of other shapes are refused."""
    from train import soup
    from train.ensemble import MEMBER_FIELDS, members_of

    start = load_bundle(ROOT / "models" / "distance-p90direct10")
    tuned = members_of(ROOT / "models" / "distance", [3])[0]
    rng = np.random.default_rng(0)
    x = (0.1 * rng.standard_normal((2, start.frontend.window_samples))).astype("float32")
    hint = np.eye(4, dtype="float32")[[0, 2]]  # auto, then medium

    def answer(model):
        return np.asarray(model.predict_on_batch([x, hint]))

    ends = answer(start.model), answer(tuned.model)
    assert np.abs(ends[0] - ends[1]).max() > 0.01  # the fine-tune moved: the test can tell them apart
    for alpha, want in ((0.0, ends[0]), (1.0, ends[1])):
        np.testing.assert_allclose(answer(soup.soup(start, tuned, alpha)), want, atol=1e-4)
    a, b = str(ROOT / "models" / "distance-p90direct10"), f"{ROOT / 'models' / 'distance'}:4"
    out = soup.main([a, b, "--alpha", "0.5", "--out", str(tmp_path / "w")])
    half = load_bundle(out)
    mid = answer(half.model)
    assert min(np.abs(mid - e).max() for e in ends) > 1e-3
    meta = json.loads((out / "soundpred.json").read_text())["training"]
    assert meta["soup"]["alpha"] == 0.5 and [p["folder"] for p in meta["soup"]["parents"]] == [a, b]
    assert set(MEMBER_FIELDS) <= set(meta) and meta["command"].startswith("python -m train.soup")
    card = (out / "README.md").read_text()
    assert "0.5 × those of" in card and "runs/ft10h" in card and "Not evaluated yet" in card

    with pytest.raises(ValueError, match="not the same network"):
        soup.interpolate([np.zeros((3, 2))], [np.zeros((2, 3))], 0.5)
    with pytest.raises(SystemExit):
        soup.main([a, str(ROOT / "models" / "distance"), "--alpha", "0.5", "--out", str(tmp_path / "x")])
    with pytest.raises(SystemExit):
        soup.main([a, b, "--alpha", "1.5", "--out", str(tmp_path / "y")])


def test_recalibrate_sets_each_batch_norm_to_the_mean_of_its_batch_statistics():
    """``train.soup.recalibrate``: every batch norm, nested ones too, ends with the mean over the
    batches of their means and (biased) variances, whatever it held before; its momentum and the
    trainable weights are as they were."""
    import keras

    from train.soup import batch_norms, recalibrate

    inner = keras.Sequential([keras.Input((3,)), keras.layers.Dense(3, name="d"), keras.layers.BatchNormalization(name="bn_in")])
    x_in = keras.Input((3,))
    model = keras.Model(x_in, keras.layers.BatchNormalization(momentum=0.9, name="bn_out")(inner(x_in)))
    norms = batch_norms(model)
    assert [bn.name for bn in norms] == ["bn_in", "bn_out"]
    for bn in norms:
        bn.moving_mean.assign(np.full(3, 50.0, "float32"))
        bn.moving_variance.assign(np.full(3, 9.0, "float32"))
    trainable = [w.copy() for w in (v.numpy() for v in model.trainable_variables)]
    rng = np.random.default_rng(0)
    batches = [((rng.normal(i, 1.0 + i, (16, 3))).astype("float32"), None) for i in range(3)]
    assert recalibrate(model, batches, 3) == 3
    dense = inner.get_layer("d")
    hidden = [np.asarray(dense(x)) for x, _ in batches]
    np.testing.assert_allclose(norms[0].moving_mean.numpy(), np.mean([h.mean(0) for h in hidden], 0), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(norms[0].moving_variance.numpy(), np.mean([h.var(0) for h in hidden], 0), rtol=1e-4)
    assert norms[1].momentum == 0.9 and norms[0].momentum != 0.0
    assert not np.allclose(norms[1].moving_mean.numpy(), 50.0)
    for before, after in zip(trainable, model.trainable_variables):
        np.testing.assert_array_equal(before, after.numpy())
    assert recalibrate(keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]), batches, 3) == 0


@pytest.mark.slow
@needs_starter
def test_soup_recalibrates_on_batches_of_the_fine_tunes_recipe(tmp_path, monkeypatch, data_cache):
    """``train.soup --recalibrate`` end to end on two small networks whose record holds a tiny
    ``train.distance`` command (4 rooms, 2 hybrid ones): the batch norms' statistics change, the
    other weights are the plain soup's, and the record says how many batches it took."""
    import keras

    from soundpred.models import DISTANCE_FRONTEND, build_distance
    from train import soup
    from train.soup import batch_norms

    monkeypatch.setenv("SOUNDPRED_CACHE", str(data_cache))
    keras.utils.set_random_seed(1)
    start = build_distance(DISTANCE_FRONTEND, width=4, room_hint=True)
    tuned = build_distance(DISTANCE_FRONTEND, width=4, room_hint=True)
    tuned.set_weights([w + 0.01 for w in start.get_weights()])
    command = ("python -m train.distance --out x --rooms 4 --eval-rooms 2 --speech 12 --room-hint --hybrid-rooms 2 "
               "--hybrid-share 0.5 --batch-size 4 --width 4")
    for name, model in (("a", start), ("b", tuned)):
        save_bundle(model, tmp_path / name, frontend=DISTANCE_FRONTEND, task="distance", training={"command": command})
    plain = load_bundle(soup.main([str(tmp_path / "a"), str(tmp_path / "b"), "--alpha", "0.5", "--out", str(tmp_path / "p")]))
    again = soup.main([str(tmp_path / "a"), str(tmp_path / "b"), "--alpha", "0.5", "--recalibrate", "2",
                       "--out", str(tmp_path / "r")])
    fresh = load_bundle(again)
    stats = {id(v) for bn in batch_norms(fresh.model) for v in (bn.moving_mean, bn.moving_variance)}
    moved = 0
    for v, w in zip(fresh.model.weights, plain.model.weights, strict=True):
        if id(v) in stats:
            moved += not np.allclose(v.numpy(), w.numpy())
        else:
            np.testing.assert_array_equal(v.numpy(), w.numpy())
    assert moved == len(stats)
    assert json.loads((again / "soundpred.json").read_text())["training"]["soup"]["recalibrated_batches"] == 2
    with pytest.raises(SystemExit, match="no train.distance command"):
        soup.recipe_batches({"command": "python -m train.soup x y"}, DISTANCE_FRONTEND)


@pytest.mark.slow
@needs_starter
def test_room_kind_reader_trains_on_the_rooms_kind_and_loads_back(tmp_path, monkeypatch, data_cache):
    """``train.room_kind``: tiny banks, one short epoch; the reader's weights and config are
    saved, it loads back with the same outputs (probabilities over small, medium, large), and
    ``--resume`` with nothing left to train only saves it again."""
    from train import room_kind

    monkeypatch.setenv("SOUNDPRED_CACHE", str(data_cache))
    out = tmp_path / "kind"
    args = ["--out", str(out), "--rooms", "4", "--hybrid-rooms", "2", "--epochs", "1", "--steps", "2",
            "--batch-size", "4", "--width", "4", "--speech", "12", "--verbose", "0"]
    room_kind.main(args)
    config = json.loads((out / "config.json").read_text())
    assert config["epochs_done"] == 1 and config["room_hint"] and config["hint_drop"] == 0.0
    reader = room_kind.load_reader(out)
    x = np.random.default_rng(0).normal(0, 0.1, (3, 16000 * 4)).astype(np.float32)
    p = room_kind.kind_probabilities(reader, x)
    assert p.shape == (3, 3) and np.allclose(p.sum(1), 1, atol=1e-5)
    room_kind.main(args + ["--resume"])  # the state says 1 of 1 epochs: nothing to train
    np.testing.assert_allclose(room_kind.kind_probabilities(room_kind.load_reader(out), x), p, atol=1e-6)
    with pytest.raises(SystemExit):
        room_kind.main(["--score", str(out)])  # --score needs --beliefs


def test_room_kind_batches_and_rules_mix_the_kinds_by_the_readers_probabilities():
    """``train.room_kind``: the training target is the room hint's kind without ``auto`` (an
    example without its kind is refused); ``kind_rules`` with a reader that is always right
    gives the beliefs told the true kind, with one that is always sure of the wrong kind the
    wrong kind's, and ``posterior`` and ``argmax`` agree on a sure reader (the belief's median;
    the point estimate may be shrunk, as fitted on the validation set)."""
    from soundpred.rooms import kind_one_hot
    from train.probe_pool_rules import SetBeliefs
    from train.room_kind import KINDS, KindBatches, hint_weights, kind_rules

    x = np.zeros((3, 10), np.float32)
    hint = kind_one_hot(["small", "large", "medium"])
    got_x, target = KindBatches([((x, hint), None)])[0]
    assert got_x is x and target.tolist() == [[1, 0, 0], [0, 0, 1], [0, 1, 0]]
    with pytest.raises(ValueError, match="without its room kind"):
        KindBatches([((x, kind_one_hot(["auto", "small", "large"])), None)])[0]
    with pytest.raises(ValueError, match="unknown rule"):
        hint_weights("median", np.ones((2, 3)) / 3)

    rng = np.random.default_rng(2)
    n = 60
    log_d = rng.uniform(np.log(0.5), np.log(12), n)
    kinds = np.array(KINDS)[rng.integers(0, 3, n)]
    # each hint's belief: right when told the true kind, 0.8 off in log distance otherwise (auto too)
    mus = np.stack([log_d + 0.8] + [np.where(kinds == k, log_d, log_d + 0.8) for k in KINDS])[:, None].repeat(2, 1)
    sets = [SetBeliefs(name, mus, np.full(mus.shape, 0.3), np.exp(log_d), np.arange(n) // 5, np.ones(n), kinds)
            for name in ("val", "eval")]
    sure = np.eye(3)[[KINDS.index(k) for k in kinds]]
    wrong = np.roll(sure, 1, axis=1)
    for probs, error in ((sure, 0.0), (wrong, 0.8)):
        found = kind_rules(sets[:1], sets[1:], {"val": probs, "eval": probs}, 2.0, 2)["eval"]
        for rule in ("posterior", "argmax"):  # the belief's median: the middle of the interval in log distance
            np.testing.assert_allclose(np.log(found[rule][1] * found[rule][2]) / 2, log_d + error, atol=1e-6)
        np.testing.assert_allclose(np.log(found["auto"][1] * found["auto"][2]) / 2, log_d + 0.8, atol=1e-6)
        assert np.all(found["posterior"][1] <= found["posterior"][0]) and np.all(found["posterior"][0] <= found["posterior"][2])


def test_room_kind_probe_reads_with_the_accuracy_asked_and_hears_dense_reflections(capsys):
    """``train.probe_room_kind``: reads of accuracy q are right about q of the time and, when
    wrong, another kind; the room-response features count the energy from the direct sound on
    and see a denser reflection pattern as denser; accuracies outside 0–1, no draws and an SNR
    without a reader that draws examples are refused."""
    from soundpred.rooms import RirBank
    from train.probe_room_kind import RIR_SUBSETS, kind_index, main, noisy_reads, rir_features

    kinds = np.array(["small", "medium", "large"] * 400)
    rng = np.random.default_rng(0)
    for q in (0.0, 0.7, 1.0):
        reads = noisy_reads(kinds, q, rng)
        right = reads.argmax(1) == kind_index(kinds)
        assert reads.sum(1).tolist() == [1.0] * len(kinds) and abs(right.mean() - q) < 0.04
    sr = 16000
    sparse, dense = np.zeros(sr), np.zeros(sr)
    sparse[100] = dense[100] = 1.0
    sparse[100 + np.arange(1, 40) * 200] = 0.5  # one reflection every 12.5 ms
    dense[100 + np.arange(1, 800) * 10] = 0.5  # one every 0.6 ms
    bank = RirBank([sparse, dense], np.array([1.0, 1.0]), np.array([0.5, 0.5]), np.array([0, 1]))
    f = rir_features(bank, sr)
    assert f.shape == (2, 28) and np.allclose(f[:, 0], np.log(0.5))
    assert np.all(f[1, 12:] > f[0, 12:])  # reflection density, 5-ms windows up to 80 ms
    assert f[0, 1] > f[1, 1]  # the first 2.5 ms hold more of the sparse response's energy
    assert all(len(set(cols)) == len(cols) and max(cols) < f.shape[1] for cols in RIR_SUBSETS.values())
    for argv, said in ((["--accuracies", "1.5"], "probabilities"), (["--draws", "0"], "at least 1"),
                       (["--rir", "--snr-db", "60"], "only with --signal or --known-source")):
        with pytest.raises(SystemExit) as e:
            main(["--beliefs", "no-such.npz", *argv])  # refused before the file is read
        assert e.value.code == 2 and said in capsys.readouterr().err


def test_room_kind_signal_features_hear_an_echo_and_a_faster_decay():
    """``train.probe_room_kind.signal_features``: an echo 6 ms after the sound raises the 4–8 ms
    lag bin of the whitened signal's autocorrelation and no other bin much; a shorter decay gives
    steeper falls of the 10-ms level; silence and a too-short example are told apart."""
    from scipy.signal import fftconvolve

    from train.probe_room_kind import LAG_EDGES_MS, SIGNAL_SUBSETS, signal_features

    sr = 16000
    rng = np.random.default_rng(0)
    dry = rng.standard_normal(4 * sr) * np.repeat(rng.random(40) < 0.5, sr // 10)  # bursts of noise
    echoed = dry + 0.6 * np.roll(dry, int(0.006 * sr))
    plain, echo = signal_features(dry, sr), signal_features(echoed, sr)
    bins = len(LAG_EDGES_MS) - 1
    assert plain.shape == echo.shape == (2 * bins + 3,)
    at = [k for k in range(bins) if LAG_EDGES_MS[k] <= 6 < LAG_EDGES_MS[k + 1]][0]
    rise = echo[bins:2 * bins] - plain[bins:2 * bins]  # the bins' largest |r|
    assert rise[at] > 1.0 and np.delete(rise, at).max() < 0.5 * rise[at]
    t = np.arange(sr) / sr
    short, long_ = (fftconvolve(dry, rng.standard_normal(sr) * np.exp(-6.9 * t / rt))[:len(dry)] for rt in (0.2, 1.5))
    # 60 dB in 0.2 s is 3 dB per 10 ms, in 1.5 s 0.4 dB: the steepest tenth of the falls tells them apart
    assert signal_features(short, sr)[-3] < signal_features(long_, sr)[-3] - 1.5
    assert np.isfinite(signal_features(np.zeros(sr), sr)).all()
    with pytest.raises(ValueError, match="shorter than a frame"):
        signal_features(np.ones(100), sr)
    assert sorted(sum(SIGNAL_SUBSETS.values(), [])) == list(range(len(plain)))


def test_room_kind_known_source_responses_keep_the_reflection_density():
    """``train.probe_room_kind.known_source_responses``: an example deconvolved by its own direct
    sound gives back its response, lag 0 first and ``KNOWN_SOURCE_SECONDS`` long, in which
    ``rir_features`` sees a sparse reflection as sparser than dense ones; between the sparse
    reflections it sees the floor as dense, unless given the floor the responses' negative lags
    hold (here the deconvolution's own, about -50 dB: the same at 40 and 60 dB SNR)."""
    from dataclasses import replace
    from types import SimpleNamespace

    from soundpred.models import DISTANCE_FRONTEND as fe
    from soundpred.rooms import DIRECT_INDEX, TRAIN, RirBank
    from train.distance_eval import EvalSet
    from train.probe_room_kind import KNOWN_SOURCE_SECONDS, at_snr, known_source_responses, rir_features

    sr = fe.sample_rate
    rng = np.random.default_rng(1)
    sparse, dense = np.zeros(sr // 2, np.float32), np.zeros(sr // 2, np.float32)
    sparse[DIRECT_INDEX] = dense[DIRECT_INDEX] = 1.0
    sparse[DIRECT_INDEX + 40 + np.arange(30) * 200] = 0.4  # one reflection every 12.5 ms
    dense[DIRECT_INDEX + 40 + np.arange(600) * 10] = 0.4  # one every 0.6 ms
    bank = RirBank([sparse, dense], np.array([1.0, 1.0]), np.array([0.5, 0.5]), np.array([0, 1]), TRAIN,
                   np.full(2, 100.0))
    speech = [rng.standard_normal(sr * 6).astype(np.float32)]
    s = EvalSet("two rooms", bank, replace(TRAIN, snr_db=(40.0, 40.0)), 3, speech, speech)
    responses, floor = known_source_responses(s, fe, 1.0)
    assert [len(h) for h in responses] == [int(KNOWN_SOURCE_SECONDS * sr)] * 2
    assert all(np.argmax(np.abs(h)) < 3 for h in responses)  # the direct sound at lag 0
    # the floor's RMS, read at negative lags, is the RMS between the sparse reflections
    quiet = np.concatenate([responses[0][k * 200 + 100:k * 200 + 180] for k in range(1, 25)])
    assert floor[0] == pytest.approx(np.sqrt(np.mean(quiet ** 2)), rel=0.3) and 0 < floor[0] < 0.05
    response_bank = SimpleNamespace(rirs=responses, rt60=bank.rt60)
    density = rir_features(response_bank, sr)[:, 12:]  # 5-ms windows to 80 ms
    holds = np.zeros(16, bool)
    holds[(40 + 200 * np.arange(7)) // int(0.005 * sr)] = True  # the windows that hold a sparse reflection
    assert np.all(density[0, holds] < density[1, holds])
    np.testing.assert_allclose(density[1, 1:], 0.1, atol=0.02)  # one sample in ten (the first window: the direct sound)
    # the feature's limit: a window with no reflection holds only the floor, whose samples pass a
    # tenth of their own peak as often as dense reflections do
    assert np.all(density[0, ~holds] > 0.5)
    above_noise = rir_features(response_bank, sr, floor=floor)[:, 12:]  # counted above 3 x the floor too
    assert np.all(above_noise[0, ~holds] <= 0.025) and np.all(above_noise[0, holds] < above_noise[1, holds])
    quiet = at_snr([s], 60.0)[0]  # --snr-db: the same examples' rooms and seeds, noise at 60 dB
    assert (quiet.settings.snr_db, quiet.seed, quiet.bank) == ((60.0, 60.0), s.seed, s.bank) and at_snr([s], None) == [s]
    assert known_source_responses(quiet, fe, 1.0)[1][0] == pytest.approx(floor[0], rel=0.2)  # the floor is not the noise


def test_mic_processing_probe_suppresses_the_noise_and_keeps_the_length():
    """``train.probe_mic_processing.processed``: ``none`` only sets the level (-25 dBFS RMS) and
    rounds to 16 bits, whatever the input's level; noise suppression takes the noise between bursts
    of a tone down (WebRTC's processing, the real package) and keeps the length and the tone; the
    gain control raises the level; silence stays silence."""
    from train.mic_processing import LEVEL_DBFS
    from train.probe_mic_processing import processed

    sr = 16000
    rng = np.random.default_rng(0)
    t = np.arange(4 * sr) / sr
    bursts = (np.sin(2 * np.pi * 440 * t) * (np.floor(t * 2) % 2 == 0)).astype(np.float32)
    noise = 0.02 * rng.standard_normal(len(t)).astype(np.float32)
    y = 0.3 * bursts + noise
    gaps = np.floor(t * 2) % 2 == 1
    gaps &= (t % 0.5 > 0.1) & (t % 0.5 < 0.4)  # away from the edges of a burst

    def db(x):
        return 10 * np.log10(np.mean(x ** 2))

    plain = processed(y, "none")
    assert len(plain) == len(y) and abs(db(plain) - LEVEL_DBFS) < 0.1
    assert np.corrcoef(plain, y)[0, 1] > 0.9999
    suppressed = processed(y, "ns3")
    assert len(suppressed) == len(y)
    assert db(suppressed[gaps]) < db(plain[gaps]) - 10  # the noise between bursts
    assert abs(db(suppressed[~gaps]) - db(plain[~gaps])) < 3  # the tone, about as loud
    assert db(processed(y, "agc")) > db(plain) + 3  # the gain control raises -25 dBFS speech-level input
    assert np.allclose(processed(0.01 * y, "none"), plain, atol=1e-4)  # any input level: -25 dBFS first
    assert not processed(np.zeros(sr, np.float32), "ns3+agc").any()



def test_codec_probe_codes_each_example_and_cuts_it_back_out_aligned():
    """``train.codecs.coded`` (real ffmpeg, the app's decoder): ``none`` gives the examples
    back at -25 dBFS RMS to 16-bit precision; a coding keeps the length and the alignment (each
    example cut out where it was); a telephone band loses what lies above 4 kHz; an example's
    neighbours do not leak into it; the alignment check finds a delay that ffmpeg would leave."""
    from train.codecs import LEVEL_DBFS, _lag, coded

    sr = 16000
    rng = np.random.default_rng(0)
    t = np.arange(2 * sr) / sr
    low = np.sin(2 * np.pi * 300 * t) * (np.floor(t * 4) % 2 == 0)  # bursts: something to align by
    high = 0.5 * np.sin(2 * np.pi * 6000 * t)
    x = np.stack([low + high + 0.05 * rng.standard_normal(len(t)), np.roll(low, sr // 3) + high,
                  np.zeros(len(t))]).astype(np.float32)
    x[2, sr // 2:sr] = low[:sr // 2]  # the third is silent but for half a second
    level = x[:2] / np.sqrt(np.mean(x[:2] ** 2, axis=1, keepdims=True)) * 10 ** (LEVEL_DBFS / 20)

    plain = coded(x, "none")
    assert plain.shape == x.shape
    np.testing.assert_allclose(plain[:2], level, atol=2e-4)
    for variant in ("mp3-32", "opus-16"):
        y = coded(x, variant)
        assert y.shape == x.shape
        for a, b in zip(y[:2], level):
            assert np.corrcoef(a, b)[0, 1] > 0.85, variant
            lags = np.arange(-40, 41)  # samples: the best match is where the example was
            best = lags[np.argmax([np.dot(a[40:-40], np.roll(b, k)[40:-40]) for k in lags])]
            assert abs(best) <= 1, (variant, best)
        quiet = np.r_[y[2, :sr // 2 - 800], y[2, sr + 800:]]  # away from its own half second
        assert np.sqrt(np.mean(quiet ** 2)) < 1e-3, variant  # nothing of the neighbours
    phone = coded(x, "8k")
    spectrum = np.abs(np.fft.rfft(phone[1])) ** 2
    freqs = np.fft.rfftfreq(len(phone[1]), 1 / sr)
    assert spectrum[freqs > 4500].sum() < 1e-4 * spectrum.sum()  # the 6 kHz tone is gone
    assert np.corrcoef(phone[1], np.roll(low, sr // 3))[0, 1] > 0.9  # the 300 Hz bursts stay, aligned
    delayed = np.r_[np.zeros(37), x[0]]  # the check of the alignment finds a delay ffmpeg left
    assert _lag(x[0], delayed, 800) == 37 and _lag(delayed, x[0], 800) == -37


def _plain_and_changed_batch(batch_size: int, **change):
    """One training batch of tone bursts in toy rooms, plain and with the config's ``change``:
    ``(x0, y0, x1, y1)``."""
    from dataclasses import replace

    from soundpred.models import DISTANCE_FRONTEND
    from soundpred.rooms import TRAIN
    from train.distance_eval import DistanceConfig, DrySources, make_batches

    bank = toy_bank(np.repeat(np.arange(4), 3))
    t = np.arange(16000 * 5) / 16000
    bursts = [(np.sin(2 * np.pi * f * t) * (np.floor(t * 2) % 2 == 0)).astype(np.float32) for f in (250.0, 400.0)]
    sources = DrySources(bursts, [], bursts, [])
    plain = DistanceConfig(steps=1, batch_size=batch_size, speech_share=1.0)
    x0, y0 = make_batches([(bank, TRAIN)], sources, DISTANCE_FRONTEND, plain)[0]
    x1, y1 = make_batches([(bank, TRAIN)], sources, DISTANCE_FRONTEND, replace(plain, **change))[0]
    return x0, y0, x1, y1


def test_batches_with_lossy_codings_are_the_plain_examples_coded():
    """``codec_share`` (``--codec-share``): with a share of 1 every example of a batch goes
    through one coding (real ffmpeg) drawn after the examples, so the batch holds the plain
    batch's examples, coded: the same targets, each example at its own RMS, close to its plain
    self but not equal to it. ``training_coded`` draws every family, its telephone band loses
    what lies above 4 kHz, and silence stays silence."""
    from train.codecs import CODINGS, TRAINING_CODINGS, training_coded
    from train.distance import parse_args

    x0, y0, x1, y1 = _plain_and_changed_batch(4, codec_share=1.0)
    np.testing.assert_array_equal(y0, y1)
    assert x1.shape == x0.shape and not np.array_equal(x1, x0)
    for a, b in zip(x1, x0):
        assert np.sqrt(np.mean(a ** 2)) == pytest.approx(np.sqrt(np.mean(b ** 2)), rel=1e-3)
        assert np.corrcoef(a, b)[0, 1] > 0.8
    assert all(v in CODINGS for vs in TRAINING_CODINGS.values() for v in vs)
    rng = np.random.default_rng(3)
    high = x0[:1] + 0.3 * np.sin(2 * np.pi * 6000 * np.arange(x0.shape[1]) / 16000).astype(np.float32)
    seen = {}
    for _ in range(12):
        z, variant = training_coded(high, rng)
        seen.setdefault(variant.split("-")[0], z[0])
    assert set(seen) == {"mp3", "aac", "opus", "8k"}
    above = np.fft.rfftfreq(x0.shape[1], 1 / 16000) > 4500
    share = {k: (np.abs(np.fft.rfft(z)) ** 2)[above].sum() / (np.abs(np.fft.rfft(z)) ** 2).sum() for k, z in seen.items()}
    assert share["8k"] < 0.01 and share["mp3"] > 0.1, share  # the 6 kHz tone: gone from the telephone band only
    assert not np.any(training_coded(np.zeros((1, 8000), np.float32), rng)[0])  # silence stays silence
    assert parse_args(["--out", "x", "--codec-share", "0.5"])[1].codec_share == 0.5


def test_batches_with_call_processing_keep_their_targets_and_lose_the_noise_floor():
    """``processing_share`` (``--processing-share``): the same rooms and targets, the examples
    through WebRTC's noise suppression (the real package): the quiet between bursts of a tone
    falls further below the example's RMS, which :func:`call_processed` keeps."""
    from train.distance import parse_args
    from train.distance_eval import call_processed
    from train.mic_processing import levels_db

    x0, y0, x1, y1 = _plain_and_changed_batch(8, processing_share=1.0)
    np.testing.assert_array_equal(y0, y1)  # the same rooms and distances

    def floor_below_rms(x):  # the 10th percentile of the 20-ms levels, against the RMS, dB
        return np.mean([levels_db(e)[0] - 10 * np.log10(np.mean(e ** 2)) for e in x])

    assert floor_below_rms(x1) < floor_below_rms(x0) - 6
    z = call_processed(x0[0], np.random.default_rng(1))
    assert z.shape == x0[0].shape and np.sqrt(np.mean(z ** 2)) == pytest.approx(np.sqrt(np.mean(x0[0] ** 2)), rel=1e-4)
    assert parse_args(["--out", "x", "--processing-share", "0.5"])[1].processing_share == 0.5
