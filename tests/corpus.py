"""The bad-input corpus: files a person might give the app or the CLI, generated on demand.

Each :class:`Case` says whether the input should be analysed (``ok``) or refused, and a piece
of the message the person must see (for an accepted input: a warning, or None).
"""
from __future__ import annotations

import shutil
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from .conftest import tone, write_ffmpeg


@dataclass(frozen=True)
class Case:
    name: str
    path: Path
    ok: bool
    message: str | None = None  # refusal text (or a warning for accepted input)


def _wav_header(n_bytes: int, sr: int, channels: int = 1, bits: int = 16) -> bytes:
    block = channels * bits // 8
    return (b"RIFF" + struct.pack("<I", 36 + n_bytes) + b"WAVEfmt " +
            struct.pack("<IHHIIHH", 16, 1, channels, sr, sr * block, block, bits) +
            b"data" + struct.pack("<I", n_bytes))


def _silent_flac(path: Path, seconds: int, sr: int, channels: int, n_seconds_written: int | None = None) -> None:
    """A silent file of ``seconds`` at ``sr`` with ``channels``, written in blocks (FLAC: under
    1 MB). ``n_seconds_written=0`` writes a WAV header that claims the length and no samples."""
    if n_seconds_written == 0:
        path.write_bytes(_wav_header(seconds * sr * channels * 2, sr, channels))
        return
    block = np.zeros((sr * 10, channels), np.int16)
    with sf.SoundFile(path, "w", sr, channels, "PCM_16", format="FLAC") as f:
        for _ in range(seconds // 10):
            f.write(block)
        f.write(block[: sr * (seconds % 10)])


def memory_bomb(path: Path) -> Path:
    """A silent FLAC of 600 s, 8 channels at 192 kHz (under 1 MB; 3.7 GB as float32 if decoded whole)."""
    _silent_flac(path, 600, 192000, 8)
    return path


def unknown_length_flac(path: Path, seconds: int) -> Path:
    """A FLAC written to a pipe, so its header has no length: only decoding tells it."""
    subprocess.run(f"ffmpeg -v error -y -f lavfi -i sine=frequency=220:sample_rate=8000 -t {seconds} -f flac pipe:1 "
                   f"> {path}", shell=True, check=True)
    return path


def make_corpus(folder: Path, *, one_hour: bool = True) -> list[Case]:
    """Write the corpus into ``folder``; return its cases. ``one_hour`` adds a one-hour
    8 kHz 8-bit WAV (29 MB) that must be refused from its header (limit 600 s)."""
    folder.mkdir(parents=True, exist_ok=True)
    cases: list[Case] = []

    def add(name, ok, message=None):
        cases.append(Case(name, folder / name, ok, message))
        return folder / name

    y = tone(16000, 2.0, freq=440)
    (add("empty.wav", False, "empty")).write_bytes(b"")
    sf.write(add("one_sample.wav", False, "ms long"), y[:1], 16000)
    sf.write(add("10ms.wav", False, "ms long"), y[:160], 16000)
    sf.write(add("silence.wav", False, "No sound detected"), np.zeros(32000, np.int16), 16000)
    sf.write(add("dc_only.wav", False, "No sound detected"), np.full(32000, 0.5, np.float32), 16000,
             subtype="FLOAT")
    sf.write(add("dc_offset.wav", True), 0.4 * y + 0.5, 16000, subtype="FLOAT")
    sf.write(add("clipping.wav", True, "clipped"), np.clip(8 * y, -1, 1), 16000)
    bad = y.copy()
    bad[1000:1010] = np.nan
    sf.write(add("nan.wav", False, "NaN or infinite"), bad, 16000, subtype="FLOAT")
    bad = y.copy()
    bad[5] = np.inf
    sf.write(add("inf.wav", False, "NaN or infinite"), bad, 16000, subtype="DOUBLE")
    if one_hour:
        p = add("one_hour.wav", False, "the limit is 600 s")
        with open(p, "wb") as f:  # 8 kHz unsigned 8-bit: a quiet hum, written in blocks
            n = 8000 * 3600
            f.write(_wav_header(n, 8000, bits=8))
            block = (128 + 20 * np.sin(2 * np.pi * 100 * np.arange(8000 * 60) / 8000)).astype(np.uint8).tobytes()
            for _ in range(60):
                f.write(block)
    sf.write(add("8_channels.wav", True), tone(16000, 2.0, channels=8), 16000)
    sf.write(add("8kHz.wav", True, "telephone band"), tone(8000, 2.0), 8000)
    sf.write(add("192kHz.wav", True), tone(192000, 2.0), 192000)
    sf.write(add("4kHz.wav", False, "outside the supported"), tone(4000, 2.0, freq=300), 4000)
    sf.write(add("pcm24.wav", True), y, 16000, subtype="PCM_24")
    sf.write(add("float32.wav", True), y, 16000, subtype="FLOAT")
    sf.write(add("clip.flac", True), y, 16000)
    sf.write(add("clip.ogg", True), y, 16000, format="OGG", subtype="VORBIS")
    if shutil.which("ffmpeg"):
        stereo = tone(44100, 2.0, channels=2)
        write_ffmpeg(add("recording.mp3", True), stereo, 44100, "-c:a", "libmp3lame", "-b:a", "128k")
        write_ffmpeg(add("tight.mp3", True, "MP3 of about"), stereo, 44100, "-c:a", "libmp3lame", "-b:a", "32k")
        write_ffmpeg(add("recording.m4a", True), stereo, 44100, "-c:a", "aac", "-b:a", "128k")
        write_ffmpeg(add("recording.webm", True), tone(48000, 2.0), 48000, "-c:a", "libopus", "-b:a", "64k")
        # longer than the limit, in a format whose length only decoding tells: ffmpeg stops early
        p = add("eleven_minutes.webm", False, "the limit is 600 s")
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=220:sample_rate=16000",
                        "-t", "660", "-c:a", "libopus", "-b:a", "6k", str(p)], check=True)
        # a FLAC written to a pipe has no length in its header: measured while decoding
        subprocess.run(f"ffmpeg -v error -y -i {folder / 'pcm24.wav'} -f flac pipe:1 > {add('unknown_length.flac', True)}",
                       shell=True, check=True)
        unknown_length_flac(add("unknown_length_11_minutes.flac", False, "the limit is 600 s"), 660)
        opposite = np.stack([y, -y], axis=1)
        write_ffmpeg(add("opposite_phase.m4a", True, "cancel each other"), opposite, 16000, "-c:a", "aac", "-b:a", "128k")
    # memory bombs: tiny files that decode to gigabytes if decoded whole (8 channels at 192 kHz)
    memory_bomb(add("bomb_600s_8ch_192kHz.flac", False, "No sound detected"))
    _silent_flac(add("bomb_601s_8ch_96kHz.flac", False, "the limit is 600 s"), 601, 96000, 8)
    _silent_flac(add("bomb_header_only_2ch_192kHz.wav", False, "no samples"), 600, 192000, 2, n_seconds_written=0)
    # playlists and lists of files: ffmpeg would read the files they name (here, one of the corpus)
    target = folder / "clip.flac"
    (add("playlist.m3u", False, "text file")).write_text(f"#EXTM3U\n#EXTINF:2,clip\n{target}\n")
    (add("playlist.mp3", False, "text file")).write_text(f"#EXTM3U\n{target}\n")
    (add("playlist.m3u8", False, "text file")).write_text(
        "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nhttp://127.0.0.1:1/x.ts\n#EXT-X-ENDLIST\n")
    (add("concat.webm", False, "text file")).write_text(f"ffconcat version 1.0\nfile '{target}'\n")
    (add("playlist.pls", False, "text file")).write_text(f"[playlist]\nFile1={target}\nNumberOfEntries=1\n")
    (add("playlist_bom.m4a", False, "Could not decode")).write_bytes(b"\xef\xbb\xbf#EXTM3U\n" + str(target).encode() + b"\n")
    # absurd float samples: refused, never NaN scores; a float file over full scale is scaled down
    huge = y.copy()
    huge[100] = 3e38
    sf.write(add("sample_3e38.wav", False, "far beyond full scale"), huge, 16000, subtype="FLOAT")
    sf.write(add("peak_1e19.wav", False, "far beyond full scale"), y * 2e19, 16000, subtype="DOUBLE")
    sf.write(add("float_over_full_scale.wav", True, "scaled down"), 4 * y, 16000, subtype="FLOAT")
    # a mono mix that cancels: the channel with the sound is analysed, with a warning
    sf.write(add("opposite_phase.wav", True, "cancel each other"), np.stack([y, -y], axis=1), 16000)
    sf.write(add("opposite_phase_4ch.flac", True, "cancel each other"), np.stack([y, -y, 0.5 * y, -0.5 * y], axis=1), 16000)
    # rates and channel counts from a header no model can use
    pcm = (y * 32767).astype("<i2").tobytes()
    (add("rate_1Hz.wav", False, "Sample rate 1 Hz")).write_bytes(_wav_header(len(pcm), 1) + pcm)
    (add("rate_384kHz.wav", False, "outside the supported")).write_bytes(_wav_header(len(pcm), 384000) + pcm)
    sf.write(add("40_channels.wav", False, "40 channels"), np.tile(y[:, None], (1, 40)), 16000)
    good = (folder / "pcm24.wav").read_bytes()
    (add("truncated_header.wav", False, "Could not decode")).write_bytes(good[:30])
    # a header that promises more samples than the file holds (an interrupted upload)
    (add("truncated_data.wav", True)).write_bytes(_wav_header(16000 * 2 * 4, 16000) +
                                                  (y * 32767).astype("<i2").tobytes())
    (add("text.wav", False, "Could not decode")).write_text("this is not audio\n" * 100)
    (add("random_bytes.mp3", False, "Could not decode")).write_bytes(np.random.default_rng(0).bytes(4000))
    return cases
