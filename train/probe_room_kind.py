"""Probe: what reading the room's kind would be worth to the distance ensemble in ``auto``, and
what can read it.

    python -m train.probe_room_kind --beliefs runs/s46/u5_rules.npz --members 4
    python -m train.probe_room_kind --beliefs runs/s46/u5_rules.npz --members 4 --rir --rt60 \\
        --features models/distance
    python -m train.probe_room_kind --beliefs runs/s46/u5_rules.npz --members 4 --accuracies --signal
    python -m train.probe_room_kind --beliefs runs/s46/u5_rules.npz --members 4 --accuracies --rir \\
        --known-source

The first ``--members`` members' beliefs under every room hint (``train.probe_pool_rules
--save``) are mixed over the three kinds by a reader's probabilities (``train.room_kind``'s
``posterior`` rule; the interval's scale and the shrink fitted on the validation rooms with the
reader's reads there) and compared with ``auto``. Readers:

- ``true kind``: the card's "true kind" rows (a check that the beliefs are the card's);
- ``q=Q`` (``--accuracies``): right with probability Q, else one of the two other kinds, equally;
  the figures are the mean over ``--draws`` draws of the reads;
- ``--rt60``: a logistic regression of the kind on the log of the *true* RT60, fitted on the
  validation rooms: the most a perfect blind RT60 estimator could tell;
- ``--rir``: gradient boosting on hand-made features of the *true* room response
  (:func:`rir_features`: RT60, the energy in windows after the direct sound, when the energy
  builds up, how dense the reflections are), fitted on the training and hybrid training rooms:
  a rough ceiling of what the sound of the room holds; and the accuracy of the same reader on
  each group of :data:`RIR_SUBSETS` alone (what a front end with 10-ms frames might see, and the
  timing within them);
- ``--signal``: the same boosting on hand-made features of each example *as the members hear
  it* (:func:`signal_features`: echoes in the whitened signal, how fast its level falls), fitted
  on examples of the training and hybrid training rooms: what a blind reader of the timing that
  a 10-ms log-mel frame blurs could get; with a control where every example plays one source;
- ``--known-source``: the same boosting on :func:`rir_features` (but the true RT60) of each
  example deconvolved by its own direct sound (:func:`known_source_responses`): not blind, the
  most the examples' noise and colouration leave of the room's response to a reader;
- ``--snr-db DB`` with ``--signal`` or ``--known-source``: every example they fit and score drawn
  at that SNR instead of the settings' 5–40 dB; accuracies only;
- ``--features BUNDLE``: the accuracy (no pool) of a logistic regression of the kind on each
  member's pooled trunk features and embedding (``auto``), fitted on the validation examples,
  with C chosen by 5-fold cross-validation grouped by room; and a ridge fit of the log volume.

Measured (docs/distance.md, sessions 49 and 50): neither the RT60 nor the default's networks read
the kind much better than always answering ``medium``; the true room response does (0.72–0.83), and
mixed by it the default gains the held-out and hybrid rooms and loses the shifted ones. The blind
signal features read it no better than the guess, even from one source or without noise; with
the source known, 0.56–0.68 (0.61–0.74 at 60 dB SNR): a 4-s example holds less of the reflection
density than the true response.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from soundpred.rooms import HYBRID, make_bank
from train.distance_eval import HYBRID_TRAIN_BANK_OFFSET, Baselines, DistanceConfig, dry_sources, room_banks, set_examples
from train.probe_pool_rules import load, load_meta, summary
from train.room_kind import KINDS, accuracy, always_medium, belief_sets, kind_rules

WINDOWS_MS = (0, 2.5, 5, 10, 20, 40, 80, 160, 320)
#: lag bins (ms) of :func:`signal_features`' echo features
LAG_EDGES_MS = (0.25, 0.5, 1, 2, 4, 8, 16, 32, 48)
#: groups of :func:`rir_features`' columns, each read alone by ``--rir`` (accuracy only): what a
#: front end with 10-ms frames might see, and the timing within them
RIR_SUBSETS = {"coarse: RT60, energy from 10 ms on, arrival times": [0, 4, 5, 6, 7, 8, 9, 10, 11],
               "fine: energy under 10 ms, reflection density": [1, 2, 3, *range(12, 28)],
               "reflection density alone": list(range(12, 28))}
#: how much of each example's deconvolved response ``--known-source`` reads (its RIR features reach 0.32 s)
KNOWN_SOURCE_SECONDS = 0.4
#: how many training rooms' examples ``--signal``'s and ``--known-source``'s readers are fitted on (with 900 hybrid ones)
SIGNAL_FIT_ROOMS = 1500
#: groups of :func:`signal_features`' columns, each read alone by ``--signal``
SIGNAL_SUBSETS = {"echoes in the whitened signal": list(range(16)), "level fall slopes": [16, 17, 18]}


def kind_index(kinds) -> np.ndarray:
    """0, 1, 2 for small, medium, large."""
    return np.array([KINDS.index(k) for k in kinds])


def rir_features(bank, sr: int, floor=None) -> np.ndarray:
    """``(n, 28)`` per RIR, counted from its direct sound (its largest peak): the log RT60; the log
    share of the energy in each window of :data:`WINDOWS_MS`; the log time by which 50, 90 and 99 %
    of the energy has arrived; and in each 5-ms window up to 80 ms the share of samples above a
    tenth of the window's peak (how dense the reflections are) and, where ``floor`` gives the RMS
    of each response's floor (its noise), above 3 times that too (reflections that stand out)."""
    edges = [int(ms * sr / 1000) for ms in WINDOWS_MS]
    w = int(0.005 * sr)
    out = []
    floors = np.zeros(len(bank.rt60)) if floor is None else np.asarray(floor, float)
    for rir, rt60, noise in zip(bank.rirs, bank.rt60, floors, strict=True):
        r = np.asarray(rir, float)
        r = r[int(np.argmax(np.abs(r))):]
        e = r ** 2
        total = e.sum() + 1e-20
        f = [np.log(rt60)] + [np.log(e[a:b].sum() / total + 1e-9) for a, b in zip(edges[:-1], edges[1:])]
        cum = np.cumsum(e) / total
        f += [np.log((np.searchsorted(cum, q) + 1) / sr) for q in (0.5, 0.9, 0.99)]
        for k in range(16):
            seg = np.abs(r[k * w:(k + 1) * w])
            f.append(float(np.mean(seg > max(0.1 * seg.max(), 3 * noise))) if len(seg) and seg.max() > 0 else 0.0)
        out.append(f)
    return np.array(out)


