"""A folder of many kinds of dry non-speech sources for the distance trainer (``--extra-dry``).

    apt-get install hydrogen-drumkits fluidsynth fluid-soundfont-gm    # npm for the tonejs notes
    python -m train.dry_renders --out runs/dry-many

The distance networks read distance from speech and hardly from any other sound (docs/distance.md,
session 22): 125 studio notes of four instruments did not teach them other instruments. This
builds many more kinds of dry source, each a short *phrase* (several notes or hits with gaps, so
that the room's tail shows between them), 1.5 s or longer:

- ``hydrogen``: patterns of hits from the acoustic Hydrogen drum kits (GPL / CC BY-SA per kit),
  mixed to mono;
- ``fluidsynth``: phrases of the General MIDI programs of FluidR3_GM (MIT), rendered with
  fluidsynth's reverb and chorus off. Renders of recorded samples: semi-real;
- ``tonejs``: phrases of the tonejs-instrument notes (CC BY 3.0 samples of real instruments).

Kinds held out of every source (:data:`HELD_OUT`), so that ``train.probe_conditions --clips`` on
``more-real``'s Philharmonia oboe, double bass and percussion measures instruments the network
never heard: oboe, contrabass, tubular and tinkle bells, and the kick drums, snares,
tambourines, cowbells, gongs and bells of the kits. Writes the Kaggle layout
``train.distance_eval.extra_dry_clips`` reads (``train.csv``, ``sources.csv`` with a ``source``
column, ``audio_train/*.flac`` at 22.05 kHz), outside the project (generated audio is not
committed).
"""
from __future__ import annotations

import argparse
import csv
import re
import struct
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from train.extra_data import ACOUSTIC_KITS, HYDROGEN, kit_instruments

SR = 22050
KITS = (*ACOUSTIC_KITS, "circAfrique v4", "Gimme A Hand 1.0")
SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
TONEJS = ("cello-wav", "flute-wav", "guitar-acoustic-wav", "saxophone-wav", "violin-wav", "clarinet-mp3")
#: what the held-out evaluation clips are (more-real's Philharmonia oboe, double bass and percussion)
HELD_OUT = re.compile(r"kick|bass ?drum|snare|tamb|cowbell|gong|chime|bell|oboe|contrabass|double.bass", re.I)
#: General MIDI programs (0-based) held out: 14 tubular bells, 43 contrabass, 68 oboe, 112 tinkle bell
GM_HELD_OUT = (14, 43, 68, 112)


def midi_file(program: int, notes: list[tuple[float, float, int, int]], path: Path) -> None:
    """A one-track MIDI file: ``program`` on channel 0 playing ``notes`` (start s, length s,
    pitch, velocity) at 120 bpm, 480 ticks a quarter (so 960 ticks a second)."""
    ev = []
    for start, length, pitch, vel in notes:
        ev.append((round(start * 960), 1, 0x90, pitch, vel))
        ev.append((round((start + length) * 960), 0, 0x80, pitch, 0))
    ev.sort()
    body, t = bytearray([0x00, 0xC0, program]), 0
    for tick, _, status, pitch, vel in ev:
        body += _varlen(tick - t) + bytes([status, pitch, vel])
        t = tick
    body += _varlen(960) + b"\xff\x2f\x00"  # a second of release, then the end of the track
    path.write_bytes(b"MThd" + struct.pack(">IHHH", 6, 0, 1, 480) + b"MTrk" + struct.pack(">I", len(body)) + body)


def _varlen(n: int) -> bytes:
    out = [n & 0x7F]
    while n > 127:
        n >>= 7
        out.append((n & 0x7F) | 0x80)
    return bytes(reversed(out))


def phrase(rng: np.random.Generator, *, low: int = 36, high: int = 84) -> list[tuple[float, float, int, int]]:
    """2-6 notes (sometimes two at once) with gaps, over about 2-5 s."""
    notes, t = [], 0.0
    for _ in range(int(rng.integers(2, 7))):
        length = float(rng.uniform(0.12, 1.2))
        pitch = int(rng.integers(low, high + 1))
        notes.append((t, length, pitch, int(rng.integers(45, 121))))
        if rng.random() < 0.25:
            notes.append((t, length, min(127, pitch + int(rng.choice([3, 4, 5, 7, 12]))), int(rng.integers(45, 121))))
        t += length + float(rng.choice([0.0, rng.uniform(0.05, 0.8)]))
    return notes


def trim(y: np.ndarray, floor_db: float = -60.0) -> np.ndarray | None:
    """``y`` without leading and trailing near-silence, peak-normalised; None if nothing is left."""
    peak = float(np.max(np.abs(y))) if len(y) else 0.0
    if not np.isfinite(peak) or peak <= 0:
        return None
    on = np.flatnonzero(np.abs(y) > peak * 10 ** (floor_db / 20))
    return (y[on[0]:on[-1] + 1] / peak * 0.5).astype(np.float32)


def fluidsynth_clips(rng, per_program: int, tmp: Path, programs=range(128)):
    for program in programs:
        if program in GM_HELD_OUT:
            continue
        for k in range(per_program):
            mid, wav = tmp / "p.mid", tmp / "p.wav"
            low, high = (28, 60) if program in range(32, 40) else (36, 84)
            midi_file(program, phrase(rng, low=low, high=high), mid)
            subprocess.run(["fluidsynth", "-ni", "-q", "-R", "0", "-C", "0", "-g", "0.5", "-r", str(SR),
                            "-F", str(wav), str(SOUNDFONT), str(mid)], check=True, capture_output=True)
            yield f"fluidsynth_p{program:03d}_{k}", f"GM program {program}", _read(wav)


