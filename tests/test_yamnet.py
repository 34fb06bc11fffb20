"""YAMNet in Keras 3 against the TFLite interpreter (golden tests) and the float reference.

The TFLite export computes its own log-mel with int8 DFT and mel matrices (dynamic-range
quantization): its patch is close to the float features in the loud bins and noisy in the
quiet ones (measured: median |Δ| 0.003-0.2 in ln units, up to 5 in bins 60 dB down). So:

- the Keras front end is checked to 0.01 (ln units) against the float reference it implements
  (``tf.signal.stft`` magnitude, ``tf.signal.linear_to_mel_weight_matrix``, ``ln(x + 0.001)``);
- against TFLite's own patch only in the bins within 20 dB of the patch's peak (|Δ| <= 0.3);
- the imported network (body + AudioSet head) is fed TFLite's own patch and must give the
  521 scores within 0.03 of TFLite's, with the same top class on >= 95 % of clips.
"""
from __future__ import annotations

import numpy as np
import pytest

from .conftest import STARTER, needs_starter

YAMNET = STARTER.parent.parent / "pretrained" / "yamnet"
needs_yamnet = pytest.mark.skipif(not (YAMNET / "yamnet.tflite").is_file(), reason="needs ../shared/pretrained/yamnet")
N = 15600