def signal_features(x: np.ndarray, sr: int, *, frame: int = 1024, order: int = 16) -> np.ndarray:
    """``(19,)`` blind features of one example ``x``: the echoes and the decay the room leaves in it.

    The frames (``frame`` samples, hop a half, Hann) above -30 dB of the loudest are whitened by
    their own linear prediction (``order``), which takes out the source's and the room's spectral
    colour and leaves its repetitions; the energy-weighted mean of the residuals' normalised
    autocorrelations gives, in each lag bin of :data:`LAG_EDGES_MS`, the log of its mean and of
    its largest magnitude (16). Then the 10th, 25th and 50th percentiles of the falls of the
    10-ms frame level (dB) within 40 dB of the loudest (3)."""
    from scipy.linalg import solve_toeplitz
    from scipy.signal import lfilter

    x = np.asarray(x, np.float64)
    hop = frame // 2
    n = 1 + (len(x) - frame) // hop
    if n < 1:
        raise ValueError(f"an example of {len(x)} samples is shorter than a frame ({frame})")
    frames = x[np.arange(frame)[None] + hop * np.arange(n)[:, None]] * np.hanning(frame)
    energy = (frames ** 2).sum(1)
    frames = frames[energy > 1e-3 * energy.max()] if energy.max() > 0 else frames[:0]
    lags = int(LAG_EDGES_MS[-1] * sr / 1000)
    edges = [int(ms * sr / 1000) for ms in LAG_EDGES_MS]
    ac = np.fft.irfft(np.abs(np.fft.rfft(frames, 2 * frame)) ** 2)[:, :order + 1]
    residuals = np.array([lfilter(np.r_[1.0, -solve_toeplitz(r[:order] + 1e-9 * r[0], r[1:])], [1.0], f)
                          for f, r in zip(frames, ac) if r[0] > 0]).reshape(-1, frame)
    if len(residuals):
        rac = np.fft.irfft(np.abs(np.fft.rfft(residuals, 2 * frame)) ** 2)[:, :lags]
        weight = (residuals ** 2).sum(1)
        mean = np.abs((rac / (rac[:, :1] + 1e-20) * (weight / weight.sum())[:, None]).sum(0))
    else:  # silence
        mean = np.zeros(lags)
    f = [np.log(mean[a:b].mean() + 1e-6) for a, b in zip(edges[:-1], edges[1:])]
    f += [np.log(mean[a:b].max() + 1e-6) for a, b in zip(edges[:-1], edges[1:])]
    h = sr // 100
    level = 10 * np.log10(np.add.reduceat(x[:len(x) // h * h] ** 2, np.arange(0, len(x) // h * h, h)) + 1e-10)
    falls = np.diff(level)
    falls = falls[(falls < 0) & (level[:-1] > level.max() - 40)]
    f += list(np.percentile(falls, [10, 25, 50])) if len(falls) >= 5 else [0.0, 0.0, 0.0]
    return np.array(f)


def noisy_reads(kinds, q: float, rng) -> np.ndarray:
    """``(n, 3)`` one-hot reads of ``kinds``: each right with probability ``q``, else one of the
    two other kinds, equally."""
    t = kind_index(kinds)
    wrong = rng.random(len(t)) >= q
    r = np.where(wrong, (t + rng.integers(1, 3, len(t))) % 3, t)
    return np.eye(3)[r]


def figures(val, ev, probs, median, m) -> dict[str, list[float]]:
    """Per evaluation set, the ``posterior`` pool's measures (``train.probe_pool_rules.MEASURES``)."""
    found = kind_rules(val, ev, probs, median, m, rules=("posterior",))
    return {b.name: summary(b, *found[b.name]["posterior"]) for b in ev}


def feature_probe(bundle: Path, config, sources, sr, val_sets, ev_sets) -> None:
    """``--features``: the kind (and the log volume) read linearly from each member's features."""
    import keras
    from sklearn.linear_model import LogisticRegression, RidgeCV
    from sklearn.model_selection import GroupKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from soundpred.rooms import kind_one_hot
    from train.ensemble import members_of

    members = members_of(bundle, None)
    fe = members[0].frontend
    models = []
    for b in members:
        inner = b.model
        while "pool" not in [layer.name for layer in inner.layers]:  # an ensemble member's network
            inner = [layer for layer in inner.layers if hasattr(layer, "layers")][0]
        f = keras.Model(inner.inputs, [inner.get_layer("pool").output, inner.get_layer("embedding").output])
        wave, hint = keras.Input(shape=(None,)), keras.Input(shape=(4,))
        models.append(keras.Model([wave, hint], f([b.model.get_layer("logmel")(wave), hint])))

    def feats(s):
        x = set_examples(s, fe, config.speech_share)
        h = kind_one_hot(["auto"] * len(x))
        out = []
        for f in models:
            parts = [f.predict_on_batch([x[i:i + 32], h[i:i + 32]]) for i in range(0, len(x), 32)]
            out.append([np.concatenate([p[j] for p in parts]) for j in (0, 1)])
        return out

    fv, fe_ = [feats(s) for s in val_sets], [feats(s) for s in ev_sets]
    y = np.concatenate([kind_index(s.bank.kind) for s in val_sets])
    groups = np.concatenate([s.bank.room + 10000 * i for i, s in enumerate(val_sets)])
    log_v = np.log(np.concatenate([s.bank.volume for s in val_sets]))
    for layer, name in ((0, "pooled trunk features"), (1, "embedding")):
        for j in [*range(len(models)), None]:
            def pick(f):
                return np.hstack([f[k][layer] for k in (range(len(models)) if j is None else [j])])
            x = np.concatenate([pick(f) for f in fv])
            cv, c = max((float(np.mean(cross_val_score(
                make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=3000)), x, y, groups=groups,
                cv=GroupKFold(5)))), c) for c in (0.01, 0.1, 1.0))
            clf = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=3000)).fit(x, y)
            reg = make_pipeline(StandardScaler(), RidgeCV(alphas=np.logspace(-2, 4, 13))).fit(x, log_v)
            print(json.dumps({"features": name, "member": "all" if j is None else j + 1, "C": c,
                              "cv accuracy": round(cv, 3),
                              "accuracy": {s.name: round(float(np.mean(clf.predict(pick(f)) == kind_index(s.bank.kind))), 3)
                                           for s, f in zip(ev_sets, fe_)},
                              "log volume R2": {s.name: round(float(reg.score(pick(f), np.log(s.bank.volume))), 3)
                                                for s, f in zip(ev_sets, fe_)}}), flush=True)


