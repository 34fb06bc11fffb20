"""Decoding and validation: every format, rate and channel layout the app accepts."""
from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf

from soundpred import audio
from soundpred.audio import AudioError

from .conftest import needs_ffmpeg, tone, write_ffmpeg


def _dominant_hz(y, sr):
    spec = np.abs(np.fft.rfft(y))
    return np.argmax(spec) * sr / len(y)


@pytest.mark.parametrize("subtype", ["PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE", "PCM_U8"])
def test_wav_subtypes_decode_to_same_signal(tmp_path, subtype):
    y = tone(16000, 0.5)
    p = tmp_path / f"x_{subtype}.wav"
    sf.write(p, y, 16000, subtype=subtype)
    out, sr = audio.decode(p)
    assert sr == 16000 and out.dtype == np.float32 and out.shape == y.shape
    tol = 1e-2 if subtype == "PCM_U8" else 1e-3
    assert np.max(np.abs(out - y)) < tol


@pytest.mark.parametrize("fmt,ext,subtype", [("FLAC", "flac", "PCM_16"), ("OGG", "ogg", "VORBIS"),
                                             ("MP3", "mp3", "MPEG_LAYER_III")])
def test_compressed_formats(tmp_path, fmt, ext, subtype):
    y = tone(44100, 1.0, freq=1000)
    p = tmp_path / f"x.{ext}"
    sf.write(p, y, 44100, format=fmt, subtype=subtype)
    out = audio.load(p, sr=16000)
    assert abs(len(out) - 16000) < 1200  # mp3 adds encoder padding
    assert abs(_dominant_hz(out, 16000) - 1000) < 5


@needs_ffmpeg
@pytest.mark.parametrize("ext,args", [("webm", ("-c:a", "libopus")), ("m4a", ("-c:a", "aac")),
                                      ("ogg", ("-c:a", "libopus"))])
def test_browser_recordings_via_ffmpeg(tmp_path, ext, args):
    y = tone(48000, 1.0, freq=1000, channels=2)
    p = write_ffmpeg(tmp_path / f"rec.{ext}", y, 48000, *args)
    out = audio.load(p, sr=16000)
    assert abs(len(out) / 16000 - 1.0) < 0.1
    assert abs(_dominant_hz(out, 16000) - 1000) < 5
    # the same bytes in memory decode too (the app and the API may hand over bytes)
    out2 = audio.load(p.read_bytes(), sr=16000)
    assert abs(len(out2) - len(out)) < 1600


@needs_ffmpeg
@pytest.mark.parametrize("ext,args,codec,kbps", [
    ("mp3", ("-c:a", "libmp3lame", "-b:a", "32k"), "MP3", 32),
    ("mp3", ("-c:a", "libmp3lame", "-b:a", "128k"), "MP3", 128),
    ("ogg", ("-c:a", "libopus", "-b:a", "16k"), "Opus", 16),
    ("ogg", ("-c:a", "libvorbis", "-b:a", "64k"), "Vorbis", 64),
    ("m4a", ("-c:a", "aac", "-b:a", "64k"), "M4A", 64), ("webm", ("-c:a", "libopus", "-b:a", "24k"), "WebM", 24),
    ("wav", ("-c:a", "pcm_s16le"), None, None), ("flac", ("-c:a", "flac"), None, None)])
def test_a_lossy_file_reports_its_coding_and_bit_rate(tmp_path, ext, args, codec, kbps):
    """``Decoded.codec`` and ``Decoded.kbps`` (the file's size over its length): the decoder's
    own reading (libsndfile's subtype) or, for what only ffmpeg reads, the container; lossless
    files report neither. From a path and from the same bytes in memory."""
    rng = np.random.default_rng(0)
    y = (0.3 * rng.standard_normal(5 * 48000)).astype(np.float32)  # noise: every codec spends its rate
    p = write_ffmpeg(tmp_path / f"x.{ext}", y, 48000, *args)
    for source in (p, p.read_bytes()):
        d = audio.read(source, sr=16000)
        assert d.codec == codec
        if kbps is None:
            assert d.kbps is None
        else:
            assert d.kbps == pytest.approx(kbps, rel=0.15), (ext, d.kbps)


@pytest.mark.parametrize("sr", [8000, 11025, 16000, 22050, 32000, 44100, 48000, 96000, 192000])
def test_any_rate_resamples_to_model_rate(tmp_path, sr):
    freq = 1000
    p = tmp_path / "x.wav"
    sf.write(p, tone(sr, 1.0, freq=freq), sr)
    out = audio.load(p, sr=16000)
    assert len(out) == 16000
    assert abs(_dominant_hz(out, 16000) - freq) < 2


