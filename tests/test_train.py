"""Training smoke run on real starter clips: tiny subset, one epoch, bundle written, loaded, predicts."""
from __future__ import annotations

import json

import numpy as np
import pytest

from soundpred.bundle import load_bundle
from soundpred.predict import Predictor

from .conftest import STARTER, needs_starter, tone


@pytest.mark.slow
@needs_starter
@pytest.mark.parametrize("arch", ["yamnet", "cnn", "student"])
def test_training_smoke(tmp_path, monkeypatch, arch):
    """The documented FSDKaggle2018 training command on a tiny subset (YAMNet: the default)."""
    from train import classifier

    monkeypatch.setenv("SOUNDPRED_CACHE", str(tmp_path / "cache"))
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
def test_distance_training_smoke(tmp_path, monkeypatch):
    """Tiny room bank, one short epoch: evaluation tables, figures and a loadable bundle."""
    import shutil

    if shutil.which("espeak-ng") is None:
        pytest.fail("espeak-ng is required (apt-get install espeak-ng)")
    from train import distance

    monkeypatch.setenv("SOUNDPRED_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "dist"
    results = distance.main(["--out", str(out), "--rooms", "4", "--eval-rooms", "2", "--epochs", "1", "--steps", "2",
                             "--batch-size", "4", "--width", "4", "--speech", "12", "--verbose", "0", "--room-hint"])
    for name in ("held-out rooms", "shifted simulation"):
        assert set(results[name]) == {"model", "median_guess", "classical_features", "rir_oracle_not_blind",
                                      "model_with_room_kind"}
        assert "spearman_within_room" in results[name]["model"]
        assert "rir_oracle_not_blind" not in results["training rooms"]  # fitted on those RIRs
        assert 0 <= results[name]["model"]["coverage"] <= 1
        assert (out / "figures" / f"distance_{name.replace(' ', '_')}.png").is_file()
    bundle = load_bundle(out)
    assert bundle.task == "distance" and "held-out rooms" in bundle.meta["metrics"]
    assert len(bundle.model.inputs) == 2  # waveform and room hint
    assert (tmp_path / "dist.checkpoint.weights.h5").is_file()  # what --init resumes from
    assert (out / "README.md").read_text().startswith("---\nlibrary_name: keras")