def _clips() -> np.ndarray:
    """Generated audio (noise, tones, a chirp, clicks) and windows of starter clips."""
    from soundpred import audio

    rng = np.random.default_rng(0)
    t = np.arange(N) / 16000
    out = [0.3 * rng.standard_normal(N), 0.5 * np.sin(2 * np.pi * 440 * t),
           0.4 * np.sin(2 * np.pi * (200 + 3000 * t) * t), np.repeat(rng.standard_normal(N // 400) > 2.0, 400) * 0.8,
           0.1 * np.sin(2 * np.pi * 1000 * t) + 0.01 * rng.standard_normal(N)]
    if STARTER.is_dir():
        for f in sorted((STARTER / "audio_test").glob("*.flac"))[::4]:
            y = audio.load(f, sr=16000)
            s = int(np.argmax(np.convolve(y ** 2, np.ones(1600), "valid")[::1600])) * 1600 if len(y) > N else 0
            y = y[s:s + N]
            out.append(np.pad(y, (0, N - len(y))))
    return np.stack(out).astype(np.float32)


@pytest.fixture(scope="module")
def yamnet():
    from train.import_yamnet import DEFAULT_TFLITE, build_audioset_model, interpreter

    return build_audioset_model(DEFAULT_TFLITE), interpreter(DEFAULT_TFLITE)


def _tflite(it, x):
    it.set_tensor(it.get_input_details()[0]["index"], x[None])
    it.invoke()
    scores, patch = (it.get_tensor(o["index"]) for o in it.get_output_details())
    return scores[0], patch


def test_htk_mel_matrix_matches_tensorflow():
    import tensorflow as tf

    from soundpred.features import htk_mel_matrix

    ref = tf.signal.linear_to_mel_weight_matrix(64, 257, 16000, 125.0, 7500.0).numpy()
    np.testing.assert_allclose(htk_mel_matrix(16000, 512, 64, 125.0, 7500.0), ref, atol=1e-5)


def test_front_end_matches_float_reference():
    import tensorflow as tf

    from soundpred.features import LogMel
    from soundpred.yamnet import YAMNET_FRONTEND

    x = _clips()[:5]
    ref = np.log(tf.matmul(tf.abs(tf.signal.stft(x, 400, 160, 512)),
                           tf.signal.linear_to_mel_weight_matrix(64, 257, 16000, 125.0, 7500.0)).numpy() + 0.001)
    got = np.asarray(LogMel(YAMNET_FRONTEND.to_dict())(x))[..., 0]
    assert got.shape == (5, 96, 64) == ref.shape
    np.testing.assert_allclose(got, ref, atol=1e-2)  # float32 sums in another order: measured <= 0.005


@needs_yamnet
def test_front_end_matches_tflite_patch_in_loud_bins(yamnet):
    model, it = yamnet
    x = _clips()
    ours = np.asarray(model.get_layer("logmel")(x))[..., 0]
    for i, clip in enumerate(x):
        _, patch = _tflite(it, clip)
        loud = patch > patch.max() - np.log(10.0)  # within 20 dB of the peak (magnitude)
        assert np.abs(ours[i] - patch)[loud].max() < 0.3, i


@needs_yamnet
@needs_starter
def test_network_matches_tflite_on_its_own_patch(yamnet):
    import keras

    model, it = yamnet
    inp = keras.Input((96, 64, 1))
    h = inp
    for layer in model.layers[2:]:
        h = layer(h)
    body = keras.Model(inp, h)
    x = _clips()
    same_top, errors = [], []
    for clip in x:
        scores, patch = _tflite(it, clip)
        ours = np.asarray(body.predict_on_batch(patch.reshape(1, 96, 64, 1)))[0]
        errors.append(np.abs(ours - scores).max())
        same_top.append(ours.argmax() == scores.argmax())
    assert len(x) >= 35
    assert np.max(errors) < 0.03, np.max(errors)
    assert np.mean(same_top) >= 0.95


@needs_yamnet
def test_importer_refuses_a_missing_layer(yamnet):
    from train.import_yamnet import DEFAULT_TFLITE, load_weights, tflite_weights
    from soundpred.yamnet import build_yamnet

    weights = tflite_weights(DEFAULT_TFLITE)
    assert set(weights) >= {"layer1", "layer14_pw", "audioset"} and len(weights) == 28
    del weights["layer7_dw"]
    with pytest.raises(ValueError, match="layer7_dw"):
        load_weights(build_yamnet(), weights)


def test_label_head_starts_as_audioset_rows():
    from soundpred.labels import FSD_LABELS
    from soundpred.yamnet import UNMAPPED_BIAS, audioset_index, build_yamnet, init_label_head, read_class_map

    names = read_class_map(YAMNET / "yamnet_class_map.csv") if YAMNET.is_dir() else None
    if names is None:
        pytest.skip("needs the class map")
    index = audioset_index(FSD_LABELS, names)
    assert len(index) == 40 and "Oboe" not in index and names[index["Violin_or_fiddle"]] == "Violin, fiddle"
    model = build_yamnet(41)
    assert init_label_head(model, list(FSD_LABELS), names) == ["Oboe"]
    w, b = model.get_layer("label_logits").get_weights()
    w_as, b_as = model.get_layer("audioset").get_weights()
    j = FSD_LABELS.index("Applause")
    np.testing.assert_array_equal(w[:, j], w_as[:, index["Applause"]])
    assert b[FSD_LABELS.index("Oboe")] == UNMAPPED_BIAS and not w[:, FSD_LABELS.index("Oboe")].any()


def test_frozen_rows_put_back_only_the_named_labels(classifier_bundle):
    """train.retention's "freeze those rows" variant: the named labels' rows are the AudioSet
    rows again, every other weight is the fine-tuned one, and the original is untouched."""
    from soundpred.yamnet import audioset_index
    from train.retention import frozen_rows

    b = classifier_bundle
    before = [np.array(v) for v in b.model.get_layer("label_logits").get_weights()]
    variant = frozen_rows(b, ["Applause"])
    w, bias = variant.model.get_layer("label_logits").get_weights()
    w_as, b_as = variant.model.get_layer("audioset").get_weights()
    j, k = b.labels.index("Applause"), audioset_index(b.labels, b.meta["audioset_labels"])["Applause"]
    np.testing.assert_array_equal(w[:, j], w_as[:, k])
    assert bias[j] == b_as[k]
    others = [i for i in range(len(b.labels)) if i != j]
    np.testing.assert_array_equal(w[:, others], before[0][:, others])
    assert not np.array_equal(before[0][:, j], w[:, j])  # fine-tuning had moved it
    np.testing.assert_array_equal(b.model.get_layer("label_logits").get_weights()[0], before[0])


@needs_yamnet
def test_distance_probe_reads_yamnet_embedding_without_the_level():
    """``train.probe_yamnet_distance`` gives YAMNet's own embedding (its AudioSet head on it
    gives YAMNet's scores) and the middle layer's statistics, the same at any input level."""
    from train.import_yamnet import DEFAULT_TFLITE, build_audioset_model
    from train.probe_yamnet_distance import yamnet_features

    x = _clips()[:3]
    emb, mid = yamnet_features(x)
    assert emb.shape == (3, 1024) and mid.shape == (3, 512) and np.all(mid[:, 256:] >= 0)
    emb_loud, mid_loud = yamnet_features(20 * x)
    np.testing.assert_allclose(emb_loud, emb, rtol=1e-3, atol=2e-4)  # float32 rounding only
    np.testing.assert_allclose(mid_loud, mid, rtol=1e-3, atol=2e-4)
    model = build_audioset_model(DEFAULT_TFLITE)
    head = model.get_layer("audioset")
    rms = np.sqrt(np.mean(x.astype(np.float64) ** 2, axis=1, keepdims=True))
    np.testing.assert_allclose(np.asarray(head(emb)), np.asarray(model(0.05 * x / rms)), atol=1e-5)
    assert not np.allclose(emb[0], emb[1])
