from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from soundpred.paths import STARTER  # noqa: F401  (tests import it from here)

ROOT = Path(__file__).resolve().parent.parent
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


def two_clips(folder: Path) -> list[Path]:
    """Two clips with different answers, for load tests: a 1 s, 200 Hz tone (written into
    ``folder``) and the 8 m speech example."""
    low = Path(folder) / "low.wav"
    sf.write(low, tone(16000, 1.0, freq=200), 16000)
    return [low, ROOT / "examples" / "speech_8m_meeting_room.wav"]


def soak(app: "RunningApp", clips: list[Path], *, warm_up: int, block: int, blocks: int) -> tuple[list[float], float]:
    """The app's resident memory (MB) after ``warm_up`` /analyze requests (all three figures
    each) and after each of ``blocks`` more blocks of ``block``, sent two at a time (the app's
    concurrency limit) by two clients that alternate ``clips``; and the seconds after the warm-up.
    Shared by the soak test and ``python -m bench.bench --only soak``."""
    from concurrent.futures import ThreadPoolExecutor

    from gradio_client import Client, handle_file

    # the server renders and stores every figure; the clients need not download them each time
    clients = [Client(app.url, verbose=False, download_files=False) for _ in range(2)]

    def run(i, n):
        for k in range(n):
            out = clients[i].predict(handle_file(str(clips[(i + k) % 2])), api_name="/analyze")
            assert out[1]["path"].endswith(".png")

    with ThreadPoolExecutor(2) as pool:
        def send(n):
            list(pool.map(run, [0, 1], [n // 2, n - n // 2]))
            return app.rss_mb()

        rss = [send(warm_up)]
        t = time.perf_counter()
        rss += [send(block) for _ in range(blocks)]
    return rss, time.perf_counter() - t


needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg")
needs_starter = pytest.mark.skipif(not STARTER.is_dir(), reason=f"needs {STARTER}")


#: Test files that take minutes, slowest first. They are collected first, so that with two
#: workers (``-n 2``; ``--dist loadfile`` in pyproject.toml) the two longest start at once
#: and the short files fill in after them; every other file keeps its place.
SLOW_FIRST = ("test_memory.py", "test_robustness.py", "test_train.py", "test_hub.py", "test_browser.py")


def pytest_collection_modifyitems(items):
    rank = {name: i for i, name in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: the rest keep their order


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def data_cache(tmp_path_factory) -> Path:
    """One ``SOUNDPRED_CACHE`` (decoded clips, dry speech, room banks) for the training smoke
    tests, so each tiny bank and subset is made once per run, not once per test; a test that
    is about the cache itself uses its own folder."""
    return tmp_path_factory.mktemp("soundpred-cache")


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
    """Tests never reach the network: the Hub is offline unless a test says otherwise (the
    variable for the processes tests start; huggingface_hub's constant for this one, which read
    the variable when it was first imported)."""
    from huggingface_hub import constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    for var in ("SOUNDPRED_CLASSIFIER", "SOUNDPRED_DISTANCE"):
        monkeypatch.delenv(var, raising=False)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class RunningApp:
    url: str
    pid: int
    log: Path

    def log_tail(self, chars: int = 4000) -> str:
        """The end of what the app printed (its log), for a failing test's message."""
        return self.log.read_text(errors="replace")[-chars:]

    def rss_mb(self) -> float:
        """Resident memory of the app process now (VmRSS), MB."""
        return proc_status_mb(self.pid, "VmRSS")

    def peak_rss_mb(self) -> float:
        """Peak resident memory of the app process so far (VmHWM), MB."""
        return proc_status_mb(self.pid, "VmHWM")


def proc_status_mb(pid: int, key: str) -> float:
    """A memory figure of a process from /proc/PID/status (``VmRSS``: resident now, ``VmHWM``: peak), MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    raise KeyError(key)


@contextlib.contextmanager
def running_app(log_path: Path, **env_overrides):
    """Start ``python app.py`` as a user would, on a free port; yield a :class:`RunningApp`
    (its URL and process id); stop it."""
    port = free_port()
    env = {**os.environ, "GRADIO_SERVER_PORT": str(port), "GRADIO_ANALYTICS_ENABLED": "False",
           "HF_HUB_OFFLINE": "1", "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1", **env_overrides}
    for var in ("SOUNDPRED_CLASSIFIER", "SOUNDPRED_DISTANCE"):
        if var not in env_overrides:
            env.pop(var, None)
    log = open(log_path, "w+")
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.time() + 120
        while True:
            if proc.poll() is not None:
                log.seek(0)
                pytest.fail(f"app exited: {log.read()[-3000:]}")
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                if time.time() > deadline:
                    pytest.fail("app did not start in 120 s")
                time.sleep(0.5)
        yield RunningApp(url, proc.pid, Path(log_path))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="session")
def app_process(tmp_path_factory) -> RunningApp:
    """One `python app.py` on the embedded models, shared by the app, load and browser tests."""
    with running_app(tmp_path_factory.mktemp("app") / "app.log") as app:
        yield app


@pytest.fixture(scope="session")
def app_url(app_process) -> str:
    return app_process.url
