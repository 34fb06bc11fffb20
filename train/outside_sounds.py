"""Sounds outside the 41 labels, made on this machine, for the open-set decision.

    python -m train.outside_sounds --out ~/.cache/soundpred/outside     # writes <kind>/<name>.wav

Kinds (each clip 3-6 s, 16 kHz mono WAV):

- ``speech``: espeak-ng (Debian ``espeak-ng``), several languages and voices;
- ``music``: polyphonic phrases rendered by fluidsynth with the FluidR3 GM soundfont (Debian
  ``fluidsynth`` + ``fluid-soundfont-gm``) on instruments that are not among the labels
  (piano, organ, accordion, choir, synth lead and pad, sitar, bagpipe);
- ``noise``: white, pink and brown noise at several levels;
- ``room``: room tone: faint brown noise with mains hum (50 or 60 Hz and harmonics);
- ``engine``: a synthetic engine-like drone (harmonics of a wobbling firing rate, noise);
- ``rain``: a synthetic rain-like texture (thousands of short filtered drops);
- ``room_speech`` and ``room_music``: the same kinds of speech and music as heard in a room, as
  a microphone in use hears them: convolved with a simulated room response
  (``soundpred.rooms``, the distance model's training simulation, 0.5–8 m from the source),
  plus a faint noise floor. Reverberant speech is what people record most, and dry speech alone
  does not teach the decision what it sounds like.

``split`` seeds: clips with an even index are for fitting, odd ones for the held-out report.
The synthetic engine and rain are crude stand-ins, not recordings: they test that the
decision does not call every unfamiliar texture "known".
"""
from __future__ import annotations

import argparse
import struct
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from soundpred import audio
from soundpred.data import cache_dir
from soundpred.rooms import TRAIN, coloured_noise, sample_room, simulate_rir

SR = 16000
SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
SENTENCES = (
    "The quick brown fox jumps over the lazy dog.", "Please call me back when you get this message.",
    "Tomorrow will be cloudy with a chance of rain in the afternoon.", "I think we should leave a little earlier.",
    "Can you hear me at the back of the room?", "Our next stop is the central station.",
    "Seven hundred and twenty one.", "She sells sea shells by the sea shore.",
)
VOICES = ("en", "en-us", "en+f3", "en+m3", "de", "fr", "es", "it", "en-gb+f2", "pt")
#: General MIDI programs that are none of the 41 labels.
PROGRAMS = {"piano": 0, "organ": 19, "accordion": 21, "choir": 52, "synth_lead": 80, "synth_pad": 88,
            "sitar": 104, "bagpipe": 109}


def midi_file(notes: list[tuple[float, float, int, int]], program: int, path: Path, bpm: int = 120) -> None:
    """A one-track MIDI file: ``notes`` = (start s, length s, pitch, velocity) on channel 0."""
    tpq = 480
    ticks = lambda s: int(round(s * tpq * bpm / 60))  # noqa: E731
    events = [(0, bytes([0xC0, program]))]
    for start, length, pitch, vel in notes:
        events += [(ticks(start), bytes([0x90, pitch, vel])), (ticks(start + length), bytes([0x80, pitch, 0]))]
    events.sort(key=lambda e: e[0])
    body, last = b"", 0
    for t, msg in events:
        delta, var = t - last, []
        last = t
        var.append(delta & 0x7F)
        while delta > 0x7F:
            delta >>= 7
            var.append((delta & 0x7F) | 0x80)
        body += bytes(reversed(var)) + msg
    body += b"\x00\xff\x2f\x00"
    path.write_bytes(b"MThd" + struct.pack(">IHHH", 6, 0, 1, tpq) + b"MTrk" + struct.pack(">I", len(body)) + body)


def render_music(program: int, rng: np.random.Generator, seconds: float, tmp: Path) -> np.ndarray:
    root = int(rng.integers(48, 64))
    notes, t = [], 0.0
    while t < seconds - 0.5:
        chord = [root + int(i) for i in rng.choice([0, 3, 4, 7, 10, 12], size=3, replace=False)]
        dur = float(rng.choice([0.25, 0.5, 1.0]))
        notes += [(t, dur * 0.95, p, int(rng.integers(60, 110))) for p in chord]
        notes.append((t, dur * 0.9, root + 12 + int(rng.choice([0, 2, 4, 5, 7, 9])), 100))
        t += dur
    mid, wav = tmp / "x.mid", tmp / "x.wav"
    midi_file(notes, program, mid)
    subprocess.run(["fluidsynth", "-ni", "-g", "0.8", "-r", str(SR), "-F", str(wav), str(SOUNDFONT), str(mid)],
                   check=True, capture_output=True)
    return audio.load(wav, sr=SR)[: int(seconds * SR)]


