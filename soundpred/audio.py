"""Decode and validate audio: files, bytes and Gradio's ``(sr, array)`` tuple.

Everything that reaches a model passes through :func:`read` (or its shorthands :func:`load`
and :func:`decode`) and comes out as mono float32, or raises :class:`AudioError` with a
message a person can act on (no server paths, no decoder jargon).

Memory is bounded whatever the file claims: the header's rate and length are checked before
any sample is read, then the audio is decoded in blocks, each block mixed to mono and
resampled to the model's rate before the next one is read. Only the mono result at the target
rate is ever held (600 s at 16 kHz: 38 MB), however many channels or however high the rate; asked
to restore, a clipped recording is read a second time, its flattened peaks restored at its own
rate (:func:`declip`), and held twice.

libsndfile reads wav, flac, ogg/vorbis, mp3 and friends; what it refuses goes to ffmpeg, but
only for the containers the app lists (detected from the first bytes, the demuxer forced to
that one, only the uploaded file readable): playlists, concat lists and network protocols are
never interpreted.
"""
from __future__ import annotations

import io
import logging
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr
from scipy.interpolate import CubicSpline

__all__ = ["AudioError", "Decoded", "read", "load", "decode", "to_mono_float", "resample", "declip",
           "MIN_RATE", "MAX_RATE", "MAX_CHANNELS", "SUPPORTED"]

log = logging.getLogger(__name__)

#: a recording with more than this share of its samples at full scale (:func:`at_full_scale`) is called clipped
CLIPPED_SHARE = 1e-3
MIN_RATE, MAX_RATE = 8000, 192000
MAX_CHANNELS = 32
#: Shortest input that is analysed at all (a tenth of a second).
MIN_SECONDS = 0.1
#: A restored peak (:func:`declip`) reaches at most this many times full scale (+20 dB).
DECLIP_CAP = 10.0
#: The spline that restores a run of clipped samples is fitted through the unclipped samples
#: this close to it; the streaming declipper waits for this many samples after a run.
DECLIP_CONTEXT = 32
#: Float samples beyond this (+60 dB over full scale) are not audio but a corrupt file.
ABSURD_PEAK = 1000.0
#: Samples (all channels together) read per block: 4 MB of float32.
BLOCK_SAMPLES = 1 << 20
#: The mono mix counts as cancelled when it keeps less than this share of the loudest
#: channel's energy (-20 dB): channels of opposite polarity.
CANCEL_RATIO = 0.01
#: What ffmpeg decodes at (browser recordings are 48 kHz opus or 44.1/48 kHz AAC).
FFMPEG_RATE = 48000
#: How ffmpeg makes the two channels it gives: in float (no sum saturates), a mono file's one
#: channel in both at its own level (ffmpeg's own upmix puts it 3 dB down, which hid the flat runs
#: of a clipped mono file from :func:`at_full_scale`), a stereo file's as they are, the centre
#: and surrounds of more mixed into them.
FFMPEG_TO_STEREO = "aformat=sample_fmts=flt,pan=stereo|FL=FL+FC+0.707*BL+0.707*SL|FR=FR+FC+0.707*BR+0.707*SR"
SUPPORTED = "wav, flac, ogg, mp3, webm/opus, m4a"
_UNREADABLE = f"Could not decode the audio: the file is damaged or not in a supported format ({SUPPORTED})."

#: Containers handed to ffmpeg, by their first bytes -> the demuxer forced for them.
_FFMPEG_DEMUXERS = {"webm": "matroska", "m4a": "mov", "ogg": "ogg", "mp3": "mp3", "aac": "aac",
                    "flac": "flac", "wav": "wav"}


class AudioError(ValueError):
    """Audio that cannot be used; ``str(err)`` is meant for the person who gave it."""


@dataclass
class Decoded:
    samples: np.ndarray  # (n,) float32 mono at ``rate``
    rate: int
    source_rate: int
    channels: int
    duration_s: float
    clipped: float = 0.0  # share of source samples at full scale
    warnings: list[str] = field(default_factory=list)
    codec: str | None = None  # a lossy file's coding (MP3, Opus, ...) or, where only ffmpeg reads it, its container
    kbps: float | None = None  # a lossy file's mean bit rate, from its size and length (kbit/s)
    peak: float = 0.0  # the largest sample magnitude decoded, before any scaling down (overs_warning)
    # read(..., restore=True): a clipped recording (clipped > CLIPPED_SHARE) with its flattened
    # peaks restored at the source's rate (declip) before resampling, as ``samples``; else None
    restored: np.ndarray | None = None