def fit_sets(banks, sources, config, sr: int) -> list:
    """The examples ``--signal`` and ``--known-source`` fit their readers on: the first
    :data:`SIGNAL_FIT_ROOMS` training rooms (``TRAIN``) and 900 hybrid training rooms, with the
    training dry sources."""
    from soundpred.rooms import TRAIN
    from train.distance_eval import EvalSet

    hybrid = make_bank(HYBRID, 900, seed=config.seed + HYBRID_TRAIN_BANK_OFFSET, sr=sr)
    return [EvalSet("training rooms", banks.train.subset(np.arange(min(len(banks.train), SIGNAL_FIT_ROOMS))), TRAIN,
                    config.seed + 13, sources.train_speech, sources.train_clips),
            EvalSet("hybrid training rooms", hybrid, HYBRID, config.seed + 19, sources.train_speech, sources.train_clips)]


def at_snr(sets: list, snr_db: float | None) -> list:
    """``sets`` with every example's noise drawn at ``snr_db`` (``--snr-db``; None: as they are)."""
    from dataclasses import replace

    return sets if snr_db is None else [replace(s, settings=replace(s.settings, snr_db=(snr_db, snr_db))) for s in sets]


def boosting_reader():
    """The reader of every feature probe here (``--rir``, ``--signal``, ``--known-source``)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(max_iter=300, learning_rate=0.05, random_state=0)


def reader_figures(x_fit, y_fit, x_sets: dict, subsets: dict, val, ev, accuracies: dict, median, m) -> dict:
    """A :func:`boosting_reader` fitted on ``x_fit`` (kind indices ``y_fit``) for each group of
    columns in ``subsets`` (name: columns; the pool follows the first); its accuracy on the belief
    sets (``x_sets``: set name: features) goes into ``accuracies``; returns F's figures mixed by
    the first."""
    pooled_by = None
    for name, cols in subsets.items():
        model = boosting_reader().fit(x_fit[:, cols], y_fit)
        probs = {b: model.predict_proba(x[:, cols]) for b, x in x_sets.items()}
        accuracies[name] = accuracy(probs, val + ev)
        pooled_by = pooled_by or probs
    return figures(val, ev, pooled_by, median, m)


def example_reader(feats, subsets: dict, fit: list, sets, val, ev, accuracies: dict, median, m) -> dict:
    """:func:`reader_figures` of ``feats(EvalSet)`` (one row per example), fitted on the ``fit``
    sets' examples."""
    x_fit = np.concatenate([feats(s) for s in fit])
    y_fit = np.concatenate([kind_index(s.bank.kind) for s in fit])
    return reader_figures(x_fit, y_fit, {b.name: feats(s) for s, b in zip(sets, val + ev)}, subsets, val, ev,
                          accuracies, median, m)


