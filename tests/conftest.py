from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent
STARTER = ROOT.parent / "shared" / "data" / "fsd-starter"
ARTIFACTS = ROOT / "tests" / "artifacts"


def tone(sr: int = 16000, seconds: float = 1.0, freq: float = 440.0, amp: float = 0.5,
         channels: int = 1) -> np.ndarray:
    """A sine (plus quiet noise, so it is not perfectly tonal); shape (n,) or (n, channels)."""
    rng = np.random.default_rng(0)
    t = np.arange(int(sr * seconds)) / sr
    y = amp * np.sin(2 * np.pi * freq * t) + 0.01 * rng.standard_normal(t.size)
    y = y.astype(np.float32)
    if channels > 1:
        y = np.stack([y * (1 - 0.1 * c) for c in range(channels)], axis=1)
    return y


def write_ffmpeg(path: Path, y: np.ndarray, sr: int, *codec_args: str) -> Path:
    """Encode ``y`` with ffmpeg (for formats libsndfile cannot write: m4a, webm/opus)."""
    wav = path.with_suffix(".src.wav")
    sf.write(wav, y, sr)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(wav), *codec_args, str(path)], check=True)
    wav.unlink()
    return path


needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg")
needs_starter = pytest.mark.skipif(not STARTER.is_dir(), reason="needs ../shared/data/fsd-starter")


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def classifier_bundle():
    from soundpred.hub import resolve

    bundle, warning = resolve(None, "classification")
    assert warning is None
    return bundle


@pytest.fixture(scope="session")
def predictor(classifier_bundle):
    from soundpred.predict import Predictor

    return Predictor(classifier_bundle)


@pytest.fixture(autouse=True)
def _no_hub(monkeypatch):
    """Tests never reach the network: the Hub is offline unless a test says otherwise."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    for var in ("SOUNDPRED_CLASSIFIER", "SOUNDPRED_DISTANCE"):
        monkeypatch.delenv(var, raising=False)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
