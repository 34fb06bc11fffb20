"""train.dry_renders: many kinds of dry non-speech source for the distance trainer's ``--extra-dry``."""
from __future__ import annotations

import shutil
import struct

import numpy as np
import pytest
import soundfile as sf

from train import dry_renders as dr

from .conftest import tone


def _read_midi(data: bytes):
    """The (tick, status, pitch, velocity) events and the program of a one-track file."""
    assert data[:4] == b"MThd" and struct.unpack(">IHHH", data[4:14]) == (6, 0, 1, 480)
    assert data[14:18] == b"MTrk"
    body = data[22:22 + struct.unpack(">I", data[18:22])[0]]
    assert len(body) == len(data) - 22
    i, t, events, program = 0, 0, [], None
    while i < len(body):
        delta = 0
        while True:
            delta = (delta << 7) | (body[i] & 0x7F)
            i += 1
            if not body[i - 1] & 0x80:
                break
        t += delta
        status = body[i]
        if status == 0xC0:
            program, i = body[i + 1], i + 2
        elif status == 0xFF:
            assert body[i:i + 3] == b"\xff\x2f\x00" and i + 3 == len(body)
            return events, program, t
        else:
            events.append((t, status, body[i + 1], body[i + 2]))
            i += 3
    raise AssertionError("no end of track")


def test_a_phrase_written_as_midi_reads_back_note_for_note(tmp_path):
    rng = np.random.default_rng(4)
    notes = dr.phrase(rng)
    assert 2 <= len(notes) <= 12 and all(36 <= p <= 96 and 45 <= v <= 120 for _, _, p, v in notes)
    dr.midi_file(41, notes, tmp_path / "p.mid")
    events, program, end = _read_midi((tmp_path / "p.mid").read_bytes())
    assert program == 41
    ons = sorted((t, p, v) for t, s, p, v in events if s == 0x90)
    offs = sorted((t, p) for t, s, p, v in events if s == 0x80)
    assert ons == sorted((round(a * 960), p, v) for a, _, p, v in notes)
    assert offs == sorted((round((a + n) * 960), p) for a, n, p, _ in notes)
    assert end == max(t for t, *_ in events) + 960  # a second of release after the last note
    assert dr._varlen(0) == b"\x00" and dr._varlen(200) == b"\x81\x48" and dr._varlen(960) == b"\x87\x40"


def test_trim_cuts_the_silence_around_a_sound_and_refuses_silence():
    y = np.concatenate([np.zeros(1000), tone(22050, 1.0), np.zeros(3000)]).astype(np.float32)
    t = dr.trim(y)
    assert abs(len(t) - 22050) < 30 and np.isclose(np.abs(t).max(), 0.5)
    assert dr.trim(np.zeros(100)) is None and dr.trim(np.full(100, np.nan)) is None


def test_drum_patterns_leave_the_held_out_kinds_out_and_train_as_dry_sources(tmp_path, monkeypatch):
    """A hand-made Hydrogen kit: its kick and cowbell (kinds the evaluation clips are) are never
    used; the patterns of the rest land in a folder that ``--extra-dry`` takes as training clips."""
    kit = tmp_path / "kits" / "BJA_Pacific"
    kit.mkdir(parents=True)
    names = {"Tom": "tom.wav", "Kick": "kick.wav", "Hi Hat Closed": "hh.wav", "Cowbell": "cb.wav"}
    for i, (name, fname) in enumerate(names.items()):
        sf.write(kit / fname, tone(22050, 0.05 + 0.1 * i, freq=300 + 200 * i), 22050)  # 50 ms: shorter than the app takes
    xml = "".join(f"<instrument><name>{n}</name><layer><filename>{f}</filename></layer></instrument>"
                  for n, f in names.items())
    (kit / "drumkit.xml").write_text(f'<drumkit_info xmlns="http://www.hydrogen-music.org/drumkit">'
                                     f"<name>BJA_Pacific</name><instrumentList>{xml}</instrumentList></drumkit_info>")
    monkeypatch.setattr(dr, "HYDROGEN", tmp_path / "kits")
    samples = dr.hydrogen_samples()
    assert sorted(p.name for p in samples["BJA_Pacific"]) == ["hh.wav", "tom.wav"]
    out = tmp_path / "dry"
    n = dr.build(out, drum_patterns=6, kinds=("hydrogen",))
    assert n == 6
    from train.distance_eval import dry_sources, extra_dry_clips

    clips = extra_dry_clips(out)
    assert [c.label for c in clips] == ["hydrogen"] * 6
    more = dry_sources(16000, n_speech=6, data=tmp_path / "no-starter", extra=out)
    assert len(more.train_clips) == 6 and all(len(c) >= 1.5 * 16000 for c in more.train_clips)
    assert "Kick" not in (out / "sources.csv").read_text() and "cb" not in (out / "sources.csv").read_text()


@pytest.mark.skipif(shutil.which("fluidsynth") is None or not dr.SOUNDFONT.exists(),
                    reason="fluidsynth and fluid-soundfont-gm are not installed (only train.dry_renders needs them)")
def test_fluidsynth_renders_a_program_dry(tmp_path):
    rng = np.random.default_rng(0)
    clips = list(dr.fluidsynth_clips(rng, 1, tmp_path, programs=(0, 68)))  # 68, the oboe, is held out
    assert len(clips) == 1
    name, origin, y = clips[0]
    assert name == "fluidsynth_p000_0" and origin == "GM program 0" and np.abs(y).max() > 0.01
