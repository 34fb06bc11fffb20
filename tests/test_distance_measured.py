"""Scoring distance bundles on measured room responses (``train.distance_measured``).

No measured responses ship with the repository, so the "measured" ones here are simulated
with their time of flight left in (as a measurement has it), written as files at other rates
and channel counts, and listed in a manifest, as a person would do with their own.
"""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import soundfile as sf

from soundpred.rooms import DIRECT_INDEX, TRAIN, sample_room, simulate_rir
from train.distance_measured import ManifestError, align_rir, check, main, read_manifest

from .conftest import ROOT, needs_starter

SR = 16000


def _placed(room, d):
    mic = np.array(room["dims"]) / 2 - [d / 2, 0, 0]
    return {**room, "mic": mic.tolist(), "src": (mic + [d, 0, 0]).tolist(), "distance": d}


def _medium_room(seed):
    rng = np.random.default_rng(seed)
    room = sample_room(TRAIN, rng)
    while not 6.0 < room["dims"][0] < 15.0 or room["rt60"] > 1.0:  # long enough for 4 m, quick to simulate
        room = sample_room(TRAIN, rng)
    return room


@pytest.mark.parametrize("d", [0.7, 4.0])
def test_alignment_matches_the_simulations_own(d):
    """A response with its time of flight (and a 30 ms delay more, like a measurement's
    latency) comes out as the simulator aligns it: the direct sound at DIRECT_INDEX, the same
    samples after it."""
    placed = _placed(_medium_room(1), d)
    aligned = simulate_rir(placed, TRAIN, sr=SR, rng=np.random.default_rng(5))
    raw = simulate_rir(placed, TRAIN, sr=SR, rng=np.random.default_rng(5), align=False)
    raw = np.concatenate([np.zeros(480), raw])
    got = align_rir(raw, SR)
    assert int(np.argmax(np.abs(got[:DIRECT_INDEX + 20]))) == DIRECT_INDEX
    n = min(len(got), len(aligned)) - DIRECT_INDEX
    a, b = got[DIRECT_INDEX:DIRECT_INDEX + n], aligned[DIRECT_INDEX:DIRECT_INDEX + n]
    assert np.corrcoef(a, b)[0, 1] > 0.999


def test_alignment_takes_the_first_arrival_not_the_strongest():
    """A reflection stronger than the direct sound (a source facing away) does not become the
    direct sound: the first arrival within 20 dB of the strongest does, however early; one
    weaker than that is taken for noise."""
    h = np.zeros(8000)
    h[1000], h[1500], h[5000] = 0.3, 1.0, 0.9  # direct, a reflection 31 ms later and stronger, a late one
    got = align_rir(h, SR)
    assert np.flatnonzero(got)[0] == DIRECT_INDEX and got[DIRECT_INDEX + 500] == 1.0
    h[1000] = 0.05  # 26 dB below the strongest
    assert np.flatnonzero(align_rir(h, SR))[0] == DIRECT_INDEX
    assert align_rir(h, SR)[DIRECT_INDEX] == 1.0  # the reflection is taken for the direct sound
    with pytest.raises(ValueError, match="silent"):
        align_rir(np.zeros(100), SR)


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    """Two rooms, three distances each, written as a person's files would be: 48 kHz stereo
    (the response in the second channel), 16 kHz mono, 44.1 kHz float; and their manifest."""
    folder = tmp_path_factory.mktemp("measured")
    rows = ["path,distance_m,room,kind,channel"]
    for r, seed in enumerate((1, 2)):
        room = _medium_room(seed)
        for j, d in enumerate((0.7, 1.5, 4.0)):
            h = simulate_rir(_placed(room, d), TRAIN, sr=48000, rng=np.random.default_rng(10 * r + j), align=False)
            name = f"room{r}/pos{j}.wav"
            (folder / name).parent.mkdir(exist_ok=True)
            if j == 0:
                sf.write(folder / name, np.stack([0.1 * np.random.default_rng(0).standard_normal(len(h)), h], 1), 48000)
                channel = 1
            elif j == 1:
                sf.write(folder / name, simulate_rir(_placed(room, d), TRAIN, sr=SR, rng=np.random.default_rng(j),
                                                     align=False), SR)
                channel = 0
            else:
                sf.write(folder / name.replace(".wav", ".flac"), h / np.abs(h).max(), 48000)
                name, channel = name.replace(".wav", ".flac"), 0
            rows.append(f"{name},{d},hall {r},medium,{channel}")
    (folder / "manifest.csv").write_text("\n".join(rows) + "\n")
    return folder / "manifest.csv"


