"""Network builders. Every model takes a waveform ``(batch, samples)`` at the front end's rate."""
from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from .features import LogMel, SpecAugment
from .distance import LOG_SIGMA_RANGE
from .params import FrontEnd

__all__ = ["build_classifier", "build_student", "build_distance", "build_distance_ensemble", "GaussianPool", "BandStats",
           "hinted_weights", "takes_room_hint", "STUDENT_FRONTEND", "DISTANCE_FRONTEND"]

#: Keras' default (0.99) lets the moving statistics lag far behind on a few hundred
#: steps per run, and the model then predicts one class in inference; 0.9 tracks them.
BN_MOMENTUM = 0.9


def _conv_block(x, filters, n_convs, name):
    for i in range(n_convs):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv{i}")(x)
        x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_bn{i}")(x)
        x = layers.ReLU(name=f"{name}_relu{i}")(x)
    return layers.AveragePooling2D(2, name=f"{name}_pool")(x)


def _cnn_trunk(x, fe: FrontEnd, width: int, spec_augment: bool):
    if spec_augment:
        x = SpecAugment(time_width=max(1, fe.frames(fe.window_samples) // 10),
                        freq_width=max(1, fe.n_mels // 8), name="specaugment")(x)
    x = layers.BatchNormalization(axis=2, momentum=BN_MOMENTUM, name="bn_in")(x)  # per mel band
    for i, mult in enumerate((1, 2, 4, 8)):
        x = _conv_block(x, width * mult, 2 if i else 1, f"block{i + 1}")
    x = keras.ops.mean(x, axis=2)  # over frequency -> (batch, time, channels)
    return layers.Concatenate(name="pool")([layers.GlobalAveragePooling1D()(x), layers.GlobalMaxPooling1D()(x)])


def build_classifier(fe: FrontEnd, n_classes: int, *, width: int = 24, dropout: float = 0.3,
                     spec_augment: bool = True) -> keras.Model:
    """Log-mel CNN: 4 blocks of (conv3x3-BN-ReLU) x2 with 2x2 average pooling, channels
    ``width`` x (1, 2, 4, 8); then frequency mean, time mean+max pooling (as in the
    DCASE/PANNs CNNs), dropout and a softmax over ``n_classes``.

    The log-mel layer is named ``"logmel"``; SpecAugment acts only in training.
    """
    wave = keras.Input(shape=(None,), name="waveform")
    x = LogMel(fe.to_dict(), name="logmel")(wave)
    x = _cnn_trunk(x, fe, width, spec_augment)
    x = layers.Dropout(dropout)(x)
    x = layers.Dense(width * 8, activation="relu", name="embedding")(x)
    x = layers.Dropout(dropout)(x)
    out = layers.Dense(n_classes, activation="softmax", name="scores")(x)
    return keras.Model(wave, out, name="soundpred_classifier")


#: The seed project's features: 40 MFCC over 2 s of audio (it loaded at 44.1 kHz; the
#: MFCCs are computed here at 22.05 kHz with librosa's default 2048/512 STFT).
STUDENT_FRONTEND = FrontEnd(sample_rate=22050, n_fft=2048, win_length=2048, hop_length=512,
                            n_mels=128, fmin=20.0, fmax=11025.0, n_mfcc=40, window_seconds=2.0)


def build_student(fe: FrontEnd, n_classes: int) -> keras.Model:
    """The seed notebook's design: 4 conv blocks with batch norm on 40 MFCC over 2 s,
    dense 64, softmax. Kept as the baseline every classifier is compared with."""
    wave = keras.Input(shape=(None,), name="waveform")
    x = LogMel(fe.to_dict(), name="logmel")(wave)
    for i, f in enumerate((16, 32, 64, 128)):
        x = layers.Conv2D(f, 2, padding="same", activation="relu", name=f"conv{i}")(x)
        x = layers.MaxPooling2D(2, padding="same", name=f"pool{i}")(x)
        x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"bn{i}")(x)
        x = layers.Dropout(0.2)(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(64, activation="relu")(x)
    out = layers.Dense(n_classes, activation="softmax", name="scores")(x)
    return keras.Model(wave, out, name="student_mfcc_cnn")


#: Distance front end: the classifier's log-mel, over 4 s (long enough to hear reverberant decays).
DISTANCE_FRONTEND = FrontEnd(window_seconds=4.0)


@keras.saving.register_keras_serializable(package="soundpred")
class BandStats(layers.Layer):
    """Log-mel ``(batch, frames, mels, 1)`` -> ``(batch, 3 * mels)``: per mel band, the mean of
    its loudest ``top`` share of frames, that minus the band's mean over time, and the mean
    minus the mean of its quietest ``top`` share. The first is the spectral envelope of what
    sounds loudest (mostly the source's direct sound, coloured by the room), the other two how
    far each band rises above its own reverberant and noise floor. No weights; the log-mel
    is already relative to the clip's peak, so no level reaches the network."""

    def __init__(self, top: float = 0.1, **kwargs):
        super().__init__(**kwargs)
        self.top = float(top)

    def call(self, x):
        bands = ops.transpose(x[..., 0], (0, 2, 1))  # (batch, mels, frames)
        frames = ops.cast(ops.shape(bands)[-1], "float32")
        k = ops.cast(ops.maximum(1.0, ops.round(self.top * frames)), "int32")
        loud = ops.mean(ops.top_k(bands, k, sorted=False)[0], axis=-1)
        quiet = -ops.mean(ops.top_k(-bands, k, sorted=False)[0], axis=-1)
        mean = ops.mean(bands, axis=-1)
        return ops.concatenate([loud, loud - mean, mean - quiet], axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 3 * input_shape[2])

    def get_config(self):
        return {**super().get_config(), "top": self.top}


def build_distance(fe: FrontEnd, *, width: int = 24, dropout: float = 0.2, room_hint: bool = False,
                   band_stats: bool = False) -> keras.Model:
    """Waveform -> ``(batch, 2)``: the mean and the log standard deviation of log-distance
    (natural log of metres), trained with a Gaussian negative log-likelihood.

    ``room_hint``: a second input, ``(batch, 4)`` one-hot over ``soundpred.rooms.ROOM_KINDS``
    (auto, small, medium, large), joins the pooled features before the head, so the same
    reverberation can mean a different distance in a booth and in a hall.

    ``band_stats``: a second view of the log-mel at full frequency resolution
    (:class:`BandStats`: the loudest frames' envelope and each band's rise above its floor),
    which the CNN's frequency pooling loses: through a small dense layer it is *added* to the
    embedding, by a layer initialised at zero, so that the network starts as the one without it
    (``train.distance --init`` from a plain model) and learns how far the source's own spectrum
    should move the estimate. The acoustics head of training reads the sum (``with_bands``)."""
    wave = keras.Input(shape=(None,), name="waveform")
    mel = LogMel(fe.to_dict(), name="logmel")(wave)
    x = _cnn_trunk(mel, fe, width, spec_augment=True)
    x = layers.Dropout(dropout)(x)
    inputs = wave
    if room_hint:
        hint = keras.Input(shape=(4,), name="room_hint")
        x = layers.Concatenate(name="with_room_hint")([x, layers.Dense(16, activation="relu", name="hint_embedding")(hint)])
        inputs = [wave, hint]
    x = layers.Dense(64, activation="relu", name="embedding")(x)
    if band_stats:
        b = layers.BatchNormalization(momentum=BN_MOMENTUM, name="bands_bn")(BandStats(name="band_stats")(mel))
        b = layers.Dense(32, activation="relu", name="bands_dense")(b)
        b = layers.Dense(64, kernel_initializer="zeros", name="bands_mix")(b)
        x = layers.Add(name="with_bands")([x, b])
    out = layers.Dense(2, name="log_distance", bias_initializer=keras.initializers.Constant([0.7, -0.5]))(x)
    return keras.Model(inputs, out, name="soundpred_distance")


@keras.saving.register_keras_serializable(package="soundpred")
class GaussianPool(layers.Layer):
    """Several ``(batch, 2)`` beliefs ``(mu, log_sigma)`` over log-distance -> one: the Gaussian
    with the mean and variance of their mixture (the members' spread plus their disagreement),
    its standard deviation times ``sigma_scale`` (a calibration fitted on validation rooms; 1: none).

    The mixture is equal, or has ``member_weights`` (one per belief, summing to 1), unless
    ``hinted_weights`` is given: then the last input is the ``(batch, 4)`` room hint, and an
    example whose room kind is given (not "auto") mixes the beliefs with those weights, so that
    the members that can use the kind count for more when there is one (``member_weights``, or equal
    ones, then hold for "auto" only). ``hinted_weights``: one weight per belief (the same for
    every kind), or one such list per kind (small, medium, large: ``soundpred.rooms.ROOM_KINDS[1:]``);
    each sums to 1."""

    def __init__(self, sigma_scale: float = 1.0, hinted_weights: list | None = None,
                 member_weights: list | None = None, **kwargs):
        super().__init__(**kwargs)
        self.sigma_scale = float(sigma_scale)
        self.member_weights = w = None if member_weights is None else [float(v) for v in member_weights]
        if w is not None and not (min(w) >= 0 and abs(sum(w) - 1.0) <= 1e-6):  # NaN fails too
            raise ValueError(f"member_weights must be >= 0 and sum to 1, not {w}")
        self.hinted_weights = None if hinted_weights is None else (
            [[float(w) for w in row] for row in hinted_weights] if isinstance(hinted_weights[0], (list, tuple))
            else [float(w) for w in hinted_weights])
        if self.hinted_weights is not None:
            rows = self._kind_rows()
            if len(rows) != 3 or any(min(r) < 0 or abs(sum(r) - 1.0) > 1e-6 or len(r) != len(rows[0]) for r in rows):
                raise ValueError("hinted_weights must be one list, or one per kind (3), of weights >= 0 "
                                 f"summing to 1, not {self.hinted_weights}")
        if w is not None and self.hinted_weights is not None and len(w) != len(self._kind_rows()[0]):
            raise ValueError(f"{len(w)} member weights but {len(self._kind_rows()[0])} hinted weights per kind")

    def _kind_rows(self) -> list[list[float]]:
        """``hinted_weights`` as one row per kind (small, medium, large)."""
        w = self.hinted_weights
        return w if isinstance(w[0], list) else [w] * 3

    def call(self, inputs):
        beliefs = inputs if self.hinted_weights is None else inputs[:-1]
        mus = ops.stack([b[:, 0] for b in beliefs], axis=0)  # (members, batch)
        variances = ops.stack([ops.exp(2.0 * ops.clip(b[:, 1], *LOG_SIGMA_RANGE)) for b in beliefs], axis=0)
        base = (ops.convert_to_tensor(np.array(self.member_weights, np.float32)[:, None], dtype=mus.dtype)
                if self.member_weights is not None else 1.0 / len(beliefs))  # (members, 1) or a number
        if self.hinted_weights is None:
            weights = base
        else:
            hint = ops.cast(inputs[-1], mus.dtype)  # one-hot over auto, small, medium, large
            rows = ops.convert_to_tensor(np.array(self._kind_rows(), np.float32), dtype=mus.dtype)  # (3, members)
            # "auto" (hint[:, 0] = 1): the base weights; a kind: that kind's row
            weights = ops.expand_dims(hint[:, 0], 0) * base + ops.transpose(ops.matmul(hint[:, 1:], rows))
        mu = ops.sum(weights * mus, axis=0)
        variance = ops.maximum(ops.sum(weights * (variances + mus * mus), axis=0) - mu * mu, 1e-8)
        return ops.stack([mu, 0.5 * ops.log(variance) + float(np.log(self.sigma_scale))], axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0][0], 2)

    def get_config(self):
        config = {**super().get_config(), "sigma_scale": self.sigma_scale, "hinted_weights": self.hinted_weights}
        return config if self.member_weights is None else {**config, "member_weights": self.member_weights}


def hinted_weights(takes_hint: list[bool], hint_share: float) -> list[float]:
    """Mixture weights for examples with a room kind: the members that take the hint share
    ``hint_share`` equally, the others the rest (all of it goes to the hint members if every
    member takes it)."""
    k = sum(takes_hint)
    if not k:
        raise ValueError("no member takes the room hint")
    if not 0.0 <= hint_share <= 1.0:
        raise ValueError(f"hint_share must be within [0, 1], not {hint_share}")
    if k == len(takes_hint):
        return [1.0 / k] * k
    rest = (1.0 - hint_share) / (len(takes_hint) - k)
    return [hint_share / k if t else rest for t in takes_hint]


def build_distance_ensemble(members: list[keras.Model], *, sigma_scale: float = 1.0,
                            hint_share: float | None = None, kind_weights: list | None = None,
                            weights: list | None = None) -> keras.Model:
    """One model from several distance models: one ``logmel`` layer per front end among them
    (``logmel``, then ``logmel_1``, ... : members of one front end share it), each member's
    network after its own, and a :class:`GaussianPool` of their beliefs. The front ends may
    differ (the STFT hop, say) but must read one sample rate and window length.
    If any member takes the room hint, so does the ensemble (members without it ignore it).
    ``hint_share``: the total weight of the hint-taking members when a room kind is given
    (None: every member counts the same, as with "auto"). ``kind_weights`` instead: the members'
    weights when a room kind is given, one list per kind (small, medium, large) or one for all
    (``GaussianPool``'s ``hinted_weights``). ``weights``: the members' weights with "auto" (and
    with a kind too when neither of those is given); None: equal."""
    if hint_share is not None and kind_weights is not None:
        raise ValueError("give hint_share or kind_weights, not both")
    if weights is not None and len(weights) != len(members):
        raise ValueError(f"{len(weights)} weights for {len(members)} members")
    fes = [m.get_layer("logmel").fe for m in members]
    if any((fe.sample_rate, fe.window_samples) != (fes[0].sample_rate, fes[0].window_samples) for fe in fes):
        raise ValueError("ensemble members must read one sample rate and window length")
    distinct = list(dict.fromkeys(fes))
    wave = keras.Input(shape=(None,), name="waveform")
    features = [LogMel(fe.to_dict(), name="logmel" if j == 0 else f"logmel_{j}")(wave)
                for j, fe in enumerate(distinct)]
    takes_hint = [takes_room_hint(m) for m in members]
    hint = keras.Input(shape=(4,), name="room_hint") if any(takes_hint) else None
    beliefs = []
    for i, (m, fe) in enumerate(zip(members, fes)):
        inner, x = m.get_layer("logmel").output, features[distinct.index(fe)]
        if takes_room_hint(m):
            net = keras.Model([inner, m.inputs[1]], m.output, name=f"member{i}")
            beliefs.append(net([x, hint]))
        else:
            beliefs.append(keras.Model(inner, m.output, name=f"member{i}")(x))
    if hint_share is not None:
        kind_weights = hinted_weights(takes_hint, hint_share)
    if kind_weights is None:
        out = GaussianPool(sigma_scale, member_weights=weights, name="log_distance")(beliefs)
    elif hint is None:
        raise ValueError("kind_weights need a member that takes the room kind")
    else:
        out = GaussianPool(sigma_scale, kind_weights, weights, name="log_distance")([*beliefs, hint])
    return keras.Model(wave if hint is None else [wave, hint], out, name="soundpred_distance_ensemble")


def member_frontends(ensemble: keras.Model) -> list:
    """The front end (:class:`FrontEnd`) each member network of a
    :func:`build_distance_ensemble` model reads: that of the ``logmel`` layer feeding it. It
    walks Keras 3's functional graph (``_inbound_nodes``, ``_keras_history``: not public API);
    ``tests/test_train.py`` checks it on a saved two-hop ensemble and on the default."""
    fronts = []
    for layer in ensemble.layers:
        if isinstance(layer, keras.Model):
            sources = [t._keras_history.operation for t in layer._inbound_nodes[0].input_tensors]
            fronts.append(next(op.fe for op in sources if isinstance(op, LogMel)))
    return fronts


def takes_room_hint(model: keras.Model) -> bool:
    """Whether a distance model has the room-hint input of :func:`build_distance`."""
    return len(model.inputs) == 2


@keras.saving.register_keras_serializable(package="soundpred")
def gaussian_nll(y_true, y_pred):
    """Gaussian NLL of ``y_true[:, 0]`` (log-distance) under ``(mu, log_sigma) = y_pred``."""
    mu, log_sigma = y_pred[:, 0], keras.ops.clip(y_pred[:, 1], *LOG_SIGMA_RANGE)
    z = (y_true[:, 0] - mu) * keras.ops.exp(-log_sigma)
    return 0.5 * z * z + log_sigma
