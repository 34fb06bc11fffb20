"""Dry (anechoic) sources for room simulation: espeak-ng speech, plus starter clips.

    apt-get install espeak-ng
    python -m train.dry_sources            # writes ~/.cache/soundpred/speech/*.wav (about 1 minute)

espeak-ng's formant synthesis has no room in it, which makes it a clean source; the
starter clips (real recordings) add other sounds but carry some room of their own.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
from pathlib import Path

import numpy as np

from soundpred.data import cache_dir
from soundpred.data.common import resolve_audio

SENTENCES = (
    "The quick brown fox jumps over the lazy dog near the river bank.",
    "Please put the blue folder on the second shelf before you leave.",
    "We measured the room twice and the numbers did not agree.",
    "A cold wind came down from the hills just after sunset.",
    "Turn left at the bakery and walk until you see the old clock tower.",
    "The meeting starts at half past nine in the large hall.",
    "She poured the tea slowly and listened to the rain outside.",
    "Seven small boats were tied to the wooden pier.",
    "Can you hear me clearly from the back of the room?",
    "The train to the coast leaves every hour on the hour.",
    "Numbers one two three four five six seven eight nine ten.",
    "Good morning everyone, thank you for coming today.",
    "The microphone picks up every echo from the walls.",
    "Bring a warm coat, the evenings are getting longer and colder.",
    "Our neighbours planted apple trees along the fence last spring.",
    "Read the instructions carefully before you open the box.",
)
LANGS = ("en", "en-us", "de", "fr", "es", "it", "nl", "pl")
VARIANTS = ("m1", "m3", "m5", "m7", "f1", "f2", "f4", "f5", "klatt", "whisper")


def speak(text: str, voice: str, speed: int, pitch: int, out: Path) -> Path:
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(out), text],
                   check=True, capture_output=True)
    return out


def make_speech(out: Path | None = None, n: int = 240, seed: int = 0) -> list[Path]:
    """``n`` utterances (several sentences each) in varied languages, voices, speeds and pitches,
    written once to ``out`` (default: ``speech/`` in the cache). An utterance already there in
    another audio format (``speech_0000.ogg``, as ``train.device_pack`` writes them) is used as
    it is; espeak-ng is needed only for those missing."""
    out = out or cache_dir() / "speech"
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(n):
        # every utterance's draws are taken whether or not it is already there, so the i-th one is
        # the same in a cache filled at once and in one filled in parts (an earlier, smaller n)
        text = " ".join(rng.choice(SENTENCES, size=3, replace=False))
        voice = f"{rng.choice(LANGS)}+{rng.choice(VARIANTS)}"
        speed, pitch = int(rng.integers(120, 200)), int(rng.integers(20, 80))
        p = out / f"speech_{i:04d}.wav"
        try:
            p = resolve_audio(out, p.name)
        except FileNotFoundError:
            if shutil.which("espeak-ng") is None:
                raise SystemExit("espeak-ng is not installed: apt-get install espeak-ng") from None
            speak(text, voice, speed, pitch, p)
        paths.append(p)
    return paths


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=None, help="default: $SOUNDPRED_CACHE/speech")
    ap.add_argument("-n", type=int, default=240)
    args = ap.parse_args(argv)
    paths = make_speech(args.out, args.n)
    print(f"{len(paths)} utterances in {paths[0].parent}")


if __name__ == "__main__":
    main()
