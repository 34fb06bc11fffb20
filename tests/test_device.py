"""Training on a lent GPU machine: the pack (``train.device_pack``), the script that runs there
(``train/device_train.sh``) and the bundle it brings back.

That machine has no TensorFlow, so the script trains with Keras on JAX. Here it runs on the CPU
with this machine's jax, without the pack's Python 3.12 wheels (they do not install on 3.11):
everything else is the real path. What cannot run here is the GPU itself and the wheels' install.
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from soundpred import audio
from soundpred.bundle import load_bundle

from .conftest import ROOT, STARTER, needs_starter

pytestmark = [pytest.mark.slow, needs_starter]


def tiny_starter(dst, n_train: int = 8, n_test: int = 3):
    """The first clips of each split of the starter set, as a Kaggle-layout folder."""
    for csv_name, folder, n in (("train.csv", "audio_train", n_train),
                                ("test_post_competition.csv", "audio_test", n_test)):
        with open(STARTER / csv_name, newline="") as f:
            rows = list(csv.DictReader(f))
        kept = [r for r in rows if r.get("usage", "").lower() != "ignored"][:n]
        (dst / folder).mkdir(parents=True)
        with open(dst / csv_name, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(kept)
        for r in kept:
            src = next((STARTER / folder).glob(f"{os.path.splitext(r['fname'])[0]}.*"))
            shutil.copyfile(src, dst / folder / src.name)
    return dst


def jax_outputs(folder, x: np.ndarray, tmp_path) -> np.ndarray:
    """The bundle's outputs on ``x`` as Keras on JAX computes them (in another process)."""
    np.save(tmp_path / "x.npy", x)
    code = ("import sys, numpy as np; from soundpred.bundle import load_bundle; "
            "from soundpred.rooms import kind_one_hot; b = load_bundle(sys.argv[1]); x = np.load(sys.argv[2]); "
            "import keras; assert keras.backend.backend() == 'jax'; "
            "np.save(sys.argv[3], np.asarray(b.model.predict_on_batch([x, kind_one_hot(['auto'] * len(x))])))")
    subprocess.run([sys.executable, "-c", code, str(folder), str(tmp_path / "x.npy"), str(tmp_path / "y.npy")],
                   check=True, cwd=ROOT, env={**os.environ, "KERAS_BACKEND": "jax"}, capture_output=True)
    return np.load(tmp_path / "y.npy")