def test_manifest_is_read_and_aligned(measured):
    bank, kinds = read_manifest(measured, SR)
    assert len(bank) == 6 and list(kinds) == ["medium"] * 6
    assert sorted(set(bank.room)) == [0, 1] and list(bank.distance[:3]) == [0.7, 1.5, 4.0]
    for h in bank.rirs:
        assert int(np.argmax(np.abs(h[:DIRECT_INDEX + 20]))) == DIRECT_INDEX
    assert np.all((bank.rt60 > 0.05) & (bank.rt60 < 3))  # estimated from the responses (no rt60_s column)


@pytest.mark.parametrize("row, message", [
    ("room0/pos1.wav,-1,hall 0,medium,0", "distance_m must be positive"),
    ("room0/pos1.wav,far,hall 0,medium,0", "is not a number"),
    ("room0/pos1.wav,2,hall 0,huge,0", "kind 'huge' is not one of"),
    ("room0/none.wav,2,hall 0,medium,0", "cannot read room0/none.wav"),
    ("room0/pos1.wav,2,hall 0,medium,3", "channel 3, but room0/pos1.wav has 1"),
])
def test_bad_manifest_rows_are_named(measured, tmp_path, row, message):
    bad = measured.parent / "bad.csv"
    bad.write_text(f"path,distance_m,room,kind,channel\n{row}\n")
    with pytest.raises(ManifestError, match=message) as e:
        read_manifest(bad, SR)
    assert "line 2" in str(e.value)
    missing = measured.parent / "missing.csv"
    missing.write_text("path,room\nroom0/pos1.wav,hall 0\n")
    with pytest.raises(ManifestError, match="missing column"):
        read_manifest(missing, SR)


@pytest.mark.slow
@needs_starter
def test_the_default_bundle_is_scored_against_the_targets(measured, tmp_path, monkeypatch, data_cache, capsys):
    """The embedded default on the manifest: its figures with `auto` and with the true kind
    (it takes the kind), the median of the truth beside them, every target of issue 12 checked."""
    if shutil.which("espeak-ng") is None:
        pytest.fail("espeak-ng is required (apt-get install espeak-ng)")
    monkeypatch.setenv("SOUNDPRED_CACHE", str(data_cache))
    out = tmp_path / "measured.json"
    results = main([str(ROOT / "models" / "distance"), "--rirs", str(measured), "--per-rir", "2", "--speech", "12",
                    "--json", str(out)])
    res = results[str(ROOT / "models" / "distance")]
    assert set(res) == {"median of the true distances", "auto", "true kind"}
    for run in ("auto", "true kind"):
        s = res[run]
        assert s["n"] == 12 and s["mae_m"] > 0 and 0 <= s["coverage"] <= 1
        assert -1 <= s["spearman"] <= 1 and s["spearman_within_room"] is not None
    assert res["auto"] != res["true kind"]  # the kind reaches the model
    lines = check(res)
    assert len(lines) == 8 and all(("met" in x) for x in lines)
    assert json.loads(out.read_text()) == json.loads(json.dumps(results))
    printed = capsys.readouterr().out
    assert "| true 0.3-1 m | true 1-2 m | true 4-8 m |" in printed  # where the estimates fall per bin
    assert printed.count("(≤ 1.2)") == 1 and "against issue 12's targets" in printed
    speech = res["auto"]["by_source"]["speech"]  # speech and the clips apart, as in every card
    assert 3 <= speech["n"] < 12 and 0 <= speech["coverage"] <= 1
    assert f"| {ROOT / 'models' / 'distance'}, auto | speech |" in printed
