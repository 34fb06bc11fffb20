"""Model resolution through the real huggingface_hub, from a cache laid out as it documents.

The cache is built by hand in ``HF_HUB_CACHE``: ``models--owner--name/refs/<ref>`` holding a
commit hash and ``snapshots/<hash>/<files>``; every lookup runs in a fresh process with
``HF_HUB_OFFLINE=1``, so it is huggingface_hub's own offline resolution that is tested.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import soundfile as sf
import yaml

from soundpred.bundle import load_bundle, save_bundle
from soundpred.hub import parse_spec, push_bundle
from soundpred.labels import FSD_LABELS
from soundpred.models import build_classifier
from soundpred.params import FrontEnd

from .conftest import ROOT, running_app, tone

FE = FrontEnd(window_seconds=1.0, n_mels=32)
LABELS = list(FSD_LABELS[:6])
SHA_A, SHA_B = "a" * 40, "b" * 40


def make_bundle(folder, seed, card="---\nlibrary_name: keras\nlicense: other\n---\n# tiny\n"):
    keras.utils.set_random_seed(seed)
    model = build_classifier(FE, len(LABELS), width=4)
    return save_bundle(model, folder, frontend=FE, task="classification", labels=LABELS, card=card,
                       name=f"tiny-{seed}")


@pytest.fixture(scope="module")
def hub_cache(tmp_path_factory):
    """A cache with owner/tiny at two commits (main -> B, tag v1 -> A), and owner/evil (a Lambda)."""
    root = tmp_path_factory.mktemp("hf") / "hub"
    repo = root / "models--owner--tiny"
    make_bundle(repo / "snapshots" / SHA_A, seed=1)
    make_bundle(repo / "snapshots" / SHA_B, seed=2)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(SHA_B)
    (repo / "refs" / "v1").write_text(SHA_A)

    from soundpred.features import LogMel

    wave = keras.Input(shape=(None,))
    x = LogMel(FE.to_dict(), name="logmel")(wave)
    x = keras.layers.Lambda(lambda t: t + 0.0)(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    out = keras.layers.Dense(len(LABELS), activation="softmax")(x)
    evil = root / "models--owner--evil"
    save_bundle(keras.Model(wave, out), evil / "snapshots" / SHA_A, frontend=FE, task="classification",
                labels=LABELS)
    (evil / "refs").mkdir()
    (evil / "refs" / "main").write_text(SHA_A)
    return root


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    p = tmp_path_factory.mktemp("clip") / "tone.wav"
    sf.write(p, tone(16000, 1.5, freq=523), 16000)
    return p


#: every model spec the CLI tests give, the one refused last
SPECS = ("owner/tiny", "owner/tiny@v1", f"owner/tiny@{SHA_A}", "owner/absent@main", "LOCAL", "owner/evil")


@pytest.fixture(scope="module")
def cli_runs(hub_cache, clip):
    """``soundpred predict --json CLIP`` with each of :data:`SPECS` as ``SOUNDPRED_CLASSIFIER``
    (``LOCAL``: a snapshot's folder), in one fresh process started with ``HF_HUB_OFFLINE=1`` and
    ``HF_HUB_CACHE`` at the hand-made cache, so it is huggingface_hub's own offline resolution:
    the CLI's ``main`` once per spec, with settings read from an environment holding that spec (as
    ``main`` reads them), its output captured. spec -> (exit status, stdout, stderr); one process
    rather than six saves five TensorFlow start-ups (about a minute of the suite)."""
    local = str(hub_cache / "models--owner--tiny" / "snapshots" / SHA_A)
    code = ("import contextlib, io, json, os, sys\n"
            "from soundpred.__main__ import main\n"
            "from soundpred.settings import Settings\n"
            "runs = {}\n"
            "for spec in sys.argv[2:]:\n"
            "    out, err = io.StringIO(), io.StringIO()\n"
            "    env = {**os.environ, 'SOUNDPRED_CLASSIFIER': spec}\n"
            "    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):\n"
            "        status = main(['predict', '--json', sys.argv[1]], settings=Settings.from_env(env))\n"
            "    runs[spec] = [status, out.getvalue(), err.getvalue()]\n"
            "print('RUNS', json.dumps(runs))\n")
    env = {**os.environ, "HF_HUB_CACHE": str(hub_cache), "HF_HUB_OFFLINE": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
    r = subprocess.run([sys.executable, "-c", code, str(clip), *(local if s == "LOCAL" else s for s in SPECS)],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    line = [x for x in r.stdout.splitlines() if x.startswith("RUNS ")]
    assert r.returncode == 0 and line, r.stderr[-3000:]
    runs = json.loads(line[0][5:])
    return {s: runs[local if s == "LOCAL" else s] for s in SPECS}


def cli(spec, cli_runs):
    """(exit status, stderr, the first JSON line or None) of the CLI run with ``spec``."""
    status, out, err = cli_runs[spec]
    return status, err, (json.loads(out.splitlines()[0]) if out.strip() else None)


@pytest.mark.slow
@pytest.mark.parametrize("spec,sha", [("owner/tiny", SHA_B), ("owner/tiny@v1", SHA_A),
                                      (f"owner/tiny@{SHA_A}", SHA_A)])
def test_pinned_revision_loads_that_snapshot(hub_cache, clip, cli_runs, spec, sha):
    status, err, res = cli(spec, cli_runs)
    assert status == 0, err
    assert res["models"]["classifier"]["revision"] == sha
    assert res["models"]["classifier"]["source"] == "hf://owner/tiny"
    # identical to the same bundle loaded from its folder
    from soundpred.predict import Predictor

    local = Predictor(load_bundle(hub_cache / "models--owner--tiny" / "snapshots" / sha)).predict(str(clip))
    assert [t["label"] for t in res["top"]] == [lab for lab, _ in local.top]
    np.testing.assert_allclose([t["score"] for t in res["top"]], [s for _, s in local.top], atol=1e-5)


@pytest.mark.slow
def test_missing_repo_falls_back_with_warning(cli_runs):
    status, err, res = cli("owner/absent@main", cli_runs)
    assert status == 0, err
    assert "warning: Could not get owner/absent@main from the Hugging Face Hub" in err
    assert "using the embedded default" in err
    assert res["models"]["classifier"]["source"] == "embedded default"


@pytest.mark.slow
def test_app_shows_fallback_warning_on_the_page(hub_cache, tmp_path):
    import urllib.request

    with running_app(tmp_path / "app.log", SOUNDPRED_CLASSIFIER="owner/absent", HF_HUB_CACHE=str(hub_cache)) as app:
        url = app.url
        config = urllib.request.urlopen(url + "config", timeout=30).read().decode()
    assert "Could not get owner/absent from the Hugging Face Hub" in config
    assert "using the embedded default classification model instead" in config


@pytest.mark.slow
def test_lambda_bundle_refused(cli_runs):
    status, err, res = cli("owner/evil", cli_runs)
    assert status == 2 and res is None
    assert "could not be loaded safely" in err


@pytest.mark.slow
def test_local_folder_spec(cli_runs):
    status, err, res = cli("LOCAL", cli_runs)
    assert status == 0 and res["models"]["classifier"]["name"] == "tiny-1", err


def test_resolve_in_process(hub_cache, monkeypatch):
    """The fast tier's view of the same cache: huggingface_hub in this process, its cache
    folder pointed at the hand-made one (HF_HUB_OFFLINE=1 from conftest)."""
    from huggingface_hub import constants

    from soundpred.bundle import BundleError
    from soundpred.hub import resolve

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(hub_cache))
    for spec, sha in (("owner/tiny", SHA_B), ("owner/tiny@v1", SHA_A), (f"owner/tiny@{SHA_A}", SHA_A)):
        bundle, warning = resolve(spec, "classification")
        assert warning is None and bundle.meta["revision"] == sha and bundle.source == "hf://owner/tiny"
    bundle, warning = resolve("owner/absent@main", "classification")
    assert bundle.source == "embedded default" and "Could not get owner/absent@main" in warning
    with pytest.raises(BundleError, match="could not be loaded safely"):
        resolve("owner/evil", "classification")
    bundle, _ = resolve(str(hub_cache / "models--owner--tiny" / "snapshots" / SHA_A), "classification")
    assert bundle.name == "tiny-1"


@pytest.mark.parametrize("spec,expect", [("owner/name", ("owner/name", None)),
                                         ("owner/name@v1.2", ("owner/name", "v1.2")),
                                         ("o-1/n.a_me@refs/pr/3", ("o-1/n.a_me", "refs/pr/3")),
                                         ("just-a-name", None), ("a/b/c", None), ("", None)])
def test_parse_spec(spec, expect):
    assert parse_spec(spec) == expect


class RecordingHfApi:
    """Stand-in for ``huggingface_hub.HfApi``: the Hub's upload API is out of reach here, so this
    records the calls (and copies what would be uploaded) instead of sending them."""

    def __init__(self):
        self.calls = []

    def create_repo(self, repo_id, **kw):
        self.calls.append(("create_repo", repo_id, kw))

    def create_branch(self, repo_id, **kw):
        self.calls.append(("create_branch", repo_id, kw))

    def upload_folder(self, *, repo_id, folder_path, revision=None, commit_message=None, **kw):
        files = sorted(str(p.relative_to(folder_path)) for p in __import__("pathlib").Path(folder_path).rglob("*")
                       if p.is_file())
        self.calls.append(("upload_folder", repo_id, {"revision": revision, "files": files,
                                                      "message": commit_message}))
        from huggingface_hub import CommitInfo

        return CommitInfo(commit_url=f"https://huggingface.co/{repo_id}/commit/{SHA_A}", commit_message=commit_message,
                          commit_description="", oid=SHA_A)


def test_push_is_one_commit_with_every_file(tmp_path):
    folder = make_bundle(tmp_path / "b", seed=3)
    (folder / "figures").mkdir()
    (folder / "figures" / "confusion_test.png").write_bytes(b"\x89PNG")
    (folder / "training_log.json").write_text("{}")
    api = RecordingHfApi()
    info = push_bundle(folder, "me/sounds", private=True, branch="exp", api=api)
    kinds = [c[0] for c in api.calls]
    assert kinds == ["create_repo", "create_branch", "upload_folder"]
    assert api.calls[0][2]["private"] is True and api.calls[1][2]["branch"] == "exp"
    upload = api.calls[2][2]
    assert upload["revision"] == "exp"
    assert set(upload["files"]) == {"config.json", "metadata.json", "model.weights.h5", "soundpred.json",
                                    "README.md", "figures/confusion_test.png", "training_log.json"}
    assert info.oid == SHA_A
    card = (folder / "README.md").read_text()
    meta = yaml.safe_load(card.split("---")[1])
    assert meta["library_name"] == "keras"


def test_push_refuses_a_broken_bundle(tmp_path):
    folder = make_bundle(tmp_path / "b", seed=3)
    (folder / "model.weights.h5").unlink()
    with pytest.raises(Exception, match="missing model.weights.h5"):
        push_bundle(folder, "me/sounds", api=RecordingHfApi())