def test_a_model_trained_on_jax_by_the_device_script_comes_back_and_runs_here(tmp_path, monkeypatch):
    """The pack holds every training clip and utterance as Ogg Vorbis close to what the trainer decodes
    from the originals; the device script trains on it with Keras on JAX, stops when its time
    budget would run out, and brings back a bundle with its log and a card that says so and that
    it is not evaluated yet; TensorFlow here loads it and gives
    the outputs JAX gave; ``--evaluate --update-card`` scores it and rewrites the card. The room
    bank's workers there start from a fork server (forking a process that runs JAX can
    deadlock) and simulate the same RIRs as forked workers here."""
    from train import device_pack

    monkeypatch.setenv("SOUNDPRED_CACHE", str(tmp_path / "cache-here"))  # espeak-ng speech made here
    pack = device_pack.main(["--out", str(tmp_path / "pack"), "--data", str(tiny_starter(tmp_path / "starter")),
                             "--speech", "12", "--no-wheels"])
    oggs = sorted((pack / "data" / "fsd-starter").rglob("*.ogg"))
    assert len(oggs) == 8 and len(list((pack / "cache" / "speech").glob("speech_*.ogg"))) == 12
    for ogg in oggs[:3] + sorted((pack / "cache" / "speech").glob("*.ogg"))[:2]:
        original = next(p for p in (tmp_path / "starter").rglob(f"{ogg.stem}.*")) if "speech" not in ogg.name \
            else tmp_path / "cache-here" / "speech" / f"{ogg.stem}.wav"
        a, b = audio.load(original, sr=16000), audio.load(ogg, sr=16000)
        assert sf.info(ogg).subtype == "VORBIS" and abs(len(a) - len(b)) <= 16
        n = min(len(a), len(b))
        scale = np.dot(a[:n], b[:n]) / np.dot(a[:n], a[:n])  # a clip above 0.99 comes scaled down
        snr = 10 * np.log10(np.sum(a[:n] ** 2) / np.sum((b[:n] / scale - a[:n]) ** 2))
        assert 0.7 < scale < 1.01 and snr > 15, (ogg.name, scale, snr)

    out = tmp_path / "out"
    out.mkdir()
    # SOUNDPRED_DEVICE_SECONDS=1: the deadline (--stop-by) has passed when the first epoch ends
    env = {**os.environ, "OUT": str(out), "SOUNDPRED_DEVICE_PACK": str(pack), "SOUNDPRED_DEVICE_SECONDS": "1",
           "SOUNDPRED_CACHE": str(tmp_path / "cache-there"),
           "PATH": f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ['PATH']}"}  # its python3: this one
    env.pop("KERAS_BACKEND", None)
    # 16 rooms: 64 training RIRs, enough for worker processes (there, from a fork server: JAX runs)
    args = ["--rooms", "16", "--eval-rooms", "2", "--speech", "12", "--width", "4", "--room-hint", "--seed", "3"]
    run = subprocess.run(["bash", str(ROOT / "train" / "device_train.sh"), "tiny", *args, "--epochs", "3",
                          "--steps", "2", "--batch-size", "4", "--workers", "3", "--verbose", "0"],
                         env=env, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    log = (out / "tiny.log").read_text()
    assert "jax" in log and "device_train.sh:" in log
    assert "64 training RIRs, 0 hybrid ones, 0 held-out, 0 shifted, 0 hybrid" in log  # --no-evaluate: no eval banks
    assert "dry sources: 10+" in log and "2+0 eval" in log  # 12 utterances, a sixth for evaluation; no test clips
    assert sorted(p.name for p in out.iterdir()) == ["tiny.log", "tiny.tar.gz"]  # 8 files come back at most
    shutil.unpack_archive(out / "tiny.tar.gz", tmp_path / "runs")
    folder = tmp_path / "runs" / "tiny"
    card = (folder / "README.md").read_text()
    assert "Not evaluated yet" in card
    assert "1 × 2 batches of\n4 (of 3 epochs planned: a time budget stopped it" in card
    meta = json.loads((folder / "soundpred.json").read_text())
    assert meta["metrics"] == {} and "--no-evaluate" in meta["training"]["command"]
    assert (meta["training"]["epochs"], meta["training"]["epochs_planned"]) == (1, 3)  # the deadline: 1 s after the start

    bundle = load_bundle(folder)  # TensorFlow, as the app loads it
    import keras

    assert keras.backend.backend() == "tensorflow"
    x = 0.1 * np.random.default_rng(0).standard_normal((2, bundle.frontend.window_samples)).astype(np.float32)
    from soundpred.rooms import kind_one_hot

    here = np.asarray(bundle.model.predict_on_batch([x, kind_one_hot(["auto", "auto"])]))
    np.testing.assert_allclose(here, jax_outputs(folder, x, tmp_path), atol=1e-4)

    from train import distance

    monkeypatch.setenv("SOUNDPRED_CACHE", str(tmp_path / "cache-here"))
    results = distance.main(["--evaluate", str(folder), "--update-card", "--data", str(tmp_path / "starter"), *args,
                             "--verbose", "0"])
    assert set(results) >= {"held-out rooms", "shifted simulation", "hybrid simulation"}
    card = (folder / "README.md").read_text()
    assert "Not evaluated yet" not in card and "| held-out rooms |" in card
    # the training bank, simulated there by workers from a fork server and here by forked ones
    there, = (tmp_path / "cache-there").glob("rirs-train-*-16x4-*.npz")
    with np.load(there) as a, np.load(tmp_path / "cache-here" / there.name) as b:
        np.testing.assert_array_equal(a["flat"], b["flat"])
    assert json.loads((folder / "soundpred.json").read_text())["metrics"]["held-out rooms"]["model"]["mae_m"] > 0

