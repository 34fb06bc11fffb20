"""The CLI contract: one JSON line per input in order, errors inline, exit status.

In-process (``soundpred.__main__.main`` with its stdout and stderr captured), except one test
that runs ``python -m soundpred`` as a person would; the installed ``soundpred`` command is
tested in test_packaging.py.
"""
from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass

import numpy as np
import pytest
import soundfile as sf

from soundpred.__main__ import main
from soundpred.settings import Settings

from .conftest import ROOT, STARTER, needs_starter, tone


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture()
def run_cli(capsys):
    def run(*args, settings=Settings()):
        capsys.readouterr()
        code = main(["predict", *args], settings=settings)
        out, err = capsys.readouterr()
        return Result(code, out, err)
    return run


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


def test_json_contract_with_failures_among_good(run_cli, files):
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
def test_real_clips_all_good_exit_zero(run_cli):
    clips = sorted((STARTER / "audio_test").glob("*.flac"))[:3]
    r = run_cli("--json", *map(str, clips))
    assert r.returncode == 0, r.stderr
    assert len(r.stdout.splitlines()) == 3


def test_text_output(run_cli, files):
    r = run_cli(str(files[0]))
    assert r.returncode == 0
    assert r.stdout.startswith(str(files[0]) + ": ") and r.stdout.count(",") == 4
    assert "; distance " in r.stdout and " m (90 % interval " in r.stdout


def test_bad_model_spec_exit_2(run_cli, files):
    r = run_cli("--classifier", "not a repo!", str(files[0]))
    assert r.returncode == 2 and "neither a folder nor a Hub repo" in r.stderr


def test_settings_from_the_environment_are_used(run_cli, files, monkeypatch, capsys):
    """The CLI reads SOUNDPRED_MAX_SECONDS (through Settings) when --max-seconds is not given;
    a value that does not parse is a usage error naming the variable."""
    r = run_cli("--json", str(files[0]), settings=Settings.from_env({"SOUNDPRED_MAX_SECONDS": "1"}))
    assert r.returncode == 1 and "the limit is 1 s" in json.loads(r.stdout)["error"]
    monkeypatch.setenv("SOUNDPRED_MAX_SECONDS", "ten")
    assert main(["predict", str(files[0])]) == 2
    assert "SOUNDPRED_MAX_SECONDS='ten'" in capsys.readouterr().err


@pytest.mark.slow
def test_python_m_soundpred(files):
    """The module entry point as a person runs it: a fresh process, exit status 1 on a bad file."""
    r = subprocess.run([sys.executable, "-m", "soundpred", "predict", "--json", str(files[0]), str(files[2])],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 1, r.stderr
    first, second = (json.loads(x) for x in r.stdout.splitlines())
    assert len(first["top"]) == 5 and "Could not decode" in second["error"]


def test_room_kind(run_cli, files):
    r = run_cli("--json", "--room", "large", str(files[0]))
    res = json.loads(r.stdout)
    assert r.returncode == 0 and res["room"] == "large"  # the default distance model takes the kind
    assert not any("takes no room kind" in w for w in res["warnings"])
    with pytest.raises(SystemExit):  # argparse: not one of the kinds
        run_cli("--room", "cathedral", str(files[0]))