@pytest.mark.parametrize("channels", [1, 2, 6, 8])
def test_channels_mix_to_mono(tmp_path, channels):
    p = tmp_path / "x.wav"
    y = tone(16000, 0.5, channels=channels)
    sf.write(p, y, 16000, subtype="FLOAT")
    out, _ = audio.decode(p)
    assert out.ndim == 1
    expect = y.mean(axis=1) if channels > 1 else y
    np.testing.assert_allclose(out, expect, atol=1e-6)


def test_gradio_tuple_int16_stereo():
    y = (tone(22050, 0.5, channels=2) * 32767).astype(np.int16)
    out, sr = audio.decode((22050, y))
    assert sr == 22050 and out.shape == (y.shape[0],)
    np.testing.assert_allclose(out, y.mean(axis=1) / 32768, atol=1e-4)


@pytest.mark.parametrize("dtype,scale", [(np.int32, 2 ** 31), (np.int16, 2 ** 15), (np.float64, 1)])
def test_pcm_dtypes(dtype, scale):
    x = np.array([0, scale // 2 if scale > 1 else 0.5, -(scale // 2) if scale > 1 else -0.5], dtype=dtype)
    out = audio.to_mono_float(x)
    np.testing.assert_allclose(out, [0, 0.5, -0.5], atol=1e-6)


def test_uint8_is_centred():
    np.testing.assert_allclose(audio.to_mono_float(np.array([128, 255, 0], np.uint8)), [0, 127 / 128, -1])


def test_bytes_and_file_objects(tmp_path):
    buf = io.BytesIO()
    sf.write(buf, tone(16000, 0.5), 16000, format="WAV")
    data = buf.getvalue()
    a, _ = audio.decode(data)
    b, _ = audio.decode(io.BytesIO(data))
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("maker,message", [
    (lambda p: p.write_bytes(b""), "empty"),
    (lambda p: p.write_text("this is not audio\n" * 20), "Could not decode"),
    (lambda p: p.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt "), "Could not decode"),  # truncated header
])
def test_bad_files_raise_audio_error(tmp_path, maker, message):
    p = tmp_path / "bad.wav"
    maker(p)
    with pytest.raises(AudioError, match=message):
        audio.load(p, sr=16000)


def test_missing_file():
    with pytest.raises(AudioError, match="not found"):
        audio.load("/nonexistent/x.wav", sr=16000)


@pytest.mark.parametrize("y,sr,message", [
    (np.zeros(0, np.float32), 16000, "no samples"),
    (np.array([0.1, np.nan] * 8000, np.float32), 16000, "NaN"),
    (np.array([0.1, np.inf] * 8000, np.float32), 16000, "NaN or infinite"),
    (np.zeros(800, np.float32), 16000, "50 ms long"),
    (np.zeros(16000, np.float32), 4000, "outside the supported"),
])
def test_validation_messages(y, sr, message):
    with pytest.raises(AudioError, match=message):
        audio.load((sr, y), sr=16000)


def test_max_seconds_refused_from_header(tmp_path):
    p = tmp_path / "long.wav"
    sf.write(p, np.zeros(16000 * 5, np.int16), 16000)
    with pytest.raises(AudioError, match="limit is 2 s"):
        audio.load(p, sr=16000, max_seconds=2)


def test_block_decoding_matches_whole_file_resampling(tmp_path, monkeypatch):
    """Decoding in small blocks (mix, then a streaming resampler) gives what resampling the
    whole mono mix at once gives."""
    import soxr

    y = tone(44100, 3.0, freq=700, channels=3)
    p = tmp_path / "x.flac"
    sf.write(p, y, 44100, subtype="PCM_24")
    whole = soxr.resample(sf.read(p, dtype="float32")[0].mean(axis=1), 44100, 16000, quality="HQ")
    monkeypatch.setattr(audio, "BLOCK_SAMPLES", 3 * 1000)  # 1000-frame blocks
    blocks = audio.read(p, sr=16000)
    assert blocks.samples.shape == whole.shape and blocks.duration_s == pytest.approx(3.0)
    np.testing.assert_allclose(blocks.samples, whole, atol=1e-4)


def test_opposite_polarity_falls_back_to_one_channel(tmp_path):
    y = tone(16000, 1.0)
    p = tmp_path / "x.wav"
    sf.write(p, np.stack([y, -y], axis=1), 16000, subtype="FLOAT")
    d = audio.read(p, sr=16000)
    np.testing.assert_allclose(np.abs(d.samples), np.abs(y), atol=1e-6)
    assert "cancel" in d.warnings[0]
    # an ordinary stereo file is mixed as before, with no warning
    sf.write(p, np.stack([y, 0.5 * y], axis=1), 16000, subtype="FLOAT")
    d = audio.read(p, sr=16000)
    np.testing.assert_allclose(d.samples, 0.75 * y, atol=1e-6) and not d.warnings


@needs_ffmpeg
def test_unknown_length_flac_is_measured(tmp_path):
    """A FLAC written to a pipe has no length in its header (libsndfile cannot read it)."""
    import subprocess

    src = tmp_path / "x.wav"
    sf.write(src, tone(16000, 2.0), 16000)
    out = tmp_path / "x.flac"
    subprocess.run(f"ffmpeg -v error -y -i {src} -f flac pipe:1 > {out}", shell=True, check=True)
    assert sf.info(out).frames > 2 ** 62
    d = audio.read(out, sr=16000)
    assert d.duration_s == pytest.approx(2.0, abs=0.01)
    with pytest.raises(AudioError, match="limit is 1 s"):
        audio.read(out, sr=16000, max_seconds=1)


@pytest.mark.parametrize("head,kind", [(b"RIFF\0\0\0\0WAVEfmt ", "wav"), (b"fLaC\0", "flac"), (b"OggS\0", "ogg"),
                                       (b"\x1aE\xdf\xa3\x01", "webm"), (b"\0\0\0\x20ftypM4A ", "m4a"),
                                       (b"ID3\x04", "mp3"), (b"\xff\xfb\x90", "mp3"), (b"\xff\xf1\x50", "aac"),
                                       (b"#EXTM3U\n", None), (b"ffconcat version 1.0", None)])
def test_sniff(head, kind):
    assert audio.sniff(head) == kind


def test_absurd_samples_refused_and_overs_scaled(tmp_path):
    y = tone(16000, 1.0)
    p = tmp_path / "x.wav"
    y[10] = 1e30
    sf.write(p, y, 16000, subtype="FLOAT")
    with pytest.raises(AudioError, match="far beyond full scale"):
        audio.read(p, sr=16000)
    y[10] = 0
    sf.write(p, 3 * y, 16000, subtype="FLOAT")
    d = audio.read(p, sr=16000)
    assert np.abs(d.samples).max() == pytest.approx(1.0, abs=1e-3) and "scaled down" in d.warnings[0]
    assert d.clipped == 0  # over full scale in a float file is not clipping


def _loud_notes(sr: int, seconds: float, drive_db: float) -> np.ndarray:
    """Decaying two-tone notes, four a second, scaled so the peak lies ``drive_db`` over full scale."""
    t = np.arange(int(sr * seconds)) / sr
    x = (np.sin(2 * np.pi * 220 * t) + 0.5 * np.sin(2 * np.pi * 555 * t + 1)) * np.exp(-6 * (t % 0.25))
    return x / np.abs(x).max() * 10 ** (drive_db / 20)


@needs_ffmpeg
def test_ffmpeg_keeps_a_mono_files_level_so_its_clipping_shows(tmp_path):
    """What only ffmpeg reads (here lossless ALAC in an M4A, so the flat runs survive) decodes at
    the level of the same samples in a WAV: a mono file is not put 3 dB down by ffmpeg's upmix, so
    a clipped one is counted as clipped and restored; a stereo file keeps each channel's level; a
    5.1 file's centre joins both sides, summed without saturating."""
    x = _loud_notes(48000, 3.0, 12)
    flat = np.clip(x, -1, 1)
    wav, m4a = tmp_path / "clipped.wav", write_ffmpeg(tmp_path / "clipped.m4a", flat, 48000, "-c:a", "alac")
    sf.write(wav, flat, 48000, subtype="PCM_16")
    a, b = audio.read(wav, sr=16000, restore=True), audio.read(m4a, sr=16000, restore=True)
    assert b.clipped == pytest.approx(a.clipped, rel=0.02) and b.clipped > audio.CLIPPED_SHARE
    assert b.restored is not None
    np.testing.assert_allclose(b.samples, a.samples, atol=2e-3)
    stereo = np.stack([0.5 * flat, 0.25 * flat], axis=1)
    s = audio.read(write_ffmpeg(tmp_path / "stereo.m4a", stereo, 48000, "-c:a", "alac"), sr=48000)
    assert np.abs(s.samples).max() == pytest.approx(0.375, rel=0.01)  # their mean, as a WAV's
    # 5.1: the centre joins both sides at its level, summed in float: front left 0.8 + centre 0.6
    # pass full scale (1.4, not held at 1), so the mix is scaled down by 1.4, with the decoder's word
    six = np.stack([0.8 * flat, 0.1 * flat, 0.6 * flat, 0 * flat, 0 * flat, 0 * flat], axis=1)
    m = audio.read(write_ffmpeg(tmp_path / "six.m4a", six, 48000, "-c:a", "alac"), sr=48000)
    assert np.abs(m.samples).max() == pytest.approx((1.4 + 0.7) / 2 / 1.4, rel=0.01)
    assert any("1.4 × full scale" in w for w in m.warnings)


@needs_ffmpeg
def test_coded_clipping_probe_counts_flat_samples_and_overshoot(tmp_path, capsys):
    """``train.probe_coded_clipping``: a clipped FLAC (over 1 % of its samples flat) coded as MP3
    passes full scale; the same notes unclipped at half scale do not; each is counted in its band."""
    from train.probe_coded_clipping import BANDS, main

    x = _loud_notes(48000, 3.0, 12)
    sf.write(tmp_path / "a_clipped.flac", np.clip(x, -1, 1), 48000)
    sf.write(tmp_path / "b_clean.flac", 0.5 * x / np.abs(x).max(), 48000)
    share, cue, peak = main(["--folder", str(tmp_path), "--codec", "mp3-128"])
    assert share[0] > 0.01 and share[1] == 0 and cue.tolist() == [True, False]
    assert peak[1] == pytest.approx(0.5, abs=1e-3)
    out = capsys.readouterr().out
    assert f"| {BANDS[0]} | 1 | 0 (0.00) |" in out and "coded mp3-128" in out


def test_clipped_peaks_are_restored_at_the_source_rate(tmp_path, monkeypatch):
    """A 48-kHz recording clipped 12 dB over full scale: the decoder calls it clipped and, asked
    to restore, gives beside the samples as they are ``restored`` ones whose flattened peaks were
    rebuilt before resampling, nearer the sound before the clip; not asked, none. Decoding in
    small blocks (a run of clipped samples across a block's end) gives what large blocks give.
    Unclipped audio, and a float file whose samples pass full scale (overs, not clipping), get no
    restored samples."""
    import soxr

    x = _loud_notes(48000, 3.0, 12)
    p = tmp_path / "clipped.wav"
    sf.write(p, np.clip(x, -1, 1), 48000, subtype="PCM_24")
    truth = soxr.resample(x, 48000, 16000, quality="HQ")
    d = audio.read(p, sr=16000, restore=True)
    assert d.clipped > audio.CLIPPED_SHARE and d.restored.shape == d.samples.shape
    plain = audio.read(p, sr=16000)
    assert plain.restored is None and np.array_equal(plain.samples, d.samples)

    def error(y):
        return np.sqrt(np.mean((y - truth) ** 2) / np.mean(truth ** 2))

    assert error(d.restored) < 0.8 * error(d.samples)
    assert np.abs(d.restored).max() > 1.5  # peaks rebuilt past full scale
    monkeypatch.setattr(audio, "BLOCK_SAMPLES", 1000)
    small = audio.read(p, sr=16000, restore=True)
    np.testing.assert_allclose(small.restored, d.restored, atol=1e-5)
    np.testing.assert_array_equal(small.samples, d.samples)
    sf.write(p, 0.5 * np.clip(x, -1, 1), 48000, subtype="PCM_24")
    assert audio.read(p, sr=16000, restore=True).restored is None
    sf.write(p, 2 * np.clip(x, -1, 1), 48000, subtype="FLOAT")
    overs = audio.read(p, sr=16000, restore=True)
    assert overs.clipped == 0 and overs.restored is None


def test_declip_changes_only_the_clipped_runs_and_never_holds_a_stuck_recording(monkeypatch):
    """:func:`soundpred.audio.declip` leaves every sample below full scale as it is and raises the
    flat ones (never past ``DECLIP_CAP``); the streaming declipper gives what one call gives
    whatever the blocks, and a recording stuck at full scale passes through unchanged without
    being held back more than a block."""
    c = np.clip(_loud_notes(48000, 1.0, 20), -1, 1)
    flat = audio.at_full_scale(c)
    y = audio.declip(c)
    np.testing.assert_array_equal(y[~flat], c[~flat])
    assert np.all(np.abs(y[flat]) >= np.abs(c[flat])) and np.abs(y).max() <= audio.DECLIP_CAP
    assert np.mean(np.abs(y[flat]) > 1.05) > 0.5
    for step in (7, 500, 4096):
        d = audio._Declipper()
        parts = [d.push(c[i:i + step]) for i in range(0, len(c), step)] + [d.push(np.zeros(0), last=True)]
        np.testing.assert_allclose(np.concatenate(parts), y, atol=1e-6)
    monkeypatch.setattr(audio, "BLOCK_SAMPLES", 1000)
    d, out = audio._Declipper(), []
    for _ in range(10):
        out.append(d.push(np.ones(300)))
        assert len(d.pending) <= audio.BLOCK_SAMPLES
    out.append(d.push(np.zeros(0), last=True))
    np.testing.assert_array_equal(np.concatenate(out), np.ones(3000))
