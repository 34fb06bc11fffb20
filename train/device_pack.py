"""Pack what a distance training needs for a lent GPU machine, within what travels there.

    python -m train.device_pack                     # -> .device/ (ignored by git), about 30 s
    python -m train.device_pack --no-wheels         # the audio only (a test, or wheels already there)

That machine (the workplace's ``device`` tool) is bare: no TensorFlow, no ``../shared``, no
espeak-ng, no internet, and at most 64 MiB travel with the working tree. It has Python 3.12
with JAX on CUDA, and Keras 3 runs this project's models on JAX unchanged (a bundle trained
there loads here under TensorFlow, ``tests/test_device.py``). So the pack holds:

- ``data/fsd-starter/``: the starter set's ``train.csv`` and every training clip decoded as the
  trainer decodes it (mono, 16 kHz), in Ogg Vorbis (``LEVEL``: about 2.8 kB a second; lossless
  FLAC would be nearly 5 times that and does not fit). A clip whose peak the resampling pushed above
  0.99 is scaled down: the trainer draws each example's level at random anyway. Not the test
  split: evaluation runs here;
- ``cache/speech/``: the espeak-ng utterances of ``train.dry_sources``, in Ogg Vorbis at 16 kHz;
- ``wheels/``: the pure-Python and manylinux wheels for Python 3.12 of what that machine lacks
  (``WHEELS``), downloaded with pip from PyPI.

The room banks are not packed (the training bank alone is 132 MB): that machine's 16 cores
simulate them. ``train/device_train.sh`` is the command to run there. The sources reach the
trainer through a lossy codec there and losslessly here, where the bundle is evaluated.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

from soundpred import audio
from soundpred.data import read_fsdkaggle2018
from soundpred.models import DISTANCE_FRONTEND
from soundpred.paths import STARTER
from train.dry_sources import make_speech

ROOT = Path(__file__).resolve().parent.parent
#: what that machine's image lacks, pinned as requirements.txt pins them where it pins them (not
#: huggingface_hub: 2.x needs httpx2, which is not there; its 1.x there has what soundpred.hub uses)
WHEELS = ("keras==3.15.1", "namex==0.1.0", "optree==0.20.0", "librosa==0.11.0", "audioread==3.1.0",
          "pooch==1.9.0", "lazy_loader==0.6", "decorator==5.3.1", "soundfile==0.14.0", "cffi==2.1.1",
          "pycparser==3.12", "soxr==1.1.0", "pyroomacoustics==0.10.1", "platformdirs==4.14.9")
#: what travels with the working tree, at most (the device tool's limit)
TRAVEL_LIMIT = 64 * 2 ** 20
RATE = DISTANCE_FRONTEND.sample_rate  # the rate the distance trainer decodes its sources at
PEAK = 0.99
#: libsndfile's Vorbis compression level: about 2.8 kB a second of starter clips, 25 dB SNR
#: (0.6, its default: 3.6 kB/s, 28 dB; 0: 7.2 kB/s, 39 dB), so that the pack and the tree fit
LEVEL = 0.8


def write_ogg(path: Path, y: np.ndarray, sr: int = RATE, level: float = LEVEL) -> None:
    """``y`` as Ogg Vorbis at libsndfile's compression ``level`` (0 best, 1 smallest), written
    in blocks (one large write crashes libsndfile's encoder)."""
    y = np.asarray(y, np.float32)
    if (peak := float(np.max(np.abs(y), initial=0.0))) > PEAK:
        y = y * (PEAK / peak)
    path.parent.mkdir(parents=True, exist_ok=True)
    with sf.SoundFile(path, "w", sr, 1, format="OGG", subtype="VORBIS", compression_level=level) as f:
        for i in range(0, len(y), 4096):
            f.write(y[i:i + 4096])


def pack_starter(src: Path, dst: Path, level: float = LEVEL) -> int:
    """Every training clip of ``src`` (FSDKaggle2018 Kaggle layout) at ``dst`` as
    ``audio_train/<stem>.ogg`` beside its ``train.csv`` (``resolve_audio`` finds a stem under
    another extension). The test split stays here: it is only evaluated on, and evaluation runs
    here. Returns the count."""
    (dst / "audio_train").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src / "train.csv", dst / "train.csv")
    clips = read_fsdkaggle2018(src, "train")
    for clip in clips:
        write_ogg(dst / "audio_train" / f"{clip.path.stem}.ogg", audio.load(clip.path, sr=RATE), level=level)
    return len(clips)


def pack_speech(dst: Path, n: int = 240, level: float = LEVEL) -> int:
    """The espeak-ng utterances (made here first where missing) as ``speech_XXXX.ogg``: all of
    them, the evaluation's sixth too, so that the trainer splits them as it does here."""
    for p in make_speech(n=n):
        write_ogg(dst / f"{p.stem}.ogg", audio.load(p, sr=RATE), level=level)
    return n


def download_wheels(dst: Path) -> None:
    dst.mkdir(parents=True, exist_ok=True)
    platforms = [f"--platform={p}" for p in ("manylinux_2_28_x86_64", "manylinux_2_27_x86_64",
                                              "manylinux_2_17_x86_64", "manylinux2014_x86_64")]
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
                    "--python-version", "3.12", "--implementation", "cp", *platforms, "-d", str(dst), *WHEELS],
                   check=True)


def size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def tracked_size() -> int:
    """Bytes of the files git tracks (they always travel)."""
    names = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True).stdout
    return sum((ROOT / n).stat().st_size for n in names.decode().split("\0") if n and (ROOT / n).is_file())


def main(argv=None) -> Path:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=ROOT / ".device", help="the pack (name it in the run's carry)")
    p.add_argument("--data", type=Path, default=STARTER, help="FSDKaggle2018-layout starter clips")
    p.add_argument("--speech", type=int, default=240, help="espeak-ng utterances")
    p.add_argument("--no-wheels", action="store_true", help="leave the wheels out")
    p.add_argument("--level", type=float, default=LEVEL, help="Vorbis compression level, 0 (best) to 1 (smallest)")
    args = p.parse_args(argv)
    if args.out.exists():
        shutil.rmtree(args.out)
    clips = pack_starter(args.data, args.out / "data" / "fsd-starter", args.level)
    pack_speech(args.out / "cache" / "speech", args.speech, args.level)
    if not args.no_wheels:
        download_wheels(args.out / "wheels")
    total = size(args.out)
    print(f"{args.out}: {clips} clips, {args.speech} utterances, {total / 2 ** 20:.1f} MiB")
    if args.out.resolve().is_relative_to(ROOT):
        travel = total + tracked_size()
        print(f"with the tracked files: {travel / 2 ** 20:.1f} MiB of the {TRAVEL_LIMIT / 2 ** 20:.0f} MiB that travel"
              + ("" if travel <= TRAVEL_LIMIT else " -- TOO MUCH: it will not travel"))
    return args.out


if __name__ == "__main__":
    main()