#: libsndfile's lossy subtypes, by the names people know them by
LOSSY_SUBTYPES = {"MPEG_LAYER_I": "MP1", "MPEG_LAYER_II": "MP2", "MPEG_LAYER_III": "MP3", "VORBIS": "Vorbis",
                  "OPUS": "Opus"}
#: the containers only ffmpeg reads here, lossy in practice (an m4a may hold lossless ALAC: its
#: bit rate then tells, far above :data:`soundpred.predict.LOW_MP3_KBPS`)
LOSSY_CONTAINERS = {"webm": "WebM", "m4a": "M4A", "aac": "AAC", "mp3": "MP3", "ogg": "Ogg"}


#: samples past this (float files, a coder's overshoot) are scaled down, with :func:`overs_warning`
OVER_FULL_SCALE = 1.001


def overs_warning(peak: float) -> str:
    """The decoder's word for samples that reach ``peak`` (over :data:`OVER_FULL_SCALE`)."""
    return f"The samples reach {peak:.3g} × full scale; the audio was scaled down to fit."


def _coded(d: Decoded, codec: str | None, size: int) -> Decoded:
    """``d`` with its lossy ``codec`` and the mean bit rate of its ``size`` bytes, if lossy."""
    if codec is not None and d.duration_s > 0:
        d.codec, d.kbps = codec, size * 8 / d.duration_s / 1000
    return d


def sniff(head: bytes) -> str | None:
    """The container of a file from its first bytes (``"wav"``, ``"webm"``, ...), or None."""
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE" or head[:4] == b"RF64":
        return "wav"
    if head[:4] == b"fLaC":
        return "flac"
    if head[:4] == b"OggS":
        return "ogg"
    if head[:4] == b"\x1aE\xdf\xa3":
        return "webm"
    if head[4:8] == b"ftyp":
        return "m4a"
    if head[:3] == b"ID3":
        return "mp3"
    if len(head) >= 2 and head[0] == 0xFF:
        if head[1] & 0xF6 == 0xF0:
            return "aac"  # ADTS
        if head[1] & 0xE0 == 0xE0:
            return "mp3"  # MPEG audio frame sync
    return None


def _looks_like_text(head: bytes) -> bool:
    sample = head[:512]
    return bool(sample) and all(b in b"\t\n\r" or 32 <= b < 127 for b in sample)


def to_mono_float(samples: np.ndarray) -> np.ndarray:
    """Convert PCM of any dtype and layout ``(n,)`` or ``(n, channels)`` to mono float32.

    Integer PCM is scaled to [-1, 1) by its full scale (unsigned 8-bit is centred
    first); channels are averaged.
    """
    x = _as_float_frames(samples)
    return (x.mean(axis=1) if x.shape[1] > 1 else x[:, 0]).astype(np.float32)


def _as_float_frames(samples) -> np.ndarray:
    """``(n, channels)`` float32 (or float64) from PCM of any dtype and layout."""
    x = np.asarray(samples)
    if x.ndim == 0 or x.size == 0:
        raise AudioError("The audio contains no samples.")
    if x.ndim > 2:
        raise AudioError(f"Audio arrays must be (samples,) or (samples, channels); got shape {x.shape}.")
    if x.dtype.kind == "u":
        half = 2 ** (8 * x.dtype.itemsize - 1)
        x = ((x.astype(np.float64) - half) / half).astype(np.float32)
    elif x.dtype.kind == "i":
        x = (x.astype(np.float64) / 2 ** (8 * x.dtype.itemsize - 1)).astype(np.float32)
    elif x.dtype.kind == "f":
        x = x if x.dtype in (np.float32, np.float64) else x.astype(np.float32)
    elif x.dtype.kind == "b":
        raise AudioError("Boolean arrays are not audio.")
    else:
        raise AudioError(f"Unsupported sample type {x.dtype}.")
    if x.ndim == 1:
        return x[:, None]
    # Gradio and soundfile give (samples, channels); a (channels, samples) array with few rows
    # is also accepted.
    if x.shape[0] < x.shape[1] and x.shape[0] <= MAX_CHANNELS:
        x = x.T
    return x