def speak(text: str, voice: str, speed: int, tmp: Path) -> np.ndarray:
    wav = tmp / "s.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(wav), text], check=True, capture_output=True)
    return audio.load(wav, sr=SR)


def engine(rng: np.random.Generator, seconds: float) -> np.ndarray:
    n = int(seconds * SR)
    t = np.arange(n) / SR
    f0 = rng.uniform(20, 60) * (1 + 0.05 * np.sin(2 * np.pi * rng.uniform(0.1, 0.5) * t))
    phase = 2 * np.pi * np.cumsum(f0) / SR
    y = sum(np.sin(k * phase) / k ** rng.uniform(0.5, 1.2) for k in range(1, 30))
    return y + 0.3 * coloured_noise(n, 2.0, rng) * np.abs(y).max()


def rain(rng: np.random.Generator, seconds: float) -> np.ndarray:
    n = int(seconds * SR)
    y = 0.2 * coloured_noise(n, 0.5, rng)
    drops = rng.integers(0, n - 200, size=int(seconds * rng.uniform(300, 1500)))
    k = np.arange(200)
    for d in drops:
        f = rng.uniform(1500, 6000)
        y[d:d + 200] += rng.uniform(0.2, 1.0) * np.sin(2 * np.pi * f * k / SR) * np.exp(-k / rng.uniform(10, 40))
    return y


def room_tone(rng: np.random.Generator, seconds: float) -> np.ndarray:
    n = int(seconds * SR)
    t = np.arange(n) / SR
    mains = rng.choice([50.0, 60.0])
    hum = sum(rng.uniform(0.1, 1.0) / k * np.sin(2 * np.pi * mains * k * t) for k in (1, 2, 3, 5))
    return hum + rng.uniform(0.5, 3.0) * coloured_noise(n, 2.0, rng)


#: clips of each kind (half for fitting, half for the report); 12 until session 15, when 6 a kind
#: proved too few to fit on (docs/classifier.md)
PER_KIND = 30
#: every kind :func:`make` writes, in the order it draws them (new kinds go last, so at the same
#: ``n_per_kind`` the earlier kinds stay the same clips)
KINDS = ("speech", "music", "noise", "room", "engine", "rain", "room_speech", "room_music")


def in_a_room(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``y`` as a microphone 0.5–8 m away in a simulated room hears it, with a noise floor
    40–60 dB under its peak."""
    room = sample_room(TRAIN, rng, distance=float(np.exp(rng.uniform(np.log(0.5), np.log(8.0)))))
    wet = np.convolve(y, simulate_rir(room, TRAIN, sr=SR, rng=rng))[: len(y) + SR // 2]
    return wet + np.abs(wet).max() * 10 ** (-rng.uniform(40, 60) / 20) * coloured_noise(len(wet), 1.0, rng)


def make(out: Path, n_per_kind: int = PER_KIND, seed: int = 0) -> dict[str, list[Path]]:
    rng = np.random.default_rng(seed)
    made: dict[str, list[Path]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for kind in KINDS:
            (out / kind).mkdir(parents=True, exist_ok=True)
            for i in range(n_per_kind):
                seconds = float(rng.uniform(3, 6))
                if kind in ("speech", "room_speech"):
                    # the room's clips take the sentences and voices in another order than the dry ones
                    k, v = (i, i) if kind == "speech" else (i + 5, 3 * i + 1)
                    y = speak(SENTENCES[k % len(SENTENCES)], VOICES[v % len(VOICES)], int(rng.integers(120, 190)), tmp)
                elif kind in ("music", "room_music"):
                    name = list(PROGRAMS)[(i if kind == "music" else i + 3) % len(PROGRAMS)]
                    y = render_music(PROGRAMS[name], rng, seconds, tmp)
                elif kind == "noise":
                    y = coloured_noise(int(seconds * SR), float(i % 3), rng)
                elif kind == "room":
                    y = room_tone(rng, seconds)
                elif kind == "engine":
                    y = engine(rng, seconds)
                else:
                    y = rain(rng, seconds)
                y = np.asarray(y, np.float64)
                if kind.startswith("room_"):
                    y = in_a_room(y, rng)
                y = y / (np.abs(y).max() + 1e-9) * 10 ** (rng.uniform(-35, -3) / 20)
                path = out / kind / f"{kind}_{i:02d}.wav"
                sf.write(path, y.astype(np.float32), SR)
                made.setdefault(kind, []).append(path)
    return made


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=cache_dir() / "outside")
    ap.add_argument("--per-kind", type=int, default=PER_KIND)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    made = make(args.out, args.per_kind, args.seed)
    print({k: len(v) for k, v in made.items()})


if __name__ == "__main__":
    main()
