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