def signal_reader(sets, fit, val, ev, sources, config, accuracies: dict, median, m) -> dict:
    """``--signal``: :func:`example_reader` of :func:`signal_features` of the examples the
    members hear (and of each group of :data:`SIGNAL_SUBSETS` alone), fitted on ``fit``
    (:func:`fit_sets`; ``sets`` and ``fit`` as ``--snr-db`` draws them).

    A control: the same reader's accuracy, 5-fold cross-validated by room on the hybrid training
    rooms, when every example plays one and the same speech source (what the features hold of
    the room once the source cannot vary), beside the true responses' :func:`rir_features`."""
    from sklearn.model_selection import GroupKFold, cross_val_score

    from soundpred.models import DISTANCE_FRONTEND as fe
    from train.distance_eval import EvalSet, set_examples

    sr = fe.sample_rate
    hybrid = fit[1].bank

    def feats(s):
        return np.array([signal_features(x, sr) for x in set_examples(s, fe, config.speech_share)])

    one = EvalSet("one source", hybrid, fit[1].settings, config.seed + 19, sources.train_speech[:1],
                  sources.train_speech[:1])
    for name, x in (("signal features, one speech source", feats(one)), ("true room response", rir_features(hybrid, sr))):
        accuracies[f"{name} (hybrid training rooms, cross-validated)"] = round(float(np.mean(cross_val_score(
            boosting_reader(), x, kind_index(hybrid.kind), groups=hybrid.room, cv=GroupKFold(5)))), 3)
    return example_reader(feats, {"signal features": sorted(sum(SIGNAL_SUBSETS.values(), [])), **SIGNAL_SUBSETS},
                          fit, sets, val, ev, accuracies, median, m)