def resample(y: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """Band-limited resampling (soxr, high quality); a no-op at equal rates."""
    if orig_sr == target_sr:
        return y.astype(np.float32, copy=False)
    return soxr.resample(y, orig_sr, target_sr, quality="HQ").astype(np.float32)


def _too_long(seconds: float, max_seconds: float) -> AudioError:
    return AudioError(f"The audio is {seconds:.0f} s long; the limit is {max_seconds:.0f} s.")


def _check_rate(sr: int) -> None:
    if not MIN_RATE <= sr <= MAX_RATE:
        raise AudioError(f"Sample rate {sr} Hz is outside the supported {MIN_RATE}–{MAX_RATE} Hz.")


def at_full_scale(samples: np.ndarray) -> np.ndarray:
    """Which samples sit at full scale, as clipping leaves them (float samples beyond it, "overs",
    are not clipped)."""
    level = np.abs(samples)
    return (level >= 0.999) & (level <= 1.0001)


def declip(samples: np.ndarray) -> np.ndarray:
    """``samples`` (float64) with each run of samples at full scale (:func:`at_full_scale`), as a
    converter leaves what would pass it, replaced by a cubic spline through the unclipped samples
    within :data:`DECLIP_CONTEXT` of a clipped one: never below what is there, at most
    :data:`DECLIP_CAP`. Restored at the recording's own rate, before any resampling smears the flat
    runs, this takes back part of what clipping costs the distance (``python -m
    train.probe_clipping --rate 48000 --declip``, docs/distance.md, sessions 58 and 60), and the
    app's distance model hears a clipped recording so restored (``read(..., restore=True)``)."""
    x = np.array(samples, np.float64)
    mask = at_full_scale(x)
    if not mask.any():
        return x
    count = np.concatenate([[0], np.cumsum(mask)])
    i = np.arange(len(x))
    near = count[np.minimum(i + DECLIP_CONTEXT + 1, len(x))] > count[np.maximum(i - DECLIP_CONTEXT, 0)]
    knots = np.flatnonzero(near & ~mask)
    if len(knots) < 4:
        return x
    clipped = np.flatnonzero(mask)
    sign = np.sign(x[clipped])
    x[clipped] = sign * np.clip(sign * CubicSpline(knots, x[knots])(clipped), np.abs(x[clipped]), DECLIP_CAP)
    return x


class _Declipper:
    """:func:`declip` on a stream of mono blocks, as one call on the whole gives it (to round-off):
    a clipped sample is given out once :data:`DECLIP_CONTEXT` unclipped samples follow it (the
    spline's knots: each one further off weighs about a quarter of the last), with the samples
    before it kept for the knots on its left; at most a block's worth waits (a recording stuck at
    full scale is not held whole)."""

    def __init__(self):
        self.history = np.zeros(0)  # samples given out, as they came: the knots on the left
        self.pending = np.zeros(0)  # samples not given out yet

    def push(self, mono: np.ndarray, last: bool = False) -> np.ndarray:
        """The samples now final, restored, of what came before and ``mono``."""
        raw = np.concatenate([self.history, self.pending, mono])
        h = len(self.history)
        mask = at_full_scale(raw)
        unclipped_after = np.cumsum((~mask)[::-1])[::-1] - ~mask  # unclipped samples after each one
        cut = len(raw)
        if not last:
            waiting = np.flatnonzero(mask[h:] & (unclipped_after[h:] < DECLIP_CONTEXT))
            if len(waiting):
                before = np.flatnonzero(~mask[:h + waiting[0]])  # the run's start
                cut = max(h, int(before[-1]) + 1 if len(before) else 0)
                if len(raw) - cut > BLOCK_SAMPLES:
                    cut = len(raw) - DECLIP_CONTEXT
        out = declip(raw)[h:cut]
        # keep, for the knots on the left, enough of what was given out to hold 2 x DECLIP_CONTEXT unclipped samples
        kept = np.flatnonzero(~mask[:cut])
        keep_from = int(kept[-2 * DECLIP_CONTEXT]) if len(kept) >= 2 * DECLIP_CONTEXT else 0
        keep_from = max(keep_from, cut - BLOCK_SAMPLES)
        self.history, self.pending = raw[keep_from:cut], raw[cut:]
        return out


class _Mixer:
    """Takes ``(n, channels)`` blocks, keeps one channel or their mean, resampled to ``out_rate``
    as it goes; refuses non-finite or absurd samples and audio over ``max_seconds``. With
    ``restore``, clipped runs are restored (:class:`_Declipper`) before resampling."""

    def __init__(self, in_rate: int, out_rate: int, channels: int, max_seconds: float | None,
                 channel: int | None = None, restore: bool = False):
        self.in_rate, self.out_rate, self.channel = in_rate, out_rate, channel
        self.declipper = _Declipper() if restore else None
        self.max_frames = None if max_seconds is None else int(in_rate * max_seconds)
        self.max_seconds = max_seconds
        self.stream = None if in_rate == out_rate else soxr.ResampleStream(in_rate, out_rate, 1, "float32", "HQ")
        self.parts: list[np.ndarray] = []
        self.frames = 0
        self.channel_energy = np.zeros(channels)
        self.mix_energy = 0.0
        self.peak = 0.0
        self.clipped = 0

    def add(self, block: np.ndarray) -> None:
        if not len(block):
            return
        self.frames += len(block)
        if self.max_frames is not None and self.frames > self.max_frames:
            raise AudioError(f"The audio is more than {self.max_seconds:.0f} s long; "
                             f"the limit is {self.max_seconds:.0f} s.")
        if not np.isfinite(block).all():
            raise AudioError("The audio contains NaN or infinite values; it is corrupt.")
        peak = float(np.abs(block).max())
        if peak > ABSURD_PEAK:
            raise AudioError(f"The audio's samples reach {peak:.3g}, far beyond full scale (±1): "
                             "the file is corrupt or not audio.")
        self.peak = max(self.peak, peak)
        block = block.astype(np.float64)
        mono = block[:, self.channel] if self.channel is not None else block.mean(axis=1)
        self.channel_energy += np.einsum("ij,ij->j", block, block)
        self.mix_energy += float(mono @ mono)
        self.clipped += int(np.count_nonzero(at_full_scale(mono)))
        if self.declipper is not None:
            mono = self.declipper.push(mono)
        self._out(mono)

    def _out(self, mono: np.ndarray) -> None:
        mono = mono.astype(np.float32)
        self.parts.append(mono if self.stream is None else self.stream.resample_chunk(mono))

    def finish(self) -> np.ndarray:
        if self.declipper is not None:
            self._out(self.declipper.push(np.zeros(0), last=True))
        if self.stream is not None:
            self.parts.append(self.stream.resample_chunk(np.zeros(0, np.float32), last=True))
        y = np.concatenate(self.parts) if self.parts else np.zeros(0, np.float32)
        self.parts = []
        return y.astype(np.float32, copy=False)

    def cancelled(self) -> int | None:
        """The loudest channel, when the mean of the channels cancels (opposite polarity)."""
        if self.channel is not None or len(self.channel_energy) < 2 or self.channel_energy.max() <= 0:
            return None
        best = int(np.argmax(self.channel_energy))
        return best if self.mix_energy < CANCEL_RATIO * self.channel_energy[best] else None


def _blocks_from_array(x: np.ndarray):
    step = max(1, BLOCK_SAMPLES // x.shape[1])
    for i in range(0, len(x), step):
        yield x[i:i + step]


def _blocks_from_sndfile(f: sf.SoundFile):
    step = max(1, BLOCK_SAMPLES // f.channels)
    while True:
        block = f.read(step, dtype="float32", always_2d=True)
        if not len(block):
            return
        yield block


class _FfmpegStream:
    """ffmpeg decoding one local file as stereo float32 at :data:`FFMPEG_RATE`, read in blocks."""

    def __init__(self, path: str, container: str):
        exe = shutil.which("ffmpeg")
        if exe is None:
            raise AudioError("This format needs ffmpeg, which is not installed (apt-get install ffmpeg).")
        self.proc = subprocess.Popen(
            [exe, "-nostdin", "-hide_banner", "-v", "error", "-protocol_whitelist", "file",
             "-f", _FFMPEG_DEMUXERS[container], "-i", "file:" + path, "-map", "0:a:0", "-vn", "-sn", "-dn",
             "-af", FFMPEG_TO_STEREO, "-ac", "2", "-ar", str(FFMPEG_RATE), "-f", "f32le", "pipe:1"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.result: tuple[int, str] | None = None

    def blocks(self):
        size = BLOCK_SAMPLES * 4
        pending = b""
        while True:
            chunk = self.proc.stdout.read(size)
            if not chunk:
                return
            chunk, pending = pending + chunk, b""
            usable = len(chunk) - len(chunk) % 8
            chunk, pending = chunk[:usable], chunk[usable:]
            yield np.frombuffer(chunk, "<f4").reshape(-1, 2)

    def close(self) -> tuple[int, str]:
        """Stop ffmpeg if it still runs; its exit status and messages (once)."""
        if self.result is None:
            if self.proc.poll() is None:
                self.proc.kill()
            err = self.proc.stderr.read().decode(errors="replace")
            self.proc.stdout.close()
            self.proc.stderr.close()
            self.result = (self.proc.wait(), err)
        return self.result


def _run(blocks, mixer: _Mixer) -> np.ndarray:
    try:
        for block in blocks:
            mixer.add(block)
    finally:
        blocks.close()  # a refusal mid-file stops the reader (and ffmpeg) now
    return mixer.finish()


def read(source, *, sr: int | None = None, max_seconds: float | None = None, restore: bool = False) -> Decoded:
    """Decode ``source`` to mono float32 at ``sr`` (the source's own rate when None).

    Parameters
    ----------
    source : str, os.PathLike, bytes, file-like or tuple
        A path, the file's bytes, an open binary file, or ``(sr, array)`` as Gradio's
        ``gr.Audio(type="numpy")`` gives (array ``(n,)`` or ``(n, ch)``, any PCM dtype).
    sr : int or None
        Rate of the result.
    max_seconds : float or None
        Refuse longer audio: from the header when it states the length, else while decoding
        (never more than this is decoded).
    restore : bool
        Also give a clipped recording (over :data:`CLIPPED_SHARE` at full scale) with its flattened
        peaks restored at its own rate, as ``Decoded.restored`` (:func:`declip`). The app's
        distance model hears it (``Predictor.predict``; the labels hear ``samples``): with one
        recording level for a room, where the near sources clip, restoring gave MAE back at 12 dB
        on every card set and every fresh draw (``python -m train.probe_clipping --rate 48000
        --declip --variants level-12``, docs/distance.md, sessions 58 and 60).
    """
    if isinstance(source, tuple):
        if len(source) != 2:
            raise AudioError("Expected (sample_rate, samples).")
        rate, arr = source
        if arr is None:
            raise AudioError("No audio was recorded or uploaded.")
        rate = int(rate)
        _check_rate(rate)
        x = _as_float_frames(arr)
        if x.shape[1] > MAX_CHANNELS:
            raise AudioError(f"The audio has {x.shape[1]} channels; at most {MAX_CHANNELS} are supported.")
        if max_seconds is not None and len(x) / rate > max_seconds:
            raise _too_long(len(x) / rate, max_seconds)
        return _finish(lambda: _blocks_from_array(x), rate, x.shape[1], sr, max_seconds, "", restore)

    path = data = None
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if not os.path.isfile(path):
            raise AudioError(f"File not found: {Path(path).name}")  # the name only: never a server path
        if os.path.getsize(path) == 0:
            raise AudioError(f"The file is empty: {Path(path).name}")
    elif isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif hasattr(source, "read"):
        data = source.read()
    else:
        raise AudioError(f"Cannot read audio from {type(source).__name__}.")
    if data is not None and len(data) == 0:
        raise AudioError("The audio data is empty.")

    def open_sf():
        return sf.SoundFile(path if path is not None else io.BytesIO(data))

    size = os.path.getsize(path) if path is not None else len(data)
    try:
        with open_sf() as f:
            rate, channels, frames, subtype = f.samplerate, f.channels, f.frames, f.subtype
    except Exception:  # libsndfile refused it: ffmpeg may know the container (webm, m4a)
        frames = None
    # an unknown length (a FLAC written to a pipe) reads as 2**63 - 1 frames, and libsndfile
    # cannot read such a file: ffmpeg measures it while decoding
    if frames is not None and frames < 2 ** 62:
        _check_rate(rate)
        if channels > MAX_CHANNELS:
            raise AudioError(f"The audio has {channels} channels; at most {MAX_CHANNELS} are supported.")
        if max_seconds is not None and frames / rate > max_seconds:  # from the header, unread
            raise _too_long(frames / rate, max_seconds)

        def blocks():
            with open_sf() as g:
                yield from _blocks_from_sndfile(g)

        try:
            return _coded(_finish(blocks, rate, channels, sr, max_seconds, "", restore), LOSSY_SUBTYPES.get(subtype),
                          size)
        except (AudioError, MemoryError):
            raise
        except Exception as e:  # damaged data after a good header
            log.info("libsndfile failed mid-file: %s", e)
            raise AudioError(_UNREADABLE) from None
    return _coded(*_ffmpeg_read(path, data, sr, max_seconds, restore), size)


def _ffmpeg_read(path, data, sr, max_seconds, restore) -> tuple[Decoded, str | None]:
    """What ffmpeg decodes of the file, and its container's lossy coding (:data:`LOSSY_CONTAINERS`)."""
    if data is not None:
        head = data[:4096]
    else:
        with open(path, "rb") as f:
            head = f.read(4096)
    container = sniff(head)
    if container is None:
        if _looks_like_text(head):
            raise AudioError("Could not decode the audio: this is a text file (a playlist or a list of "
                             "files?), not a recording. "
                             f"Upload the sound itself ({SUPPORTED}).")
        raise AudioError(_UNREADABLE)
    with tempfile.TemporaryDirectory(prefix="soundpred-") as tmp:
        if path is None:  # ffmpeg reads only this one file, never a pipe or a URL
            path = os.path.join(tmp, "upload")
            with open(path, "wb") as out:
                out.write(data)
        streams = []

        def blocks():
            stream = _FfmpegStream(path, container)
            streams.append(stream)
            try:
                yield from stream.blocks()
            finally:
                stream.close()

        try:  # _run closes each reader, which stops its ffmpeg
            return (_finish(blocks, FFMPEG_RATE, 2, sr, max_seconds, container, restore),
                    LOSSY_CONTAINERS.get(container))
        except AudioError:
            if streams:  # what ffmpeg said, for the server's log (the person gets the plain message)
                rc, err = streams[-1].close()
                log.info("ffmpeg (exit %s) on a %s file: %s", rc, container, err.strip()[-300:])
            raise


def _finish(blocks, rate: int, channels: int, sr: int | None, max_seconds, container: str,
            restore: bool = False) -> Decoded:
    """Run the blocks of ``blocks()`` through a mixer; on a cancelling mono mix, run it again on the
    loudest channel; on a clipped one, with ``restore``, again with its peaks restored
    (``Decoded.restored``)."""
    out_rate = sr or rate
    mixer = _Mixer(rate, out_rate, channels, max_seconds)
    y = _run(blocks(), mixer)
    warnings = []
    best = mixer.cancelled()
    if best is not None:
        mixer = _Mixer(rate, out_rate, channels, max_seconds, channel=best)
        y = _run(blocks(), mixer)
        which = ("The left", "The right")[best] + " channel" if channels == 2 else f"Channel {best + 1}"
        warnings.append("The channels cancel each other when mixed to mono (one is the other with "
                        f"its polarity inverted). {which} alone was analysed.")
    duration = mixer.frames / rate
    if duration < MIN_SECONDS:
        if mixer.frames == 0:
            raise AudioError(_UNREADABLE if container else "The audio contains no samples.")
        raise AudioError(f"The audio is {duration * 1000:.0f} ms long; at least "
                         f"{MIN_SECONDS * 1000:.0f} ms are needed.")
    if mixer.peak > OVER_FULL_SCALE:
        y /= np.float32(mixer.peak)
        warnings.append(overs_warning(mixer.peak))
    # samples at full scale are clipping, unless the file goes beyond it (float overs)
    clipped = 0.0 if mixer.peak > OVER_FULL_SCALE else mixer.clipped / max(1, mixer.frames)
    restored = None
    if restore and clipped > CLIPPED_SHARE:  # read again, its peaks restored at its own rate
        restored = _run(blocks(), _Mixer(rate, out_rate, channels, max_seconds, channel=mixer.channel, restore=True))
    return Decoded(y, out_rate, rate, channels, duration, clipped, warnings, restored=restored, peak=mixer.peak)


def decode(source, *, max_seconds: float | None = None) -> tuple[np.ndarray, int]:
    """``(mono float32, rate)`` at the source's own rate (ffmpeg-decoded formats: 48 kHz)."""
    d = read(source, max_seconds=max_seconds)
    return d.samples, d.rate


def load(source, *, sr: int, max_seconds: float | None = None) -> np.ndarray:
    """Decode, validate and resample ``source`` to mono float32 at ``sr``.

    Returns
    -------
    np.ndarray, shape (n,), float32
    """
    return read(source, sr=sr, max_seconds=max_seconds).samples
