"""The distance model: bundle round trip, Predictor integration, and a simulated sweep."""
from __future__ import annotations

from dataclasses import replace

import keras
import numpy as np
import pytest
import soundfile as sf

from soundpred.bundle import load_bundle, save_bundle
from soundpred.hub import resolve
from soundpred.models import DISTANCE_FRONTEND, build_distance
from soundpred.predict import Predictor
from soundpred.rooms import HYBRID, SHIFTED, TRAIN, sample_room, simulate_rir, synthesize

from .conftest import ROOT, needs_ffmpeg, tone

SR = 16000


def test_distance_bundle_round_trip(tmp_path):
    keras.utils.set_random_seed(0)
    model = build_distance(DISTANCE_FRONTEND, width=4)
    folder = save_bundle(model, tmp_path / "d", frontend=DISTANCE_FRONTEND, task="distance",
                         metrics={"held-out rooms": {"model": {"mae_m": 1.0}}})
    b = load_bundle(folder)
    assert b.task == "distance" and b.labels == [] and b.frontend == DISTANCE_FRONTEND
    x = np.random.default_rng(0).standard_normal((2, DISTANCE_FRONTEND.window_samples)).astype(np.float32)
    np.testing.assert_array_equal(np.asarray(b.model.predict_on_batch(x)), np.asarray(model.predict_on_batch(x)))


def test_room_hint_reaches_the_model(tmp_path, classifier_bundle):
    """A distance model with the room-hint input, saved and loaded as a bundle: the Predictor
    feeds the kind it is given (different kinds, different answers; the kind is reported), an
    unknown kind is refused, and a model without the input says the hint was ignored."""
    from soundpred.audio import AudioError
    from soundpred.models import takes_room_hint
    from soundpred.rooms import kind_one_hot

    keras.utils.set_random_seed(0)
    model = build_distance(DISTANCE_FRONTEND, width=4, room_hint=True)
    head = model.get_layer("hint_embedding")  # make the hint matter for this untrained model
    head.set_weights([np.eye(4, 16, dtype=np.float32) * 5, np.zeros(16, np.float32)])
    b = load_bundle(save_bundle(model, tmp_path / "hint", frontend=DISTANCE_FRONTEND, task="distance"))
    assert takes_room_hint(b.model) and kind_one_hot(["large"]).tolist() == [[0, 0, 0, 1]]
    p = Predictor(classifier_bundle, b)
    y = 0.1 * np.random.default_rng(0).standard_normal(SR * 5).astype(np.float32)
    small, large = p.predict((SR, y), room="small"), p.predict((SR, y), room="large")
    assert small.room == "small" and small.to_json()["room"] == "small"
    assert small.distance_m != pytest.approx(large.distance_m, rel=1e-4)
    with pytest.raises(AudioError, match="Unknown room kind"):
        p.predict((SR, y), room="cathedral")
    no_hint = load_bundle(save_bundle(build_distance(DISTANCE_FRONTEND, width=4), tmp_path / "plain",
                                      frontend=DISTANCE_FRONTEND, task="distance"))
    plain = Predictor(classifier_bundle, no_hint).predict((SR, y), room="small")
    assert plain.room == "auto" and any("takes no room kind" in w for w in plain.warnings)


@pytest.fixture(scope="module")
def distance_predictor(classifier_bundle):
    bundle, warning = resolve(None, "distance")
    assert warning is None and bundle.source == "embedded default"
    return Predictor(classifier_bundle, bundle)


def test_predictor_reports_distance_and_interval(distance_predictor):
    rng = np.random.default_rng(0)
    h = simulate_rir(sample_room(TRAIN, rng, distance=2.0), TRAIN, sr=SR, rng=rng)
    y, _ = synthesize(rng.standard_normal(SR * 8).astype(np.float32), h, TRAIN, n=SR * 6, sr=SR, rng=rng)
    pred = distance_predictor.predict((SR, y))
    lo, hi = pred.distance_interval_m
    assert 0 < lo < pred.distance_m < hi
    assert pred.to_json()["distance_m"] == pytest.approx(pred.distance_m, abs=1e-3)
    assert pred.models["distance"]["source"] == "embedded default"


def test_labels_from_the_last_seconds_distance_from_all(distance_predictor):
    """``label_seconds`` (the live tab): labels, verdict and timeline come from the end of the
    audio only, the distance from all of it; a silent end is refused even after sound."""
    from soundpred.audio import AudioError, load

    far, near = (load(ROOT / "examples" / f"speech_{d}m_meeting_room.wav", sr=SR) for d in (8, 1))
    y = np.concatenate([far, near])
    end = y[-4 * SR:]
    live = distance_predictor.predict((SR, y), spectrogram=False, label_seconds=4.0)
    whole, tail = (distance_predictor.predict((SR, x), spectrogram=False) for x in (y, end))
    np.testing.assert_allclose(live.scores, tail.scores, atol=1e-6)
    assert not np.allclose(whole.scores, tail.scores, atol=1e-3)  # the test can tell them apart
    assert live.window_times[-1] <= 4.0 and live.duration_s == pytest.approx(len(y) / SR)
    assert live.distance_m == pytest.approx(whole.distance_m, rel=1e-6)
    assert live.distance_interval_m == pytest.approx(whole.distance_interval_m, rel=1e-6)
    assert abs(whole.distance_m - tail.distance_m) > 1e-3
    with pytest.raises(AudioError, match="No sound detected"):
        distance_predictor.predict((SR, np.concatenate([y, np.zeros(5 * SR, np.float32)])), label_seconds=4.0)
    with pytest.raises(ValueError):
        distance_predictor.predict((SR, y), label_seconds=0)