def known_source_responses(s, fe, speech_share: float) -> tuple[list[np.ndarray], np.ndarray]:
    """Each example of set ``s`` (as ``set_examples`` draws it for front end ``fe``) deconvolved by
    its own direct sound (``train.probe_known_source.deconvolve``): the first
    :data:`KNOWN_SOURCE_SECONDS` of positive lags, lag 0 first; and the RMS of each one's floor
    (the example's noise, and what a deconvolution within the window leaves), read where the
    response is silent (the lags from -0.2 to -0.01 s)."""
    from train.probe_known_source import deconvolved

    sr = fe.sample_rate
    heads, floors = [], []
    for h in deconvolved(s, fe.window_samples, sr, speech_share)[1]:  # one at a time: each is 8 s long
        heads.append(h[:int(KNOWN_SOURCE_SECONDS * sr)])
        floors.append(np.sqrt(np.mean(h[-int(0.2 * sr):-int(0.01 * sr)] ** 2)))
    return heads, np.array(floors)


def known_source_reader(sets, fit, val, ev, config, accuracies: dict, median, m) -> dict:
    """``--known-source``: :func:`example_reader` of :func:`rir_features` (all but the true RT60,
    and the reflection density alone) of each example's response as a known source would give
    it (:func:`known_source_responses`), with the reflection density counted against the
    window's peak and against the noise too (the pool follows the latter), fitted on ``fit``. Not a
    blind reader: how much of the kind the examples' noise and colouration leave in their responses."""
    from types import SimpleNamespace

    from soundpred.models import DISTANCE_FRONTEND as fe

    sr = fe.sample_rate

    def feats(s):
        responses, floor = known_source_responses(s, fe, config.speech_share)
        bank = SimpleNamespace(rirs=responses, rt60=s.bank.rt60)
        return np.hstack([rir_features(bank, sr, floor=floor)[:, 1:], rir_features(bank, sr)[:, 1:]])

    n = 27  # rir_features but the RT60; the reflection density is their last 16
    return example_reader(feats, {"known source: response features but the RT60 (density above the noise)": list(range(n)),
                                  "known source: reflection density above the noise alone": list(range(n - 16, n)),
                                  "known source: response features but the RT60": list(range(n, 2 * n)),
                                  "known source: reflection density alone": list(range(2 * n - 16, 2 * n))},
                          fit, sets, val, ev, accuracies, median, m)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--beliefs", required=True, help="train.probe_pool_rules --save output")
    p.add_argument("--members", type=int, help="pool the first N members (default all)")
    p.add_argument("--accuracies", nargs="*", type=float, default=[0.5, 0.6, 0.7, 0.8, 0.9])
    p.add_argument("--draws", type=int, default=20, help="draws of the reads for each --accuracies")
    p.add_argument("--rt60", action="store_true", help="a reader of the true RT60")
    p.add_argument("--rir", action="store_true", help="a reader of the true room response's features")
    p.add_argument("--signal", action="store_true", help="a reader of hand-made features of the examples")
    p.add_argument("--known-source", action="store_true",
                   help="a reader of the examples' responses deconvolved by their own direct sound")
    p.add_argument("--snr-db", type=float, help="--signal and --known-source: every example (fitted and scored) "
                   "at this SNR; accuracies only (F's beliefs are of the card's noisier examples)")
    p.add_argument("--features", type=Path, help="a distance bundle whose members' features to probe")
    args = p.parse_args(argv)
    if any(not 0 <= q <= 1 for q in args.accuracies):
        p.error("--accuracies are probabilities, 0 to 1")
    if args.draws < 1:
        p.error("--draws: at least 1")
    if args.snr_db is not None and not (args.signal or args.known_source):
        p.error("--snr-db: only with --signal or --known-source")
    beliefs = load(args.beliefs)
    val, ev = beliefs["val"], beliefs["eval"]
    m = args.members or val[0].mus.shape[1]
    if not 1 <= m <= val[0].mus.shape[1]:
        p.error(f"--members: 1 to {val[0].mus.shape[1]}, the members in {args.beliefs}")
    config = DistanceConfig()
    sr = 16000
    meta = load_meta(args.beliefs)
    banks = None
    if args.rir or args.signal or args.known_source or args.features or "median" not in meta:
        banks = room_banks(sr, rooms=config.rooms, eval_rooms=config.eval_rooms, seed=config.seed)
    median = meta["median"] if "median" in meta else Baselines.median(banks.train)

    sure = {b.name: np.eye(3)[kind_index(b.kind)] for b in val + ev}
    rows = {"true kind": figures(val, ev, sure, median, m)}
    accuracies = {}
    for q in args.accuracies:
        draws = []
        for d in range(args.draws):
            rng = np.random.default_rng([1000, d])
            draws.append(figures(val, ev, {b.name: noisy_reads(b.kind, q, rng) for b in val + ev}, median, m))
        rows[f"q={q:g}"] = {b.name: np.mean([dr[b.name] for dr in draws], axis=0).tolist() for b in ev}
    if args.rt60:
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(max_iter=1000).fit(np.log(np.concatenate([b.rt60 for b in val]))[:, None],
                                                      np.concatenate([kind_index(b.kind) for b in val]))
        probs = {b.name: model.predict_proba(np.log(b.rt60)[:, None]) for b in val + ev}
        accuracies["true RT60"] = accuracy(probs, val + ev)
        rows["true RT60"] = figures(val, ev, probs, median, m)
    if args.rir or args.signal or args.known_source or args.features:
        sources = dry_sources(sr, n_speech=config.speech, data=config.data)
        sets = belief_sets(beliefs, args.beliefs, sources, banks, sr, config)
        val_sets, ev_sets = sets[:len(val)], sets[len(val):]
    if args.rir or args.signal or args.known_source:
        fit = fit_sets(banks, sources, config, sr)  # the hybrid training rooms, once for every reader
        drawn_fit, drawn_sets = at_snr(fit, args.snr_db), at_snr(sets, args.snr_db)
    if args.rir:
        fit_banks = [banks.train, fit[1].bank]
        x_fit = np.concatenate([rir_features(b, sr) for b in fit_banks])
        rows["true room response"] = reader_figures(
            x_fit, np.concatenate([kind_index(b.kind) for b in fit_banks]),
            {b.name: rir_features(s.bank, sr) for s, b in zip(sets, val + ev)},
            {"true room response": list(range(x_fit.shape[1])), **RIR_SUBSETS}, val, ev, accuracies, median, m)
    if args.signal:
        found = signal_reader(drawn_sets, drawn_fit, val, ev, sources, config, accuracies, median, m)
        if args.snr_db is None:
            rows["signal features"] = found
    if args.known_source:
        found = known_source_reader(drawn_sets, drawn_fit, val, ev, config, accuracies, median, m)
        if args.snr_db is None:
            rows["known source"] = found
    if args.features:
        feature_probe(args.features, config, sources, sr, val_sets, ev_sets)

    print(json.dumps({"reader accuracy": accuracies,
                      "always medium": always_medium(val + ev)}))
    auto = kind_rules(val, ev, {b.name: np.ones((len(b.distance), 3)) / 3 for b in val + ev}, median, m,
                      rules=("auto",))
    rows = {"auto": {b.name: summary(b, *auto[b.name]["auto"]) for b in ev}, **rows}
    print("\n| reader | " + " | ".join(b.name for b in ev) + " |\n|---|" + "---|" * len(ev))
    for name, found in rows.items():
        print(f"| {name} | " + " | ".join(" / ".join(f"{v:.3f}" for v in found[b.name][:3]) for b in ev) + " |")


if __name__ == "__main__":
    main()
