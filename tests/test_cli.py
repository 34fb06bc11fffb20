"""The CLI contract: one process, one JSON line per input in order, errors inline, exit status."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from .conftest import ROOT, STARTER, needs_starter, tone


def run_cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "soundpred", "predict", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, env=env)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    good = d / "tone.wav"
    sf.write(good, tone(44100, 2.0, freq=660, channels=2), 44100)
    silent = d / "silent.flac"
    sf.write(silent, np.zeros(32000, np.int16), 16000)
    corrupt = d / "notes.wav"
    corrupt.write_text("definitely not audio\n")
    return good, silent, corrupt


def test_json_contract_with_failures_among_good(files):
    good, silent, corrupt = files
    missing = "does/not/exist.ogg"
    order = [str(good), str(corrupt), missing, str(silent), str(good)]
    r = run_cli("--json", *order)
    assert r.returncode == 1, r.stderr
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert [x["file"] for x in lines] == order  # input order, one line per file, paths as given
    ok = [lines[0], lines[4]]
    for res in ok:
        assert "error" not in res
        assert len(res["top"]) == 5
        scores = [t["score"] for t in res["top"]]
        assert scores == sorted(scores, reverse=True) and all(0 <= s <= 1 for s in scores)
        assert all(isinstance(t["label"], str) for t in res["top"])
        lo, hi = res["distance_interval_m"]
        assert 0 < lo < res["distance_m"] < hi
        assert res["models"]["classifier"]["source"] == "embedded default"
        assert res["models"]["distance"]["source"] == "embedded default"
    assert lines[0]["top"] == lines[4]["top"]  # deterministic
    assert "Could not decode" in lines[1]["error"]
    assert "not found" in lines[2]["error"]
    assert "No sound detected" in lines[3]["error"]


@needs_starter
def test_real_clips_all_good_exit_zero():
    clips = sorted((STARTER / "audio_test").glob("*.flac"))[:3]
    r = run_cli("--json", *map(str, clips))
    assert r.returncode == 0, r.stderr
    assert len(r.stdout.splitlines()) == 3


def test_text_output(files):
    r = run_cli(str(files[0]))
    assert r.returncode == 0
    assert r.stdout.startswith(str(files[0]) + ": ") and r.stdout.count(",") == 4
    assert "; distance " in r.stdout and " m (90 % interval " in r.stdout


def test_bad_model_spec_exit_2(files):
    r = run_cli("--classifier", "not a repo!", str(files[0]))
    assert r.returncode == 2 and "neither a folder nor a Hub repo" in r.stderr