def test_short_and_long_inputs(distance_predictor):
    rng = np.random.default_rng(1)
    noise = 0.1 * rng.standard_normal(SR * 30).astype(np.float32)
    for n in (SR // 2, SR * 30):  # shorter than one window (zero-padded) and many windows
        d, (lo, hi) = distance_predictor.distance_for_waveform(noise[:n])
        assert np.isfinite(d) and 0 < lo < d < hi


def test_the_sounding_span_and_the_fill_of_a_short_recording(distance_predictor):
    """``sounding_span``: from the first to the last 100-ms block within 40 dB of the loudest, a
    block to spare either side; silence and a floor 60 dB down go, a quiet stretch inside stays.
    ``distance_windows(fill=)``: a recording shorter than the window is padded with silence
    (``zeros``), repeated (``loop``) or heard at its own length (``own``), each the model run
    on that one input; ``trim`` hears the span only; an unknown fill is refused."""
    from soundpred.predict import sounding_span
    from soundpred.rooms import kind_one_hot

    rng = np.random.default_rng(3)
    sound = (0.1 * rng.standard_normal(SR * 2)).astype(np.float32)
    sound[SR // 2:SR] *= 0.05  # 26 dB down: kept
    floor = (1e-4 * rng.standard_normal(SR)).astype(np.float32)  # 60 dB down: goes
    y = np.concatenate([np.zeros(SR, np.float32), floor, sound, floor, np.zeros(SR // 2, np.float32)])
    span = sounding_span(y, SR)
    assert (span.start, span.stop) == (2 * SR - SR // 10, 4 * SR + SR // 10)
    assert sounding_span(sound, SR) == slice(0, len(sound))

    p = distance_predictor
    win = p.distance.frontend.window_samples
    short = sound[:SR]

    def direct(x):  # the model itself on one input, in auto
        inputs = [x[None], kind_one_hot(["auto"])] if p.takes_room_hint else x[None]
        return p.distance.model.predict_on_batch(inputs)[0, 0]

    for fill, heard in (("zeros", np.pad(short, (0, win - SR))), ("loop", np.resize(short, win)), ("own", short)):
        mu, _ = p.distance_windows(short, fill=fill)
        assert mu[0] == pytest.approx(direct(heard), abs=1e-5), fill
    trimmed, _ = p.distance_windows(y, trim=True, fill="own")
    assert trimmed[0] == pytest.approx(direct(y[span]), abs=1e-5)
    with pytest.raises(ValueError, match="fill"):
        p.distance_windows(short, fill="mirror")


def test_the_sounding_span_above_the_noise_floor(distance_predictor):
    """``sounding_span(rise_db=)``: pauses that hold the room's noise 20 dB under the sound pass
    the 40 dB gate but go when a block must stand ``rise_db`` above the recording's floor (its
    10th-percentile block); a recording with no pauses (no block that far above its floor) keeps
    every block; ``at_least`` grows a shorter span evenly, within the recording.
    ``distance_windows(trim=True, rise_db=)`` hears that span only, and with ``whole_window`` at
    least a window of it."""
    from soundpred.predict import SPAN_RISE_DB, sounding_span

    rng = np.random.default_rng(4)
    sound = (0.1 * rng.standard_normal(SR * 4)).astype(np.float32)
    noise = (0.01 * rng.standard_normal(SR * 6)).astype(np.float32)
    y = np.concatenate([noise[:3 * SR], sound, noise[3 * SR:]])
    assert sounding_span(y, SR) == slice(0, len(y))  # the gate alone keeps the noise
    span = sounding_span(y, SR, rise_db=SPAN_RISE_DB)
    assert (span.start, span.stop) == (3 * SR - SR // 10, 7 * SR + SR // 10)
    for steady in (sound, noise, sound[:SR // 3]):
        assert sounding_span(steady, SR, rise_db=SPAN_RISE_DB) == slice(0, len(steady))
    # at_least: a short span grows evenly on both sides, within the recording
    assert sounding_span(y, SR, rise_db=SPAN_RISE_DB, at_least=6 * SR) == slice(2 * SR, 8 * SR)
    assert sounding_span(y[:8 * SR], SR, rise_db=SPAN_RISE_DB, at_least=6 * SR) == slice(2 * SR, 8 * SR)
    assert sounding_span(y[2 * SR:], SR, rise_db=SPAN_RISE_DB, at_least=6 * SR) == slice(0, 6 * SR)
    assert sounding_span(y, SR, rise_db=SPAN_RISE_DB, at_least=20 * SR) == slice(0, len(y))
    p = distance_predictor
    mu, _ = p.distance_windows(y, trim=True, rise_db=SPAN_RISE_DB)
    np.testing.assert_allclose(mu, p.distance_windows(y[span])[0], atol=1e-5)
    assert len(mu) != len(p.distance_windows(y)[0])
    win = p.distance.frontend.window_samples
    clap = np.concatenate([noise[:3 * SR], sound[:SR], noise[3 * SR:]])  # 1 s of sound in 7 s: under a window
    grown = sounding_span(clap, SR, rise_db=SPAN_RISE_DB, at_least=win)
    assert grown.stop - grown.start == win
    mu, _ = p.distance_windows(clap, trim=True, rise_db=SPAN_RISE_DB, whole_window=True)
    np.testing.assert_allclose(mu, p.distance_windows(clap[grown])[0], atol=1e-5)


def test_pooling_the_windows(distance_predictor):
    """``pool_distance``: ``mean`` averages the windows' log-distance means with equal weights;
    ``precision`` weights them by ``1 / sigma²``, so a window the network is sure of pulls the
    estimate to itself; both average the variances (the interval does not shrink with more
    windows); an unknown pool is refused. On a real recording both pools stay in its windows'
    range."""
    p = distance_predictor
    mu, sigma = np.log([1.0, 4.0]), np.array([0.2, 0.8])
    mean, prec = (p.pool_distance(mu, sigma, pool=k) for k in ("mean", "precision"))
    shrink = np.exp(-p._shrink * np.mean(sigma ** 2))  # the point estimate's shift (1 when the median)
    assert mean[0] == pytest.approx(2.0 * shrink, rel=1e-9)  # geometric mean of 1 m and 4 m
    w = sigma ** -2.0
    assert prec[0] == pytest.approx(np.exp(np.sum(w * mu) / np.sum(w)) * shrink, rel=1e-9)
    assert prec[0] / shrink < 1.1  # near the sure window's 1 m
    width = [np.log(hi / lo) for _, (lo, hi) in (mean, prec)]
    assert width[0] == pytest.approx(width[1])  # same spread, another centre
    one = p.pool_distance(mu[:1], sigma[:1])
    assert np.log(one[1][1] / one[1][0]) < width[0]  # the unsure window widens the interval
    with pytest.raises(ValueError, match="pool"):
        p.pool_distance(mu, sigma, pool="median")
    y = 0.1 * np.random.default_rng(4).standard_normal(SR * 12).astype(np.float32)
    y[: SR * 4] *= 0.05  # a quiet start: windows differ
    m, s = p.distance_windows(y)
    assert m.shape == s.shape and len(m) >= 3 and np.all(s > 0)
    for pool in ("mean", "precision"):
        d, (lo, hi) = p.distance_for_waveform(y, pool=pool)
        assert np.exp(m.min()) * 0.5 < d < np.exp(m.max()) * 1.01 and lo < d < hi


def test_distance_windows_can_be_chosen(distance_predictor):
    """``distance_for_waveform(window=, hop=)``: one window over the whole input is the model run
    on that input once; a hop of a whole window runs fewer windows than the default half-window
    hop and gives another estimate; the default is the bundle's window every half window. Each
    batch holds at most as much audio as ``batch_size`` classifier windows (the memory bound:
    docs/reliability.md), so the 4 s windows run 3 at a time."""
    y = 0.1 * np.random.default_rng(3).standard_normal(SR * 10).astype(np.float32)
    model = distance_predictor.distance.model
    win = distance_predictor.distance.frontend.window_samples
    calls = []
    original = model.predict_on_batch
    # the default takes the room hint: inputs are [waveforms, hints]
    model.predict_on_batch = lambda x: calls[-1].append(np.shape(x[0])) or original(x)
    try:
        runs = {}
        for name, kw in (("whole", {"window": len(y), "hop": len(y)}), ("default", {}),
                         ("explicit", {"window": win, "hop": win // 2}), ("no_overlap", {"window": win, "hop": win})):
            calls.append([])
            runs[name], _ = distance_predictor.distance_for_waveform(y, **kw)
    finally:
        del model.predict_on_batch
    whole, default, explicit, no_overlap = runs.values()
    batches = dict(zip(runs, calls))
    assert batches["whole"] == [(1, len(y))]
    # windows at 0, 2, 4 and 6 s, three at a time (16 classifier windows of 0.975 s hold 15.6 s)
    assert batches["default"] == batches["explicit"] == [(3, win), (1, win)]
    assert sum(n for n, _ in batches["no_overlap"]) == 3  # at 0, 4 and 6 s
    assert default == explicit and no_overlap != default
    from soundpred.rooms import kind_one_hot

    mu, log_sigma = np.asarray(original([y[None], kind_one_hot(["auto"])]))[0]
    assert abs(np.log(whole) - (mu - distance_predictor._shrink * np.exp(2 * log_sigma))) < 1e-4


def test_input_length_probe_reads_window_specs():
    from train.probe_input_length import parse_window

    assert parse_window("all", 64000, SR) == (None, None)
    assert parse_window("4:4", 64000, SR) == (64000, 64000)
    assert parse_window("8", 64000, SR) == (128000, 64000)
    with pytest.raises(ValueError):
        parse_window("four", 64000, SR)


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    """Dry espeak-ng speech generated here (the sources the rooms are built for)."""
    from soundpred import audio
    from train.dry_sources import make_speech

    return [audio.load(p, sr=SR) for p in make_speech(tmp_path_factory.mktemp("speech"), n=4, seed=123)]


def sweep(predictor, speech, settings, room_kind_given=False):
    """Geometric means of the estimates for speech at 0.7 m and at 8 m in 8 random rooms each
    (``room_kind_given``: the Predictor is told each room's kind)."""
    from soundpred.rooms import room_kind

    rng = np.random.default_rng(42)
    near, far = [], []
    for i in range(8):
        for d, out in ((0.7, near), (8.0, far)):
            room = sample_room(settings, rng, distance=d)
            h = simulate_rir(room, settings, sr=SR, rng=rng)
            y, _ = synthesize(speech[i % len(speech)], h, settings, n=SR * 4, sr=SR, rng=rng)
            kind = str(room_kind(np.prod(room["dims"]))) if room_kind_given else "auto"
            out.append(predictor.distance_for_waveform(y, room=kind)[0])
    return float(np.exp(np.mean(np.log(near)))), float(np.exp(np.mean(np.log(far))))


@pytest.mark.slow
@pytest.mark.parametrize("settings", [TRAIN, SHIFTED, HYBRID])
def test_sweep_far_sources_get_larger_estimates(distance_predictor, speech, settings):
    """Speech at 0.7 m and at 8 m in random rooms: on average the far sources are estimated
    farther (by at least a quarter, in the geometric mean). The default ensemble leans on its
    members' prior (log-normal around 2.5 m), so estimates move far less than the true 11x:
    session 39's default gives 1.48 -> 3.06 m (train settings, x2.07), 1.26 -> 2.62 m (shifted,
    x2.08) and 1.16 -> 2.98 m (hybrid, x2.57) here, x2.38 / 2.74 / 3.02 told the room's kind;
    session 35's x1.95 / 1.70 / 2.35 (told the kind x2.66 / 2.83 / 3.60), session 32's x1.90 /
    1.63 / 2.29 (told the kind x2.59 / 2.66 / 3.48), the default before it
    x1.63 / 1.38 / 2.00, the single model before that x1.36 / 1.20 / 1.63."""
    near, far = sweep(distance_predictor, speech, settings)
    assert far > near * 1.25


@pytest.fixture(scope="module")
def rooms_predictor(classifier_bundle):
    from soundpred.hub import MODELS

    return Predictor(classifier_bundle, load_bundle(MODELS / "distance-rooms"))


@pytest.mark.slow
@pytest.mark.parametrize("settings", [TRAIN, SHIFTED, HYBRID])
def test_rooms_model_spreads_its_estimates(rooms_predictor, speech, settings):
    """The opt-in models/distance-rooms (hybrid simulation, acoustics head, room kinds; the
    default ensemble's third member) moves much more between 0.7 m and 8 m than the previous
    default: far/near 1.98 (train settings), 1.84 (shifted), 2.90 (hybrid) against 1.36 / 1.20 /
    1.63 (session 32's default ensemble: 1.90 / 1.63 / 2.29); told the room's kind, 2.71 / 2.91 / 4.25."""
    near, far = sweep(rooms_predictor, speech, settings)
    assert far > near * 1.6
    near_k, far_k = sweep(rooms_predictor, speech, settings, room_kind_given=True)
    assert far_k / near_k > far / near
def test_cepstral_probe_features_find_an_echo():
    """The probe's cepstral features peak at the delay of a reflection (here 40 samples, 2.5 ms)."""
    from train.probe_distance_cues import cepstral_features

    y = np.random.default_rng(0).standard_normal(SR * 4)
    echoed = y.copy()
    echoed[40:] += 0.6 * y[:-40]
    f_dry, f_echo = cepstral_features(np.stack([y, echoed]))
    n = len(f_echo) // 2  # mean magnitudes over quefrencies 8..199
    assert int(np.argmax(f_echo[:n])) + 8 == 40
    assert f_echo[40 - 8] > 3 * f_dry[40 - 8]


def test_input_length_probe_joins_other_sources_through_one_room():
    """``train.probe_input_length``: each recording is segments of the model's window, each
    segment another dry source (here a tone each) through the same RIR; so the first k segments
    of a recording are a shorter recording at the same place."""
    from soundpred.rooms import RirBank
    from train.probe_input_length import long_recordings

    rng = np.random.default_rng(0)
    rirs = [np.r_[np.zeros(20), 1.0, 0.3 * rng.standard_normal(400) * np.exp(-np.arange(400) / 80)].astype(np.float32)
            for _ in range(3)]
    bank = RirBank(rirs, np.array([1.0, 2.0, 4.0]), np.full(3, 0.5), np.zeros(3, int), TRAIN, np.full(3, 100.0))
    t = np.arange(SR * 5) / SR
    tones = [np.sin(2 * np.pi * f * t).astype(np.float32) for f in 250.0 * np.arange(1, 13)]
    n = SR * 2
    x = long_recordings(bank, tones, [], TRAIN, segments=3, n=n, sr=SR, seed=0)
    assert x.shape == (3, 3 * n) and np.isfinite(x).all()
    seg = x.reshape(3, 3, n)
    assert np.all(np.abs(seg).max(axis=2) > 0)  # no segment is silent
    tone_of = np.abs(np.fft.rfft(seg, axis=2)).argmax(axis=2)  # the dry tone each segment carries
    assert any(len(set(row)) > 1 for row in tone_of)  # segments draw their own sources
    again = long_recordings(bank, tones, [], TRAIN, segments=3, n=n, sr=SR, seed=0)
    np.testing.assert_array_equal(x, again)  # seeded: the same recordings every run


def test_source_spread_tells_the_source_from_the_position():
    """``train.probe_source_spread``: estimates that move only with the position have no source
    spread; noise added per source shows up as source spread of its size (and not as position
    spread, once averaged over many sources); squeezing every estimate halves both."""
    from train.probe_source_spread import source_spread

    room = np.repeat(np.arange(20), 4)
    position = np.log(np.tile([1.0, 2.0, 4.0, 8.0], 20))
    src, pos = source_spread(np.tile(position, (3, 1)), room)
    assert src == 0.0 and pos == pytest.approx(np.log(2.0) * np.sqrt(5 / 3), rel=1e-6)
    noisy = position + 0.3 * np.random.default_rng(0).standard_normal((400, len(room)))
    src, pos = source_spread(noisy, room)
    assert src == pytest.approx(0.3, rel=0.02) and pos == pytest.approx(np.log(2.0) * np.sqrt(5 / 3), rel=0.02)
    half = source_spread(noisy * 0.5, room)
    assert half == pytest.approx((src / 2, pos / 2), rel=1e-6)


@pytest.mark.parametrize("settings", [TRAIN, HYBRID], ids=lambda s: s.name)
def test_conditions_probe_changes_the_noise_level_and_nothing_else(settings):
    """``train.probe_conditions``: one RIR and source at 5 dB and at 'clean' are the same
    example but for the noise (same random numbers: onset, stretch, noise waveform, colouration);
    at 5 dB what is left over beside the clean example is about 5 dB below it, and a source
    through no room is the source alone (its spectrum, up to colouration and level)."""
    from soundpred.rooms import RirBank
    from train.probe_conditions import CLEAN_DB, anechoic, recordings

    rng = np.random.default_rng(1)
    rirs = [np.r_[np.zeros(20), 1.0, 0.3 * rng.standard_normal(400) * np.exp(-np.arange(400) / 80)].astype(np.float32)
            for _ in range(2)]
    bank = RirBank(rirs, np.array([1.0, 2.0]), np.full(2, 0.5), np.zeros(2, int), settings, np.full(2, 100.0))
    sources = [np.sin(2 * np.pi * 300 * np.arange(SR * 3) / SR).astype(np.float32) * (1 + np.arange(SR * 3) % 400 / 400)]
    clean, noisy = recordings(bank, sources, settings, [CLEAN_DB, 5.0], n=SR * 2, sr=SR, seed=0)
    for c, y in zip(clean, noisy):
        scale = np.dot(y, c) / np.dot(c, c)
        active = np.abs(c) > 1e-3 * np.abs(c).max()  # where the source sounds (not the leading silence)
        snr = 10 * np.log10(np.sum((scale * c[active]) ** 2) / np.sum((y - scale * c)[active] ** 2))
        assert 3.0 < snr < 8.0, snr
    again = recordings(bank, sources, settings, [5.0], n=SR * 2, sr=SR, seed=0)[0]
    np.testing.assert_array_equal(again, noisy)
    dry = anechoic(sources, n=SR * 2, sr=SR, seed=0)
    assert dry.shape == (1, SR * 2) and np.abs(np.fft.rfft(dry[0])).argmax() == pytest.approx(300 * 2, abs=2)


def test_an_evaluation_set_by_name_is_the_one_the_card_scores(tmp_path, monkeypatch):
    """The probes build one evaluation set by name (``train.distance_eval.eval_set``); the card
    builds them all from the banks ``room_banks`` simulated (``eval_sets``). Both give the same
    rooms, settings, example seed and held-out sources, so a probe scores the card's examples;
    ``held_out_sets`` are the same without the training rooms."""
    from train.distance_eval import EVAL_BANKS, DrySources, eval_bank, eval_set, eval_sets, held_out_sets, room_banks

    monkeypatch.setenv("SOUNDPRED_CACHE", str(tmp_path))
    sr, seed = 16000, 5
    one = [np.ones(8, np.float32)]
    sources = DrySources(one, one, [np.zeros(8, np.float32)], [np.full(8, 2.0, np.float32)])
    banks = room_banks(sr, rooms=1, eval_rooms=1, seed=seed)
    card = eval_sets(banks, sources, seed)
    assert [s.name for s in card] == ["held-out rooms", "shifted simulation", "broad distances", "hybrid simulation",
                                      "training rooms"]
    for name, from_card in zip(EVAL_BANKS, card):
        alone = eval_set(name, sources, seed, rooms=1, sr=sr)
        assert (alone.name, alone.settings, alone.seed) == (from_card.name, from_card.settings, from_card.seed)
        np.testing.assert_array_equal(alone.bank.distance, from_card.bank.distance)
        np.testing.assert_array_equal(alone.bank.rirs[0], from_card.bank.rirs[0])
        assert alone.speech is sources.eval_speech and alone.clips is sources.eval_clips
        np.testing.assert_array_equal(eval_bank(name, 1, sr, seed).distance, alone.bank.distance)
    assert len({s.seed for s in card}) == len(card)  # every set its own examples
    judged = held_out_sets(banks, sources, seed)  # what the probes pool: the card without the training rooms
    assert [s.name for s in judged] == [s.name for s in card[:4]] and [s.seed for s in judged] == [s.seed for s in card[:4]]


def test_known_source_probe_reads_the_direct_to_early_ratio_through_noise():
    """``train.probe_known_source``: an example deconvolved by its own direct sound gives back the
    response's direct-to-early energy ratio (colouration and level cancel), lower for a louder
    tail, in the right order still at 10 dB SNR; ``make_examples(direct=True)`` draws the same
    examples as without and adds their direct sounds."""
    from soundpred.rooms import DIRECT_INDEX, RirBank
    from train.distance_eval import EvalSet, make_examples
    from train.probe_known_source import WINDOW_S, deconvolve, direct_ratio_db, known_source_ratios

    rng = np.random.default_rng(0)
    early = int(WINDOW_S * SR)
    tails = (0.02, 0.06, 0.2)  # the tail's amplitude: a louder tail, a farther source
    rirs = []
    for a in tails:
        h = np.zeros(8000)
        h[DIRECT_INDEX] = 1.0
        h[DIRECT_INDEX + 60:] = a * rng.standard_normal(8000 - DIRECT_INDEX - 60) * np.exp(-np.arange(8000 - DIRECT_INDEX - 60) / 1600)
        rirs.append(h.astype(np.float32))
    truth = [10 * np.log10(1.0 / np.sum(h[DIRECT_INDEX + 40:DIRECT_INDEX + early].astype(float) ** 2)) for h in rirs]
    bank = RirBank(rirs, np.array([1.0, 2.0, 4.0]), np.full(3, 0.5), np.zeros(3, int), TRAIN, np.full(3, 100.0))
    speech = [rng.standard_normal(SR * 6).astype(np.float32)]
    quiet = replace(TRAIN, snr_db=(60.0, 60.0))
    x, direct = make_examples(bank, speech, [], quiet, n=SR * 4, sr=SR, seed=3, speech_share=1.0, direct=True)
    np.testing.assert_array_equal(x, make_examples(bank, speech, [], quiet, n=SR * 4, sr=SR, seed=3, speech_share=1.0))
    ratios = [direct_ratio_db(deconvolve(a, b), SR) for a, b in zip(x, direct)]
    np.testing.assert_allclose(ratios, truth, atol=1.0)
    noisy = replace(TRAIN, snr_db=(10.0, 10.0))
    x, direct = make_examples(bank, speech, [], noisy, n=SR * 4, sr=SR, seed=3, speech_share=1.0, direct=True)
    ratios = [direct_ratio_db(deconvolve(a, b), SR) for a, b in zip(x, direct)]
    assert ratios[0] > ratios[1] > ratios[2]
    # the probe's own path (``deconvolved``, one response at a time) gives the same examples and ratios
    drawn, found = known_source_ratios(EvalSet("three", bank, noisy, 3, speech, []), SR * 4, SR, 1.0)
    np.testing.assert_array_equal(drawn, x)
    np.testing.assert_allclose(found, ratios)


def test_conditions_probe_can_play_one_source_at_every_position_of_a_room():
    """``--one-source-per-room``: the positions of a room hear the same dry source (one sound
    walking away); by default each position draws its own, and both draws are reproducible."""
    from soundpred.rooms import RirBank
    from train.probe_conditions import CLEAN_DB, recordings, source_picks

    room = np.repeat(np.arange(30), 4)
    rirs = [np.r_[np.zeros(20), 1.0].astype(np.float32)] * len(room)
    bank = RirBank(rirs, np.tile([0.5, 1.0, 2.0, 4.0], 30), np.full(len(room), 0.5), room, TRAIN,
                   np.full(len(room), 100.0))
    same = source_picks(bank, 5, seed=3, per_room=True)
    assert all(len(set(same[room == r])) == 1 for r in range(30)) and len(set(same)) > 1
    drawn = source_picks(bank, 5, seed=3)
    assert any(len(set(drawn[room == r])) > 1 for r in range(30))
    np.testing.assert_array_equal(drawn, source_picks(bank, 5, seed=3))
    freqs = [200, 300, 450, 700, 1100]
    pool = [np.sin(2 * np.pi * f * np.arange(SR * 3) / SR).astype(np.float32) for f in freqs]
    x = recordings(bank.subset(np.arange(8)), pool, TRAIN, [CLEAN_DB], n=SR, sr=SR, seed=3, per_room=True)[0]
    heard = [freqs[int(np.argmin([abs(np.abs(np.fft.rfft(v)).argmax() - f) for f in freqs]))] for v in x]
    assert heard == [freqs[i] for i in same[:8]]


def test_conditions_probe_hears_the_dry_clips_of_a_folder(tmp_path):
    """``train.probe_conditions --clips FOLDER``: the clips whose ``sources.csv`` row names a dry
    source, 1.5 s or longer, decoded at the model's rate; a folder without ``sources.csv`` is refused."""
    import csv

    from train.probe_conditions import dry_clips

    (tmp_path / "audio_train").mkdir()
    clips = {"a.flac": ("Oboe", "philharmonia", 2.0), "b.flac": ("Gunshot_or_gunfire", "urbansound8k", 2.0),
             "c.flac": ("Gong", "philharmonia", 1.0)}
    for name, (_, _, seconds) in clips.items():
        sf.write(tmp_path / "audio_train" / name, tone(22050, seconds), 22050)
    with open(tmp_path / "train.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["fname", "label", "manually_verified"])
        w.writerows([name, label, 1] for name, (label, _, _) in clips.items())
    with open(tmp_path / "sources.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["fname", "label", "source"])
        w.writerows([name, label, source] for name, (label, source, _) in clips.items())
    waves = dry_clips(tmp_path, SR)
    assert len(waves) == 1 and len(waves[0]) == pytest.approx(2 * SR, abs=2)  # the oboe; not the street, not 1 s
    (tmp_path / "sources.csv").unlink()
    with pytest.raises(FileNotFoundError, match="sources.csv"):
        dry_clips(tmp_path, SR)


def test_member_weight_probe_pools_with_one_member_weighted(tmp_path):
    """``train.probe_member_weight``: the weights put ``w`` on one member and share the rest;
    a third each is the equal pool, weight 1 is that member alone (its own interval scale fitted
    on validation), and the validation score is the mean of MAE and relative error over the
    median guess's, so a member that is always right scores 0 at weight 1."""
    from soundpred.metrics import distance_summary
    from soundpred.rooms import make_bank
    from train.ensemble import mixture
    from train.probe_member_weight import member_weights, pooled_rows

    np.testing.assert_allclose(member_weights(3, 1, 1 / 3), [1 / 3] * 3)
    np.testing.assert_allclose(member_weights(3, 2, 0.6), [0.2, 0.2, 0.6])
    for bad in ((3, 1, 1.5), (3, 3, 0.5), (1, 0, 1.0)):
        with pytest.raises(ValueError):
            member_weights(*bad)
    bank = make_bank(TRAIN, 3, seed=5, sr=SR, cache_dir=tmp_path, progress=False)
    rng = np.random.default_rng(0)
    log_d = np.log(bank.distance)
    mus = np.stack([log_d, log_d + rng.normal(0, 0.5, len(log_d)), np.full(len(log_d), log_d.mean())])
    sigmas = np.full_like(mus, 0.3)
    sets = [("v", mus, sigmas, bank)]
    equal, alone = pooled_rows(sets, sets, 0, [1 / 3, 1.0], median=2.0)
    assert alone["validation"] == 0.0 and alone["v"][:2] == [0.0, 0.0]
    mu, sigma = mixture(mus, sigmas)
    s = distance_summary(np.exp(mu), bank.distance)
    assert equal["v"][:3] == [s["mae_m"], s["rel_error"], s["spearman"]] and equal["validation"] > 0


def test_member_weight_probe_tells_the_members_the_true_room_kind_with_kind(tmp_path):
    """``train.probe_member_weight --kind``: the members that take the room kind are told each
    room's true kind (their beliefs then differ from "auto"); a member without it answers the same."""
    from types import SimpleNamespace

    from soundpred.rooms import make_bank
    from train.distance_eval import DistanceConfig, EvalSet
    from train.probe_member_weight import set_beliefs

    keras.utils.set_random_seed(3)
    hinted, plain = (SimpleNamespace(model=build_distance(DISTANCE_FRONTEND, width=8, room_hint=h)) for h in (True, False))
    # the kind's rows of the new network start random, so a told kind moves its belief
    bank = make_bank(TRAIN, 3, seed=5, sr=SR, cache_dir=tmp_path, progress=False)
    rng = np.random.default_rng(1)
    speech = [rng.standard_normal(SR * 5).astype(np.float32) * 0.1]
    s = EvalSet("v", bank, TRAIN, 7, speech, speech)
    config = DistanceConfig()
    name, mus, sigmas, got = set_beliefs([hinted, plain], s, DISTANCE_FRONTEND, config)
    _, mus_k, sigmas_k, _ = set_beliefs([hinted, plain], s, DISTANCE_FRONTEND, config, kind=True)
    assert name == "v" and got is bank and mus.shape == (2, len(bank.distance))
    assert np.abs(mus_k[0] - mus[0]).max() > 1e-4 and np.allclose(mus_k[1], mus[1]) and np.allclose(sigmas_k[1], sigmas[1])


def test_probe_shifted_rows_score_the_ordering_within_rooms_too(capsys):
    """``train.probe_shifted``'s rows: MAE, relative error, rank over all examples and within
    rooms. Estimates that order every room right but put the rooms at the wrong levels rank
    perfectly within rooms and not overall; the difference column is new − old."""
    from train.probe_shifted import _errors, _row

    truth = np.array([1.0, 2.0, 4.0, 1.5, 3.0, 6.0])
    room = np.array([0, 0, 0, 1, 1, 1])
    levels = truth * np.where(room == 0, 4.0, 0.5)  # room 0 far too far, room 1 too near
    mae, rel, rank, within = _errors(levels, truth, room)
    assert within == 1.0 and rank < 0.9 and rel == pytest.approx(np.mean(np.abs(levels - truth) / truth))
    assert _errors(truth[::-1].copy(), truth, room)[3] < 0 and np.isnan(_errors(truth, truth, np.arange(6))[3])
    _row("x", levels, truth, truth, room)
    cells = capsys.readouterr().out.strip().strip("|").split("|")
    assert cells[1].split(" / ")[3].strip() == "1.000" and cells[3].split(" / ")[3].strip() == "+0.000"
    assert cells[3].split(" / ")[0].strip() == f"{mae:+.3f}"


def test_probe_shifted_draws_hybrid_rooms_and_refuses_seeds_that_are_not_fresh(capsys):
    """``train.probe_shifted --seeds``: ``--set hybrid`` draws the hybrid simulation; a seed whose
    rooms a model trained, was calibrated or was scored on (the training rooms, the validation
    rooms, the card's evaluation bank) is refused before any bundle is loaded, naming it."""
    from soundpred.rooms import HYBRID, SHIFTED, TRAIN
    from train.probe_shifted import DRAW_SETTINGS, main, stale_seeds

    assert DRAW_SETTINGS == {"shifted": SHIFTED, "held-out": TRAIN, "hybrid": HYBRID}
    assert stale_seeds("hybrid", [621, 500, 622, 600, 800]) == [500, 600, 800]
    assert stale_seeds("held-out", [100, 200, 700, 571]) == [100, 200, 700]
    assert stale_seeds("shifted", [300, 561]) == [300] and stale_seeds("hybrid", [561, 571]) == []
    with pytest.raises(SystemExit) as e:
        main(["no/such/bundle", "no/such/bundle", "--seeds", "621", "600", "--set", "hybrid"])
    assert e.value.code == 2 and "--seeds 600: not fresh hybrid rooms" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main(["no/such/bundle", "no/such/bundle", "--kind"])
    assert e.value.code == 2 and "--kind goes with --seeds" in capsys.readouterr().err


def test_pool_rules_probe_pools_fits_and_keeps_its_beliefs(tmp_path):
    """``train.probe_pool_rules``: ``mixture`` is the ensemble's own pool; ``median`` and
    ``precision`` move the mean only; ``weighted`` finds the member that is always right;
    ``kinds`` with all its weight on "auto" is the mixture, and with none on it mixes the kinds'
    beliefs by their shares, and ``posterior`` by the kind it reads from the beliefs (nearly all
    of the weight on the true kind where the beliefs show it); ``stack`` recovers a linear
    combination that holds exactly; the beliefs survive ``--save`` and ``--load``."""
    from train.ensemble import mixture
    from train.probe_pool_rules import (SetBeliefs, fit_rule, kind_accuracy, kind_features, kind_shares, load, pool,
                                        save, together)

    rng = np.random.default_rng(0)
    n, m = 40, 3
    log_d = rng.uniform(np.log(0.5), np.log(10), n)
    mus = log_d[None, None] + rng.normal(0, 0.3, (4, m, n))
    sigmas = rng.uniform(0.2, 0.6, (4, m, n))
    kinds = np.array(["small", "medium", "large", "medium"] * (n // 4))
    s = SetBeliefs("v", mus, sigmas, np.exp(log_d), np.arange(n) // 4, np.ones(n), kinds)
    shares = kind_shares(kinds)
    np.testing.assert_allclose(shares, [0.25, 0.5, 0.25])

    mu_mix, sigma_mix = mixture(mus[0], sigmas[0])
    np.testing.assert_allclose(pool("mixture", s, {})[0], mu_mix)
    mu_med, sigma_med = pool("median", s, {})
    np.testing.assert_allclose(mu_med, np.median(mus[0], axis=0))
    np.testing.assert_allclose(sigma_med, sigma_mix)
    w = 1 / sigmas[0] ** 2
    np.testing.assert_allclose(pool("precision", s, {})[0], (w * mus[0]).sum(0) / w.sum(0))
    np.testing.assert_allclose(pool("kinds", s, {"auto_weight": 1.0, "kind_shares": shares}), (mu_mix, sigma_mix))
    mu_k, _ = pool("kinds", s, {"auto_weight": 0.0, "kind_shares": shares})
    np.testing.assert_allclose(mu_k, 0.25 * mus[1].mean(0) + 0.5 * mus[2].mean(0) + 0.25 * mus[3].mean(0))

    exact = SetBeliefs("w", mus.copy(), sigmas, s.distance, s.room, s.rt60, kinds)
    exact.distance = np.exp(0.2 + 0.5 * mus[0, 0] + 0.7 * mus[0, 2])
    params = fit_rule("stack", [exact], median=2.0, shares=shares)
    np.testing.assert_allclose(params["stack_coef"], [0.2, 0.5, 0.0, 0.7], atol=1e-8)
    np.testing.assert_allclose(pool("stack", exact, params)[0], np.log(exact.distance))
    assert params["sigma_scale"] > 0 and 0 <= params["shrink"] <= 1
    exact.mus[0, 1] = np.log(exact.distance)  # member 2 always right in "auto": all the weight goes to it
    params = fit_rule("weighted", [exact], median=2.0, shares=shares)
    assert params["member_weights"] == [0.0, 1.0, 0.0] and params["member_weight_score"] == 0.0
    np.testing.assert_allclose(pool("weighted", exact, params)[0], np.log(exact.distance))
    params = fit_rule("kinds", [s], median=2.0, shares=shares)
    assert params["auto_weight"] in (0.0, 0.25, 0.5, 0.75) and len(params["auto_weight_scores"]) == 4

    told = SetBeliefs("k", mus.copy(), sigmas, s.distance, s.room, s.rt60, kinds)
    for h, kind in enumerate(("small", "medium", "large"), start=1):  # told the true kind, every mean shows it
        told.mus[h, :, kinds == kind] += 3.0
    params = fit_rule("posterior", [told], median=2.0, shares=shares)
    assert kind_accuracy(params["kind_model"], told) == 1.0
    truth = np.array([("small", "medium", "large").index(k) for k in kinds]) + 1
    mu_told = told.mus[truth, :, np.arange(n)].mean(1)  # the members' mean, each told its room's kind
    p_true = params["kind_model"].predict_proba(kind_features(told))[np.arange(n), truth - 1]
    assert p_true.min() > 0.8  # so the pool sits within 0.6 of the told mean (3 from the other kinds')
    np.testing.assert_allclose(pool("posterior", told, params)[0], mu_told, atol=0.6)

    save(tmp_path / "b.npz", {"val": [s], "fresh shifted": [s, exact]})
    back = load(tmp_path / "b.npz")
    assert list(back) == ["val", "fresh shifted"] and back["val"][0].name == "v"
    np.testing.assert_allclose(back["fresh shifted"][1].distance, exact.distance)
    both = together("all", back["fresh shifted"])
    assert both.mus.shape == (4, m, 2 * n) and len(np.unique(both.room)) == 2 * len(np.unique(s.room))


def test_pool_rules_probe_pools_files_side_by_side_with_fixed_weights(tmp_path, capsys):
    """``train.probe_pool_rules --load A B``: the two files' members side by side, with no
    bundle and no rooms simulated (the median is kept in the files); ``--weights NAME=...`` a
    mixture with those weights (normalised), fitted and scored like a rule and compared with
    ``--reference``. Files of other examples, weights for another number of members, NaN weights
    (read as ``train.ensemble --weights`` reads them), a rule's name for the weights, an unknown
    reference and a probe with neither members nor beliefs are refused."""
    from train.probe_pool_rules import SetBeliefs, fit_rule, load, main, pool, save, side_by_side

    rng = np.random.default_rng(1)
    n = 40
    log_d = rng.uniform(np.log(0.5), np.log(10), n)
    kinds = np.array(["small", "medium", "large", "medium"] * (n // 4))

    def beliefs(name, mus, sigma):
        return SetBeliefs(name, mus, np.full(mus.shape, sigma), np.exp(log_d), np.arange(n) // 4, np.ones(n), kinds)

    meta = {"median": 2.0, "kind_shares": [0.25, 0.5, 0.25]}
    noisy = {g: beliefs(name, log_d + rng.normal(0, 0.4, (4, 2, n)), 0.4)
             for g, name in (("val", "validation"), ("eval", "held-out rooms"))}
    right = {g: beliefs(b.name, np.repeat(log_d[None, None], 4, 0), 0.05) for g, b in noisy.items()}
    save(tmp_path / "a.npz", {g: [b] for g, b in noisy.items()}, meta)
    save(tmp_path / "b.npz", {g: [b] for g, b in right.items()}, meta)

    both = side_by_side([load(tmp_path / "a.npz"), load(tmp_path / "b.npz")])
    assert both["val"][0].mus.shape == (4, 3, n)
    np.testing.assert_allclose(both["eval"][0].mus[:, :2], noisy["eval"].mus, rtol=1e-6)
    np.testing.assert_allclose(both["eval"][0].mus[:, 2], right["eval"].mus[:, 0])
    params = fit_rule("weighted", both["val"], 2.0, meta["kind_shares"], weights=[0, 0, 2])
    assert params["member_weights"] == [0.0, 0.0, 1.0]
    np.testing.assert_allclose(pool("weighted", both["eval"][0], params)[0], log_d, atol=1e-6)
    with pytest.raises(ValueError, match="3 members"):
        fit_rule("weighted", both["val"], 2.0, meta["kind_shares"], weights=[1, 1])

    main(["--load", str(tmp_path / "a.npz"), str(tmp_path / "b.npz"), "--rules", "mixture",
          "--weights", "A=1,1,0", "B=0,0,1", "--reference", "A", "--draws", "50"])
    out = capsys.readouterr().out
    rows = {cells[1]: cells for cells in (line.strip("| ").split(" | ") for line in out.splitlines()
                                          if line.startswith("| held-out rooms |"))}
    assert set(rows) == {"mixture", "A", "B"}
    assert float(rows["B"][2]) < 0.01 < float(rows["A"][2])  # MAE: the member that is always right
    assert len(rows["A"]) == 7 and rows["B"][7].startswith("-")  # B - A (the reference) in MAE

    main(["--load", str(tmp_path / "a.npz"), "--rules", "median"])  # no mixture, no reference: no comparison
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| held-out rooms |")]
    assert len(rows) == 1 and rows[0].endswith("|  |")

    other = {g: beliefs(b.name, b.mus, 0.4) for g, b in noisy.items()}
    other["eval"].distance = other["eval"].distance * 1.1
    save(tmp_path / "c.npz", {g: [b] for g, b in other.items()}, meta)
    with pytest.raises(ValueError, match="different examples"):
        side_by_side([load(tmp_path / "a.npz"), load(tmp_path / "c.npz")])
    for argv, said in ((["--weights", "A=1,1"], "weights >= 0 for the 3 members"),
                       (["--weights", "A=1,nan,1"], "'A=1,nan,1': weights >= 0, not all 0"),
                       (["--weights", "mixture=1,1,1"], "NAME not one of"),
                       (["--reference", "nothing"], "--reference 'nothing' must be one of")):
        with pytest.raises(SystemExit) as e:
            main(["--load", str(tmp_path / "a.npz"), str(tmp_path / "b.npz"), "--rules", "mixture", *argv])
        assert e.value.code == 2 and said in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main(["--rules", "mixture"])
    assert e.value.code == 2 and "name the members" in capsys.readouterr().err


def test_probe_shifted_and_the_bootstrap_tell_the_true_room_kind_with_kind(monkeypatch, data_cache):
    """``train.probe_shifted --seeds ... --kind`` (and ``train.distance_compare --kind``, through
    the same ``estimates``): each room's true kind is told to a bundle that takes it, so its
    estimates move; a bundle that does not take it answers as in "auto"."""
    from types import SimpleNamespace

    from soundpred.rooms import HYBRID
    from train.distance_compare import estimates
    from train.distance_eval import DistanceConfig
    from train.probe_shifted import score

    monkeypatch.setenv("SOUNDPRED_CACHE", str(data_cache))
    keras.utils.set_random_seed(4)
    hinted, plain = (SimpleNamespace(model=build_distance(DISTANCE_FRONTEND, width=8, room_hint=h), meta={},
                                     frontend=DISTANCE_FRONTEND)
                     for h in (True, False))
    rng = np.random.default_rng(2)
    noise = [rng.standard_normal(SR * 5).astype(np.float32) * 0.1]
    d, sources = DistanceConfig(eval_rooms=2), SimpleNamespace(eval_speech=noise, eval_clips=noise)
    auto = score(hinted, plain, HYBRID, 9001, 9001, d, sources)
    told = score(hinted, plain, HYBRID, 9001, 9001, d, sources, kind=True)
    np.testing.assert_array_equal(auto[2], told[2])  # the same rooms and distances
    assert np.abs(np.log(told[0]) - np.log(auto[0])).max() > 1e-4  # the kind moves the bundle that takes it
    np.testing.assert_allclose(told[1], auto[1], rtol=1e-5)  # and not the one that does not
    x = np.stack([noise[0][:DISTANCE_FRONTEND.window_samples]] * 2)
    np.testing.assert_allclose(estimates(hinted, x, ["auto", "auto"]), estimates(hinted, x), rtol=1e-6)


def test_shifted_probe_splits_rooms_by_reverberation_against_size(tmp_path):
    """``train.probe_shifted``: its factors together are the shifted simulation; the RT60 line is
    fitted on real simulated training rooms (RT60 grows with volume there), a room on the line
    has residual 0 and one twice as reverberant ln 2; the thirds hold the lowest, middle and
    highest residuals, and each bundle's errors are computed on its own third only."""
    from dataclasses import replace

    from soundpred.rooms import SHIFTED, make_bank
    from train.probe_shifted import FACTORS, THIRDS, by_third, factor_settings, rt60_fit, rt60_residual

    # the factors are the shifted simulation's differences: all of them together are SHIFTED
    assert factor_settings(FACTORS["all of them"]) == replace(SHIFTED, name="factor")
    assert factor_settings({}) == TRAIN and all(
        factor_settings(c) != TRAIN for name, c in FACTORS.items() if c)

    bank = make_bank(TRAIN, 12, seed=5, sr=SR, cache_dir=tmp_path, progress=False)
    a, b = rt60_fit(bank.volume, bank.rt60)
    assert b > 0  # Sabine: bigger rooms ring longer
    vol = np.array([100.0, 100.0])
    on_line = np.exp(a + b * np.log(vol))
    np.testing.assert_allclose(rt60_residual(vol, on_line * [1, 2], (a, b)), [0.0, np.log(2)], atol=1e-9)

    residual = np.array([-3.0, -2.0, -1.0, 0.0, 0.1, 0.2, 1.0, 2.0, 3.0])
    truth = np.full(9, 2.0)
    right = truth.copy()
    wrong_when_high = np.where(residual > 0.5, 4.0, 2.0)  # 2 m off in the highest third only
    rows = by_third(residual, truth, {"right": right, "wrong": wrong_when_high})
    assert [r["third"] for r in rows] == list(THIRDS) and [r["n"] for r in rows] == [3, 3, 3]
    assert rows[0]["residual"] == (-3.0, -1.0) and rows[2]["residual"] == (1.0, 3.0)
    assert all(r["right"] == (0.0, 0.0) for r in rows)
    assert rows[0]["wrong"] == (0.0, 0.0) and rows[1]["wrong"] == (0.0, 0.0)
    assert rows[2]["wrong"] == (2.0, 1.0)


def test_a_dc_offset_changes_nothing(distance_predictor):
    """A constant offset (cheap microphones and sound cards leave one) is taken off before the
    models hear the sound. Without that, the 1 m example, quiet (-45 dBFS RMS) with a 2 % offset,
    read 1.63 m instead of 1.40 m: the STFT window spreads the offset into the lowest mel bands
    as a steady floor, which the distance model takes for more reverberation."""
    from soundpred.audio import load

    y = load(ROOT / "examples" / "speech_1m_meeting_room.wav", sr=SR)
    y = (y * 10 ** (-45 / 20) / np.sqrt(np.mean(y ** 2))).astype(np.float32)
    plain = distance_predictor.predict((SR, y), spectrogram=True)
    offset = distance_predictor.predict((SR, y + np.float32(0.02)), spectrogram=True)
    assert offset.distance_m == pytest.approx(plain.distance_m, rel=0.005)
    assert [lab for lab, _ in offset.top] == [lab for lab, _ in plain.top]
    np.testing.assert_allclose(offset.scores, plain.scores, atol=2e-3)
    np.testing.assert_allclose(offset.spectrogram, plain.spectrogram, atol=0.02)


def test_hard_clipping_says_what_it_does_to_the_distance(distance_predictor, predictor):
    """A recording with 2 % of its samples flat at full scale gets the clipping warning for the
    labels alone; one with 15 % (over ``CLIPPED_DISTANCE_SHARE``, from ``train.probe_clipping``)
    says, with its share, that distances come out farther, and still gets an estimate; a predictor
    without a distance model never speaks of distance; an unclipped one gets no clipping warning."""
    from soundpred.predict import CLIPPED_DISTANCE_SHARE

    y, sr = sf.read(ROOT / "examples" / "speech_1m_meeting_room.wav", dtype="float32")

    def clipped(share):  # the loudest ``share`` of the samples pushed past full scale
        return np.clip(y / np.quantile(np.abs(y), 1 - share), -1, 1).astype(np.float32)

    def clip_warnings(pred):
        return [w for w in pred.warnings if "clipped" in w]

    assert 0.02 < CLIPPED_DISTANCE_SHARE < 0.15
    assert clip_warnings(distance_predictor.predict((sr, y), spectrogram=False)) == []
    (mild,) = clip_warnings(distance_predictor.predict((sr, clipped(0.02)), spectrogram=False))
    assert "labels may suffer" in mild and "distance" not in mild
    hard = distance_predictor.predict((sr, clipped(0.15)), spectrogram=False)
    (w,) = clip_warnings(hard)
    assert "15 % of its samples" in w and "distances come out farther" in w and "lower recording level" in w
    assert np.isfinite(hard.distance_m)
    (alone,) = clip_warnings(predictor.predict((sr, clipped(0.15)), spectrogram=False))
    assert "distance" not in alone


def test_restored_peaks_bring_a_clipped_near_source_back(distance_predictor, predictor):
    """The app's 1-m speech example as a 48-kHz phone would clip it, 3 % and 15 % of its samples
    flat: the distance model hears it with its peaks restored at 48 kHz (``audio.read(...,
    restore=True)``, what ``train.probe_clipping --declip`` measures; session 60's rule, passed on
    fresh draws), which brings the estimate back to less than half the error that the clipped
    samples give against the unclipped recording; the labels still hear the clipped samples (the
    same scores as a predictor without a distance model); an unclipped recording is not restored."""
    from soundpred import audio

    y, sr = sf.read(ROOT / "examples" / "speech_1m_meeting_room.wav", dtype="float32")
    clean = distance_predictor.predict((sr, y), spectrogram=False).distance_m
    assert distance_predictor.distance_for_waveform(y - y.mean())[0] == pytest.approx(clean, abs=1e-6)
    assert audio.read((sr, y), sr=sr, restore=True).restored is None
    y48 = audio.resample(y, sr, 48000)
    for share in (0.03, 0.15):
        c = np.clip(y48 / np.quantile(np.abs(y48), 1 - share), -1, 1).astype(np.float32)
        pred = distance_predictor.predict((48000, c), spectrogram=False)
        decoded = audio.read((48000, c), sr=sr, restore=True)
        plain = distance_predictor.distance_for_waveform(decoded.samples - decoded.samples.mean())[0]
        restored = distance_predictor.distance_for_waveform(decoded.restored - decoded.restored.mean())[0]
        assert pred.distance_m == pytest.approx(restored, abs=1e-6) and plain > clean + 0.3
        assert abs(restored - clean) < 0.5 * abs(plain - clean), (share, clean, plain, restored)
        np.testing.assert_allclose(pred.scores, predictor.predict((48000, c), spectrogram=False).scores, atol=1e-6)


@needs_ffmpeg
def test_a_file_clipped_before_it_was_coded_is_named(distance_predictor, predictor, tmp_path):
    """A lossy file keeps no flat runs to count or rebuild, but overshoots full scale where they
    were (``train.probe_coded_clipping``): the app's 1-m example at 48 kHz with 3 % of its samples
    pushed past full scale, coded as MP3 (libsndfile reads it) and as AAC (ffmpeg does), is said to
    have maybe been clipped before it was coded, with the distance where there is a distance
    model, in place of the decoder's "scaled down" line; the same sound unclipped at 0.99 of full
    scale, coded alike, gets no clipping word."""
    import subprocess

    from soundpred import audio

    y, sr = sf.read(ROOT / "examples" / "speech_1m_meeting_room.wav", dtype="float32")
    y48 = audio.resample(y, sr, 48000)
    for name, x in (("clipped", np.clip(y48 / np.quantile(np.abs(y48), 0.97), -1, 1)),
                    ("loud", 0.99 * y48 / np.abs(y48).max())):
        sf.write(tmp_path / f"{name}.wav", x, 48000, subtype="PCM_16")
        for suffix, codec in ((".mp3", "libmp3lame"), (".m4a", "aac")):
            coded = tmp_path / f"{name}{suffix}"
            subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(tmp_path / f"{name}.wav"), "-c:a", codec,
                            "-b:a", "128k", str(coded)], check=True)
            with_distance, alone = (p.predict(coded, spectrogram=False).warnings for p in (distance_predictor, predictor))
            said = [w for w in with_distance if "clipped" in w]
            if name == "loud":
                assert said == [] and not any("full scale" in w for w in with_distance), (suffix, with_distance)
                continue
            (w,) = said
            assert "clipped" in w and "before it was coded" in w and "distances come out farther" in w, (suffix, w)
            assert not any("scaled down" in v for v in with_distance)
            (a,) = [v for v in alone if "clipped" in v]
            assert "before it was coded" in a and "distance" not in a


@needs_ffmpeg
def test_tight_mp3s_and_telephone_rates_are_named(distance_predictor, predictor, tmp_path):
    """The codings that cost the distance on the card's rooms (``train.probe_codecs``: MP3 at
    32 kbit/s, a telephone band) are named in the warnings, with what to do; MP3 at 128 kbit/s,
    Opus at 16 kbit/s, 16-kHz WAV are not; a predictor without a distance model says nothing."""
    import subprocess

    src = ROOT / "examples" / "speech_1m_meeting_room.wav"

    def coded(name, *args):
        out = tmp_path / name
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(src), *args, str(out)], check=True)
        return out

    def coding_warnings(pred):
        return [w for w in pred.warnings if "kbit/s" in w or "telephone" in w]

    tight = distance_predictor.predict(coded("tight.mp3", "-ar", "44100", "-b:a", "32k"), spectrogram=False)
    (w,) = coding_warnings(tight)
    assert "MP3 of about 3" in w and "64 kbit/s or more" in w
    phone = distance_predictor.predict(coded("phone.wav", "-ar", "8000"), spectrogram=False)
    (w,) = coding_warnings(phone)
    assert "made at 8 kHz" in w and "nothing above 4 kHz" in w
    fine = (coded("fine.mp3", "-ar", "44100", "-b:a", "128k"), coded("voice.ogg", "-c:a", "libopus", "-b:a", "16k"), src)
    for path in fine:
        assert coding_warnings(distance_predictor.predict(path, spectrogram=False)) == [], path.name
    alone = predictor.predict(coded("alone.mp3", "-ar", "44100", "-b:a", "32k"), spectrogram=False)
    assert coding_warnings(alone) == []


def test_clipping_probe_drives_each_peak_over_full_scale_and_counts_as_the_app_does():
    """``train.probe_clipping``: ``none`` leaves the examples alone; ``hard-D`` scales each example
    (whatever its level) so its peak lies D dB over full scale and flattens what passes +-1, so
    more drive clips more samples and the rest keep their shape. ``heard`` reads each example
    back through the app's decoder, which counts the samples at full scale; clipped at 48 kHz
    and asked to restore, it gives the decoder's restored samples beside the plain ones (only
    when asked), and unclipped ones as they are."""
    from soundpred import audio
    from train.probe_clipping import clipped, heard

    rng = np.random.default_rng(0)
    x = rng.standard_normal(SR).astype(np.float32) * np.array([[0.01], [0.3]], np.float32)  # one sound, two levels
    assert np.array_equal(clipped(x, "none"), x)
    shares = []
    for drive in (3, 6, 20):
        y = clipped(x, f"hard-{drive}")
        assert y.shape == x.shape and np.abs(y).max() == 1.0
        gain = 10 ** (drive / 20) / np.abs(x).max(axis=1, keepdims=True)
        inside = np.abs(x * gain) < 1
        np.testing.assert_allclose(y[inside], (x * gain)[inside], rtol=1e-5)
        plain, restored, share = heard(x, f"hard-{drive}", SR)
        assert share[0] == pytest.approx(share[1], abs=2 / SR)  # the level before the clip does not matter
        assert share[1] == pytest.approx(np.mean(audio.at_full_scale(y[1])), abs=1 / SR)
        np.testing.assert_allclose(plain[1], y[1] - y[1].mean(), atol=1e-6)
        shares.append(share.mean())
    assert 0 < shares[0] < shares[1] < shares[2]
    assert np.array_equal(*heard(x, "hard-12", SR, rate=48000)[:2])  # restored only when asked
    plain, restored, share = heard(x, "hard-12", SR, rate=48000, restore=True)
    assert plain.shape == restored.shape == x.shape and np.all(share > audio.CLIPPED_SHARE)
    assert np.all(np.mean(restored ** 2, axis=1) > 1.05 * np.mean(plain ** 2, axis=1))  # peaks rebuilt
    plain, restored, share = heard(x, "none", SR, rate=48000, restore=True)
    assert np.array_equal(plain, restored) and not share.any()
    with pytest.raises(ValueError):
        clipped(x, "hard-x")
    with pytest.raises(ValueError):
        clipped(x, "limit-12")  # a limiter needs the rate
    # one recording level: the source at 1 m as hard-12, 0.5 m clipped more, 4 m (just under) and 8 m not at all
    four = np.repeat(x[1:], 4, axis=0)
    level = clipped(four, "level-12", distance=np.array([0.5, 1.0, 4.0, 8.0]))
    np.testing.assert_allclose(level[1], clipped(x[1:], "hard-12")[0], rtol=1e-6)
    flat = audio.at_full_scale(level).mean(axis=1)
    assert flat[0] > flat[1] > 0 and flat[2] == flat[3] == 0
    np.testing.assert_allclose(level[3], 0.5 * level[2], rtol=1e-4)
    with pytest.raises(ValueError):
        clipped(x, "level-12")  # needs the distances


def test_clipping_probe_limiter_ducks_after_a_peak_and_comes_back():
    """``train.probe_clipping``'s ``limit-D``: a quiet tone with one loud burst, driven 12 dB over
    full scale, never reaches the ceiling's level (so the app's decoder sees no clipping); the tone
    keeps the drive's gain before the burst's look-ahead and again once the release has brought
    the gain back, and is turned down between; released ten times faster, sooner and less deep;
    with ``ramp-D`` the gain falls over the look-ahead instead of in one step.
    ``duck-D``, the limiter's control, puts the same dip where the burst is not and leaves the
    burst at the ceiling. ``drop-D`` and ``dropmid-D`` turn it down D dB at once, a look-ahead
    before the burst or at the middle, and hold it there; ``dip-D`` holds that step for the burst's
    first 50 ms only, ``late-D`` makes it 50 ms later (or, given a negative offset, earlier).
    ``soft-D`` stays under full scale and keeps the order of the samples."""
    from soundpred import audio
    from train.probe_clipping import LIMIT_CEILING_DB, LIMIT_LOOKAHEAD_S, LIMIT_RELEASE_DB_S, ONSET_S, clipped

    t = np.arange(SR) / SR
    x = (0.01 * np.sin(2 * np.pi * 300 * t)).astype(np.float32)
    x[1600:1700] = 1.0  # the peak: 12 dB over full scale once driven
    y = clipped(x[None], "limit-12", SR)[0]
    gain = 10 ** (12 / 20)
    assert np.abs(y).max() <= 10 ** (LIMIT_CEILING_DB / 20) * 1.0001 and not audio.at_full_scale(y).any()
    before = 1600 - int(LIMIT_LOOKAHEAD_S * SR) - 1
    np.testing.assert_allclose(y[:before], gain * x[:before], rtol=1e-5)
    back = 1700 + int((12 - LIMIT_CEILING_DB) / LIMIT_RELEASE_DB_S * SR) + 1
    np.testing.assert_allclose(y[back:], gain * x[back:], rtol=1e-5, atol=1e-7)
    ducked = slice(1700, back - 1000)  # at least 1000 samples of release left: 3.75 dB down
    assert np.all(np.abs(y[ducked]) <= 0.7 * gain * np.abs(x[ducked]) + 1e-9)
    soft = clipped(x[None], "soft-12")[0]
    assert np.abs(soft).max() < 1 and np.array_equal(np.argsort(soft, kind="stable"), np.argsort(x, kind="stable"))
    fast = clipped(x[None], "limit-12", SR, release_db_s=10 * LIMIT_RELEASE_DB_S)[0]  # back ten times sooner
    np.testing.assert_allclose(fast[1700 + (back - 1700) // 10 + 2:], gain * x[1700 + (back - 1700) // 10 + 2:],
                               rtol=1e-5, atol=1e-7)
    assert np.all(np.abs(y[ducked]) < np.abs(fast[ducked]) + 1e-9)
    ramp = clipped(x[None], "ramp-12", SR)[0]  # the same cut, reached over the look-ahead in a straight line
    w = int(round(LIMIT_LOOKAHEAD_S * SR))
    assert np.abs(ramp).max() <= 10 ** (LIMIT_CEILING_DB / 20) * 1.0001
    np.testing.assert_allclose(ramp[:1600 - 2 * w], gain * x[:1600 - 2 * w], rtol=1e-5)
    k = np.flatnonzero(np.abs(x[:1600]) > 1e-3)  # the tone's samples away from its zero crossings
    steps = [(np.abs(np.diff(20 * np.log10(np.abs(v[k] / (gain * x[k]))))) / np.diff(k)).max() for v in (y, ramp)]
    assert steps[0] > 10 and steps[1] < 2 * (12 - LIMIT_CEILING_DB) / w
    duck = clipped(x[None], "duck-12", SR)[0]  # the same dip, run backwards: it falls on the tone, not the burst
    dip = slice(len(x) - back + 1000, len(x) - 1700)
    assert np.abs(duck).max() == pytest.approx(10 ** (LIMIT_CEILING_DB / 20), rel=1e-4)
    assert np.all(np.abs(duck[dip]) <= 0.7 * np.abs(x[dip]) * np.abs(duck[:1000]).max() / np.abs(x[:1000]).max())
    assert np.abs(duck[1600:1700]).min() == pytest.approx(np.abs(duck).max(), rel=1e-4)  # the burst untouched
    onset, k = int(round(ONSET_S * SR)), np.abs(x) > 1e-3  # k: the samples away from the tone's zero crossings
    # one step down, held: a look-ahead before the burst or at the middle; held for the onset's 50 ms
    # only, made 50 ms later, or (--step-offset -0.01) 160 samples earlier
    for variant, down, step_s in (("drop-12", slice(1600 - w, None), ONSET_S),
                                  ("dropmid-12", slice(len(x) // 2, None), ONSET_S),
                                  ("dip-12", slice(1600 - w, 1600 - w + onset), ONSET_S),
                                  ("late-12", slice(1600 - w + onset, None), ONSET_S),
                                  ("late-12", slice(1600 - w - 160, None), -0.01)):
        z = clipped(x[None], variant, SR, step_s=step_s)[0]
        inside = np.zeros(len(x), bool)
        inside[down] = True
        ratio, inside = z[k] / x[k], inside[k]
        assert np.ptp(ratio[inside]) < 1e-6 and np.ptp(ratio[~inside]) < 1e-6, variant
        assert ratio[inside][0] / ratio[~inside][0] == pytest.approx(10 ** (-12 / 20), rel=1e-5), variant
        assert np.abs(z).max() == pytest.approx(10 ** (LIMIT_CEILING_DB / 20), rel=1e-4)
    with pytest.raises(ValueError):
        clipped(x[None], "dip-12")  # needs the sample rate
    with pytest.raises(ValueError):
        clipped(x[None], "dip-12", SR, step_s=0.0)


def test_clipping_probe_draws_fresh_rooms_as_probe_shifted_does(monkeypatch, data_cache, capsys):
    """``train.probe_clipping --seeds S --draw SET`` (``train.probe_common.fresh_sets``, shared with
    ``train.probe_pauses``): a seed's rooms and examples are those ``train.probe_shifted`` draws
    for it, named by set and seed; a seed whose rooms were used is refused before any bundle is
    loaded."""
    from types import SimpleNamespace

    from train.distance_eval import DistanceConfig, set_examples
    from train.probe_clipping import main
    from train.probe_common import fresh_sets
    from train.probe_shifted import DRAW_SETTINGS, fresh_draw

    with pytest.raises(SystemExit) as e:
        main(["no/such/bundle", "--seeds", "990001", "600", "--draw", "hybrid"])
    assert e.value.code == 2 and "--seeds 600: not fresh hybrid rooms" in capsys.readouterr().err
    monkeypatch.setenv("SOUNDPRED_CACHE", str(data_cache))
    rng = np.random.default_rng(3)
    noise = [rng.standard_normal(SR * 5).astype(np.float32) * 0.1]
    d, sources = DistanceConfig(eval_rooms=2), SimpleNamespace(eval_speech=noise, eval_clips=noise)
    a, b = fresh_sets("held-out", [990001, 990002], d, sources, DISTANCE_FRONTEND.sample_rate)
    bank, x = fresh_draw(DRAW_SETTINGS["held-out"], 990002, 990002, d, sources, DISTANCE_FRONTEND)
    assert (a.name, b.name) == ("held-out 990001", "held-out 990002")
    np.testing.assert_array_equal(b.bank.distance, bank.distance)
    np.testing.assert_array_equal(set_examples(b, DISTANCE_FRONTEND, d.speech_share), x)
    assert not np.array_equal(a.bank.distance, b.bank.distance)


def test_padding_probe_builds_its_recordings():
    """``train.probe_padding.changed``: 3 s of silence or of a floor 60 dB under the example's
    RMS on either side, with the example in the middle untouched; the first 2 s or 1 s alone."""
    from train.probe_padding import changed

    rng = np.random.default_rng(0)
    x = (0.1 * rng.standard_normal(SR * 4)).astype(np.float32)
    pad = 3 * SR
    for how in ("zeros", "floor"):
        y = changed(x, how, SR, np.random.default_rng(1))
        assert len(y) == len(x) + 2 * pad and np.array_equal(y[pad:-pad], x)
        edges = np.r_[y[:pad], y[-pad:]]
        level = 10 * np.log10(np.mean(edges.astype(np.float64) ** 2) / np.mean(x.astype(np.float64) ** 2) + 1e-30)
        assert (not edges.any()) if how == "zeros" else abs(level + 60) < 0.5
    assert np.array_equal(changed(x, "first2", SR, rng), x[:2 * SR]) and len(changed(x, "first1", SR, rng)) == SR
    assert changed(x, "plain", SR, rng) is x


def test_pauses_probe_pools_fresh_draws_and_refuses_used_rooms(capsys):
    """``train.probe_pauses``: each trimmed treatment is paired with the same recordings as the app
    hears them now and with the plain examples; fresh draws pooled keep their rooms apart (room 0
    of two seeds is two rooms); seeds whose rooms were used are refused, as ``probe_shifted`` does."""
    from types import SimpleNamespace

    from train.distance_eval import TRAIN_BANK_OFFSET
    from train.probe_pauses import CUTS, PAIRS, PAUSES, main, together, treatments

    assert ("pause after 4, span", "pause after 4") in PAIRS and ("pauses 3+3", "plain") in PAIRS
    assert set(n for pair in PAIRS for n in pair) == set(treatments())
    assert len(treatments()) == len(PAUSES) * len(CUTS)
    part = [(SimpleNamespace(bank=SimpleNamespace(distance=np.array([1.0, 2.0]), room=np.array([0, 0]))),
             {"plain": np.array([1.5, 2.5])}) for _ in range(2)]
    s, est = together("both", part)
    assert len(np.unique(s.bank.room)) == 2 and est["plain"].tolist() == [1.5, 2.5, 1.5, 2.5]
    with pytest.raises(SystemExit):
        main(["--seeds", str(TRAIN_BANK_OFFSET), "--set", "held-out"])
    assert "not fresh held-out rooms" in capsys.readouterr().err


def test_spread_probe_moves_the_spread_and_keeps_the_order():
    """``train.probe_spread.spread``: factor 1 changes nothing, the centre stays where it is, a
    factor over 1 moves every estimate away from it (in log distance, by that factor) and under 1
    toward it, and the order of the estimates, so every rank correlation, never changes."""
    from train.probe_spread import CENTRE_M, spread

    d = np.array([0.5, 1.2, CENTRE_M, 4.0, 11.0])
    np.testing.assert_allclose(spread(d, 1.0), d)
    for factor in (0.5, 1.5):
        out = spread(d, factor)
        np.testing.assert_allclose(np.log(out / CENTRE_M), factor * np.log(d / CENTRE_M))
        assert out[2] == pytest.approx(CENTRE_M) and np.array_equal(np.argsort(out), np.argsort(d))
    assert np.all(np.abs(np.log(spread(d, 1.5) / CENTRE_M)) >= np.abs(np.log(d / CENTRE_M)))
    assert spread(d, 0.0) == pytest.approx(np.full(5, CENTRE_M))


def test_choosing_a_shrink_or_a_spread_factor_on_validation_rooms():
    """``train.ensemble.choose_shrink`` (also ``probe_spread --validation``'s rule): the least mean
    relative error among the settings whose mean MAE is no worse than the base setting's (shrink 0,
    or the one given), so relative error is never bought with absolute error."""
    from train.ensemble import choose_shrink

    errors = [{0.0: (0.90, 0.80), 0.5: (0.91, 0.70), 1.0: (0.89, 0.78)},
              {0.0: (0.90, 0.80), 0.5: (0.90, 0.70), 1.0: (0.90, 0.79)}]
    assert choose_shrink(errors) == 1.0  # 0.5 has less relative error but more MAE than 0
    assert choose_shrink(errors, base=0.5) == 0.5  # every setting's MAE is within 0.5's
    assert choose_shrink([{1.0: (0.9, 0.8), 1.3: (0.8, 0.9)}], base=1.0) == 1.0


def test_pauses_that_fill_half_a_recording_are_named(distance_predictor, predictor):
    """A recording longer than one window whose sound fills at most half of it gets a warning
    that says how much of it is sound and what pauses do (``train.probe_pauses``: they pull the
    distance toward the middle); the app's own example (sound throughout), a recording with 60 %
    sound, one no longer than a window and a predictor without a distance model get none. The
    estimate itself is the one without the check; the Live tab shows the warning under its reading."""
    from app import _live_md
    from soundpred.predict import pause_warnings

    y, sr = sf.read(ROOT / "examples" / "speech_1m_meeting_room.wav", dtype="float32")
    assert sr == SR
    noise = (0.003 * np.random.default_rng(0).standard_normal(10 * SR)).astype(np.float32)  # 30+ dB down

    def paused(sound_s, total_s):
        out = noise[:int(total_s * SR)].copy()
        out[:int(sound_s * SR)] += y[:int(sound_s * SR)]
        return out

    def named(pred):
        return [w for w in pred.warnings if "pause" in w]

    pred = distance_predictor.predict((SR, paused(3, 10)), spectrogram=False)
    (w,) = named(pred)
    assert w.startswith("Only 3.") and "of the 10.0 s" in w and "toward the middle" in w
    assert w in _live_md(pred, "12:00:00")
    for sound_s, total_s in ((6, 10), (1, 4)):
        assert named(distance_predictor.predict((SR, paused(sound_s, total_s)), spectrogram=False)) == []
    assert named(distance_predictor.predict(ROOT / "examples" / "speech_1m_meeting_room.wav", spectrogram=False)) == []
    assert named(predictor.predict((SR, paused(3, 10)), spectrogram=False)) == []
    heard = paused(3, 10)
    heard -= heard.mean()  # as predict hears it: no DC offset
    assert pred.distance_m == pytest.approx(distance_predictor.distance_for_waveform(heard)[0], rel=1e-5)
    assert pause_warnings(paused(3, 10), SR, 10 * SR) == []  # no longer than the window given
