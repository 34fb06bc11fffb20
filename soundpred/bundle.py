"""Model bundles: a folder with the Keras 3 model files plus ``soundpred.json`` and a card.

Layout (what ``model.save("hf://...")`` writes, plus two files)::

    config.json, metadata.json, model.weights.h5   Keras 3 model
    soundpred.json                                  front end, labels, task, metrics, training
    README.md                                       model card

A bundle is loaded with ``safe_mode=True``: no Lambda layers, no pickled code.
"""
from __future__ import annotations

import json
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import keras

from . import __version__
from . import features, models  # noqa: F401  (register the custom layers that bundles contain)
from .distance import point_shrink
from .labels import check_labels
from .params import FRONTEND_VERSION, FrontEnd

__all__ = ["Bundle", "BundleError", "save_bundle", "load_bundle", "FORMAT_VERSION", "TASKS"]

FORMAT_VERSION = 1
TASKS = ("classification", "distance", "audioset")
KERAS_FILES = ("config.json", "metadata.json", "model.weights.h5")


class BundleError(RuntimeError):
    """A bundle that is missing, malformed or made for another version."""


@dataclass
class Bundle:
    model: keras.Model
    frontend: FrontEnd
    task: str
    labels: list[str] = field(default_factory=list)
    meta: dict = field(default_factory=dict)
    source: str = ""  # where it was loaded from, for display

    @property
    def name(self) -> str:
        return self.meta.get("name", self.model.name)


def save_bundle(model: keras.Model, folder, *, frontend: FrontEnd, task: str, labels=(),
                metrics: dict | None = None, training: dict | None = None, card: str = "",
                name: str | None = None, audioset_labels=(), extra_meta: dict | None = None) -> Path:
    """Write ``model`` and its settings to ``folder`` (created; existing files replaced).

    ``labels``: the FSD labels of a classification bundle, or the class names of an
    ``audioset`` bundle. ``audioset_labels``: the 521 class names of a classifier's second
    output (``audioset``), when it has one. ``extra_meta``: more ``soundpred.json`` fields (a
    distance bundle's ``point_shrink``)."""
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    plain = model
    if getattr(model, "optimizer", None) is not None:  # save an uncompiled copy: no optimizer state in the bundle
        plain = keras.Model.from_config(model.get_config())
        plain.set_weights(model.get_weights())
    with tempfile.TemporaryDirectory() as tmp:
        zpath = os.path.join(tmp, "model.keras")
        plain.save(zpath)  # a .keras file is a zip of exactly the folder layout
        with zipfile.ZipFile(zpath) as z:
            for member in KERAS_FILES:
                (folder / member).write_bytes(z.read(member))
    meta = {
        "format_version": FORMAT_VERSION,
        "frontend_version": FRONTEND_VERSION,
        "soundpred_version": __version__,
        "keras_version": keras.__version__,
        "name": name or model.name,
        "task": task,
        "frontend": frontend.to_dict(),
        "labels": check_labels(labels) if task == "classification" else list(labels),
        "metrics": metrics or {},
        "training": training or {},
    }
    if audioset_labels:
        meta["audioset_labels"] = list(audioset_labels)
    meta.update(extra_meta or {})
    (folder / "soundpred.json").write_text(json.dumps(meta, indent=2) + "\n")
    if card:
        (folder / "README.md").write_text(card)
    return folder


def read_meta(folder) -> dict:
    """Read and check ``soundpred.json``; raises :class:`BundleError` with the reason."""
    folder = Path(folder)
    missing = [f for f in (*KERAS_FILES, "soundpred.json") if not (folder / f).is_file()]
    if missing:
        raise BundleError(f"{folder} is not a soundpred bundle: missing {', '.join(missing)}")
    try:
        meta = json.loads((folder / "soundpred.json").read_text())
    except json.JSONDecodeError as e:
        raise BundleError(f"{folder}/soundpred.json is not valid JSON: {e}") from None
    if meta.get("format_version") != FORMAT_VERSION:
        raise BundleError(f"{folder}: bundle format {meta.get('format_version')!r} is not supported "
                          f"by this soundpred (needs {FORMAT_VERSION}); upgrade soundpred or re-export.")
    if meta.get("frontend_version") != FRONTEND_VERSION:
        raise BundleError(f"{folder}: front-end version {meta.get('frontend_version')!r} is not "
                          f"supported (needs {FRONTEND_VERSION}).")
    if meta.get("task") not in TASKS:
        raise BundleError(f"{folder}: unknown task {meta.get('task')!r}")
    return meta


def load_bundle(folder, *, source: str | None = None) -> Bundle:
    """Load a bundle folder with ``safe_mode=True`` and check it against its ``soundpred.json``."""
    folder = Path(folder)
    meta = read_meta(folder)
    try:
        frontend = FrontEnd.from_dict(meta["frontend"])
    except (KeyError, TypeError, ValueError) as e:
        raise BundleError(f"{folder}: unsupported front-end settings ({e})") from None
    try:
        model = keras.saving.load_model(folder, compile=False, safe_mode=True)
    except Exception as e:  # Lambda layers, unknown classes, corrupt weights
        raise BundleError(f"{folder}: the model could not be loaded safely ({type(e).__name__}: "
                          f"{str(e).splitlines()[0][:300]})") from None
    try:
        layer_fe = model.get_layer("logmel").fe
    except ValueError:
        raise BundleError(f"{folder}: the model has no 'logmel' front-end layer") from None
    if layer_fe != frontend:
        raise BundleError(f"{folder}: soundpred.json front end differs from the model's own layer")
    labels = list(meta.get("labels") or [])
    if meta["task"] == "classification":
        try:
            check_labels(labels)
        except ValueError as e:
            raise BundleError(f"{folder}: {e}") from None
    if meta["task"] == "distance":
        try:
            point_shrink(meta)
        except (TypeError, ValueError) as e:
            raise BundleError(f"{folder}: {e}") from None
    if meta["task"] in ("classification", "audioset"):
        # outputs: [label scores] or [label scores, AudioSet scores] (the names in meta["audioset_labels"])
        shapes = [tuple(t.shape) for t in model.outputs]
        if shapes[0][-1] != len(labels):
            raise BundleError(f"{folder}: model has {shapes[0][-1]} outputs for {len(labels)} labels")
        if len(shapes) > 1 and shapes[1][-1] != len(meta.get("audioset_labels") or []):
            raise BundleError(f"{folder}: the AudioSet output has {shapes[1][-1]} classes but "
                              f"soundpred.json names {len(meta.get('audioset_labels') or [])}")
    return Bundle(model=model, frontend=frontend, task=meta["task"], labels=labels, meta=meta,
                  source=source or str(folder))
