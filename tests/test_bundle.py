"""Bundles: round trip, and the refusals that keep loading safe."""
from __future__ import annotations

import json
import shutil

import keras
import numpy as np
import pytest

from soundpred.bundle import BundleError, load_bundle, save_bundle
from soundpred.labels import FSD_LABELS
from soundpred.models import build_classifier
from soundpred.params import FrontEnd

FE = FrontEnd(window_seconds=1.0, n_mels=32)
LABELS = list(FSD_LABELS[:4])


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    keras.utils.set_random_seed(0)
    model = build_classifier(FE, len(LABELS), width=4)
    folder = tmp_path_factory.mktemp("b") / "tiny"
    save_bundle(model, folder, frontend=FE, task="classification", labels=LABELS,
                metrics={"test": {"top1": 0.5}}, card="# tiny\n")
    return model, folder


def test_round_trip_identical_scores(tiny):
    model, folder = tiny
    b = load_bundle(folder)
    x = np.random.default_rng(0).standard_normal((3, FE.window_samples)).astype(np.float32)
    np.testing.assert_array_equal(np.asarray(b.model.predict_on_batch(x)), np.asarray(model.predict_on_batch(x)))
    assert b.frontend == FE and b.labels == LABELS and b.task == "classification"
    assert b.meta["metrics"]["test"]["top1"] == 0.5
    assert {p.name for p in folder.iterdir()} >= {"config.json", "metadata.json", "model.weights.h5",
                                                   "soundpred.json", "README.md"}


def _copy(folder, tmp_path):
    dst = tmp_path / "copy"
    shutil.copytree(folder, dst)
    return dst


def _edit_meta(folder, **changes):
    meta = json.loads((folder / "soundpred.json").read_text())
    meta.update(changes)
    (folder / "soundpred.json").write_text(json.dumps(meta))


@pytest.mark.parametrize("changes,message", [
    ({"format_version": 99}, "bundle format 99 is not supported"),
    ({"frontend_version": 7}, "front-end version 7"),
    ({"task": "poetry"}, "unknown task"),
    ({"labels": ["Bark", "Not_a_label", "Meow", "Cough"]}, "not FSDKaggle2018 labels"),
    ({"labels": ["Bark", "Meow"]}, "4 outputs for 2 labels"),
])
def test_bad_metadata_refused(tiny, tmp_path, changes, message):
    folder = _copy(tiny[1], tmp_path)
    _edit_meta(folder, **changes)
    with pytest.raises(BundleError, match=message):
        load_bundle(folder)


def test_frontend_mismatch_refused(tiny, tmp_path):
    folder = _copy(tiny[1], tmp_path)
    meta = json.loads((folder / "soundpred.json").read_text())
    meta["frontend"]["n_mels"] = 64
    (folder / "soundpred.json").write_text(json.dumps(meta))
    with pytest.raises(BundleError, match="differs from the model"):
        load_bundle(folder)


def test_unknown_frontend_setting_refused(tiny, tmp_path):
    folder = _copy(tiny[1], tmp_path)
    meta = json.loads((folder / "soundpred.json").read_text())
    meta["frontend"]["pcen"] = True
    (folder / "soundpred.json").write_text(json.dumps(meta))
    with pytest.raises(BundleError, match="unsupported front-end settings"):
        load_bundle(folder)


def test_missing_files_refused(tiny, tmp_path):
    folder = _copy(tiny[1], tmp_path)
    (folder / "model.weights.h5").unlink()
    with pytest.raises(BundleError, match="missing model.weights.h5"):
        load_bundle(folder)


def test_lambda_layer_refused(tmp_path):
    """A bundle whose model holds a Lambda layer (arbitrary code) is refused by safe_mode."""
    from soundpred.features import LogMel

    wave = keras.Input(shape=(None,))
    x = LogMel(FE.to_dict(), name="logmel")(wave)
    x = keras.layers.Lambda(lambda t: t * 2.0)(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    out = keras.layers.Dense(len(LABELS), activation="softmax")(x)
    folder = save_bundle(keras.Model(wave, out), tmp_path / "evil", frontend=FE, task="classification",
                         labels=LABELS)
    with pytest.raises(BundleError, match="could not be loaded safely"):
        load_bundle(folder)