def hydrogen_samples() -> dict[str, list[Path]]:
    """Sample files per kit, of instruments whose names are not held out."""
    out: dict[str, list[Path]] = {}
    for kit, name, files in kit_instruments(KITS, HYDROGEN):
        if not name.strip() or name.strip().isdigit() or HELD_OUT.search(name):
            continue
        out.setdefault(kit, []).extend(p for p in files if not HELD_OUT.search(p.name))
    return {k: v for k, v in out.items() if v}


def hydrogen_clips(rng, n: int):
    kits = hydrogen_samples()
    cache: dict[Path, np.ndarray] = {}
    names = sorted(kits)
    for k in range(n):
        kit = names[k % len(names)]
        hits = [kits[kit][int(i)] for i in rng.integers(0, len(kits[kit]), int(rng.integers(3, 9)))]
        starts = np.cumsum(rng.uniform(0.08, 0.7, len(hits)))
        y = np.zeros(int((starts[-1] + 2.5) * SR), np.float32)
        for s, p in zip(starts, hits):
            if p not in cache:
                cache[p] = _read(p)
            h = cache[p][: len(y) - int(s * SR)] * float(rng.uniform(0.3, 1.0))
            y[int(s * SR):int(s * SR) + len(h)] += h
        yield f"hydrogen_{k:04d}", f"{kit}: {', '.join(sorted({p.stem for p in hits}))}", y


def tonejs_clips(rng, per_instrument: int, npm_dir: Path):
    pkgs = [f"tonejs-instrument-{k}" for k in TONEJS]
    modules = npm_dir / "node_modules"
    if not all((modules / p).is_dir() for p in pkgs):
        npm_dir.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(npm_dir), *pkgs], check=True)
    for k in TONEJS:
        files = sorted(p for p in (modules / f"tonejs-instrument-{k}").iterdir() if p.suffix in (".wav", ".mp3"))
        notes = {p: None for p in files}
        for j in range(per_instrument):
            picks = [files[int(i)] for i in rng.integers(0, len(files), int(rng.integers(2, 5)))]
            parts = []
            for p in picks:
                if notes[p] is None:
                    notes[p] = _read(p)
                note = notes[p][: int(rng.uniform(0.3, 1.5) * SR)].copy()
                fade = min(len(note), int(0.03 * SR))
                note[-fade:] *= np.linspace(1, 0, fade, dtype=np.float32)  # no click at the cut
                parts += [note, np.zeros(int(rng.choice([0.0, rng.uniform(0.05, 0.6)]) * SR), np.float32)]
            yield f"tonejs_{k.split('-')[0]}_{j:03d}", f"tonejs {k}: {', '.join(p.stem for p in picks)}", np.concatenate(parts)


def _read(path: Path) -> np.ndarray:
    import librosa  # not soundpred.audio.load, which refuses the shortest hits (under 100 ms)

    y, _ = librosa.load(path, sr=SR, mono=True)
    return np.asarray(y, np.float32)


LICENCES = {"hydrogen": "Hydrogen drum kits (Debian hydrogen-drumkits; GPL or CC BY-SA 3.0 per kit)",
            "fluidsynth": "FluidR3_GM soundfont (MIT), rendered by fluidsynth, reverb and chorus off",
            "tonejs": "tonejs-instrument samples (CC BY 3.0)"}


def build(out: Path, *, per_program: int = 4, drum_patterns: int = 180, per_instrument: int = 30,
          seed: int = 0, npm_dir: Path | None = None, kinds=("hydrogen", "fluidsynth", "tonejs")) -> int:
    """Write the folder; returns the number of clips."""
    import soundfile as sf

    rng = np.random.default_rng(seed)
    (out / "audio_train").mkdir(parents=True, exist_ok=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        gens = {"hydrogen": lambda: hydrogen_clips(rng, drum_patterns),
                "fluidsynth": lambda: fluidsynth_clips(rng, per_program, Path(tmp)),
                "tonejs": lambda: tonejs_clips(rng, per_instrument, npm_dir or Path(tmp) / "npm")}
        for kind in kinds:
            for name, origin, y in gens[kind]():
                y = trim(y)
                if y is None or len(y) < 1.5 * SR:
                    continue
                sf.write(out / "audio_train" / f"{name}.flac", y, SR)
                rows.append((f"{name}.flac", kind, origin, len(y) / SR))
    with open(out / "train.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["fname", "label", "manually_verified"])
        w.writerows((r[0], r[1], 1) for r in rows)
    with open(out / "sources.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["fname", "label", "source", "origin", "license", "sr", "seconds"])
        w.writerows((r[0], r[1], r[1], r[2], LICENCES[r[1]], SR, f"{r[3]:.2f}") for r in rows)
    return len(rows)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--per-program", type=int, default=4, help="fluidsynth phrases per GM program")
    p.add_argument("--drum-patterns", type=int, default=180)
    p.add_argument("--per-instrument", type=int, default=30, help="tonejs phrases per instrument")
    p.add_argument("--kinds", nargs="+", default=["hydrogen", "fluidsynth", "tonejs"],
                   choices=["hydrogen", "fluidsynth", "tonejs"])
    p.add_argument("--npm-dir", type=Path, default=Path.home() / ".cache/soundpred/npm")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    n = build(a.out, per_program=a.per_program, drum_patterns=a.drum_patterns, per_instrument=a.per_instrument,
              seed=a.seed, npm_dir=a.npm_dir, kinds=a.kinds)
    print(f"{n} dry clips in {a.out}")


if __name__ == "__main__":
    main()
