"""The log-mel layer: equal to librosa (its numpy twin), golden values, level invariance."""
from __future__ import annotations

import numpy as np
import pytest
import librosa

from soundpred.features import LogMel, SpecAugment, dct_matrix
from soundpred.params import FrontEnd

from .conftest import tone

FE = FrontEnd()


def librosa_logmel(y, fe: FrontEnd):
    """The numpy twin: librosa with the same settings (Keras' STFT pads by reflection)."""
    S = librosa.feature.melspectrogram(y=y, sr=fe.sample_rate, n_fft=fe.n_fft, win_length=fe.win_length,
                                       hop_length=fe.hop_length, n_mels=fe.n_mels, fmin=fe.fmin,
                                       fmax=fe.fmax, power=2.0, center=True, pad_mode="reflect")
    return S


def run(y, fe=FE):
    return np.asarray(LogMel(fe.to_dict())(y[None].astype(np.float32)))[0, :, :, 0]


@pytest.mark.parametrize("signal", ["noise", "sine", "chirp"])
def test_equals_librosa(signal):
    sr = FE.sample_rate
    rng = np.random.default_rng(1)
    t = np.arange(2 * sr) / sr
    y = {"noise": 0.1 * rng.standard_normal(t.size),
         "sine": 0.3 * np.sin(2 * np.pi * 700 * t),
         "chirp": librosa.chirp(fmin=100, fmax=7000, sr=sr, duration=2.0)}[signal].astype(np.float32)
    expect = librosa.power_to_db(librosa_logmel(y, FE), ref=np.max, top_db=FE.top_db).T / FE.top_db
    got = run(y)
    assert got.shape == expect.shape == (FE.frames(len(y)), FE.n_mels)
    np.testing.assert_allclose(got, expect, atol=2e-4)


def test_mfcc_equals_librosa():
    fe = FrontEnd(n_mfcc=20)
    y = tone(fe.sample_rate, 1.0, freq=300)
    db = librosa.power_to_db(librosa_logmel(y, fe), ref=1.0, amin=1e-10, top_db=None)
    expect = librosa.feature.mfcc(S=db, n_mfcc=20, dct_type=2, norm="ortho").T / fe.top_db
    np.testing.assert_allclose(run(y, fe), expect, atol=2e-3)


def test_dct_matrix_is_orthonormal():
    d = dct_matrix(16, 16)
    np.testing.assert_allclose(d.T @ d, np.eye(16), atol=1e-5)


def test_golden_sine_1khz():
    """A 1 kHz sine lights the mel band whose centre is nearest 1 kHz, and nothing far from it."""
    y = tone(16000, 1.0, freq=1000.0, amp=0.5)
    out = run(y)
    centres = librosa.mel_frequencies(FE.n_mels + 2, fmin=FE.fmin, fmax=FE.fmax)[1:-1]
    band = int(np.argmax(out[50]))
    assert band == 20 and abs(centres[band] - 1000) < 60
    assert out.max() == 0.0 and out[50, band] > -0.002  # referenced to the loudest bin
    # golden values (frame 50): the neighbours and a far band, in units of top_db
    np.testing.assert_allclose(out[50, [19, 21, 40]], [-0.0339, -0.0914, -0.6849], atol=2e-3)


def test_level_invariant():
    y = tone(16000, 1.0, freq=440)
    np.testing.assert_allclose(run(y), run(y * 0.01), atol=1e-4)


def test_output_range_and_silence():
    out = run(np.zeros(16000, np.float32))
    assert np.all(np.isfinite(out)) and out.min() >= -1 and out.max() <= 0


def test_config_round_trip():
    layer = LogMel(FrontEnd(n_mels=40, window_seconds=2.0).to_dict())
    again = LogMel.from_config(layer.get_config())
    assert again.fe == layer.fe


def test_specaugment_only_in_training():
    x = np.random.default_rng(0).uniform(-1, 0, (4, 300, 64, 1)).astype(np.float32)
    sa = SpecAugment(time_width=30, freq_width=8, seed=3)
    np.testing.assert_array_equal(np.asarray(sa(x, training=False)), x)
    y = np.asarray(sa(x, training=True))
    changed = np.mean(y != x)
    assert 0.01 < changed < 0.6
