"""`pip install .` gives a working `soundpred` command that finds the embedded models, outside
the checkout."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from .conftest import ROOT

pytestmark = pytest.mark.slow


def test_pip_install_gives_a_working_command(tmp_path):
    """A virtual environment (reusing the installed dependencies, so nothing is downloaded),
    `pip install` of a copy of the checkout, then `soundpred predict` run from an unrelated
    folder: the package and its models come from the environment, not from the checkout."""
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(".git", "build", "tests", "*.egg-info", "__pycache__"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    py, exe = venv / "bin" / "python", venv / "bin" / "soundpred"
    subprocess.run([py, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", str(src)], check=True,
                   capture_output=True)
    shutil.rmtree(src)  # nothing may point back at the source tree
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SOUNDPRED_CLASSIFIER", "SOUNDPRED_DISTANCE")}
    env.update(HF_HUB_OFFLINE="1", TF_CPP_MIN_LOG_LEVEL="2")
    where = subprocess.run([py, "-c", "import soundpred, soundpred.hub as h; print(soundpred.__file__); print(h.MODELS)"],
                           cwd=work, env=env, capture_output=True, text=True, check=True).stdout.split()
    assert all(str(venv) in w for w in where), where
    clip = work / "clip.wav"
    shutil.copy(ROOT / "examples" / "speech_1m_meeting_room.wav", clip)
    r = subprocess.run([exe, "predict", "--json", str(clip)], cwd=work, env=env, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    res = json.loads(r.stdout)
    assert len(res["top"]) == 5 and res["distance_m"] > 0
    assert res["models"]["classifier"]["source"] == "embedded default"
