"""Probe: what reading the room's kind would be worth to the distance ensemble in ``auto``, and
what can read it.

    python -m train.probe_room_kind --beliefs runs/s46/u5_rules.npz --members 4
    python -m train.probe_room_kind --beliefs runs/s46/u5_rules.npz --members 4 --rir --rt60 \\
        --features models/distance

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
- ``--features BUNDLE``: the accuracy (no pool) of a logistic regression of the kind on each
  member's pooled trunk features and embedding (``auto``), fitted on the validation examples,
  with C chosen by 5-fold cross-validation grouped by room; and a ridge fit of the log volume.

Measured (docs/distance.md, session 49): neither the RT60 nor the default's networks read the
kind much better than always answering ``medium``; the true room response does (0.72–0.83), and
mixed by it the default gains the held-out and hybrid rooms and loses the shifted ones.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from soundpred.rooms import HYBRID, make_bank
from train.distance_eval import HYBRID_TRAIN_BANK_OFFSET, Baselines, DistanceConfig, dry_sources, room_banks, set_examples
from train.probe_pool_rules import load, load_meta, summary
from train.room_kind import KINDS, accuracy, belief_sets, kind_rules

WINDOWS_MS = (0, 2.5, 5, 10, 20, 40, 80, 160, 320)
#: groups of :func:`rir_features`' columns, each read alone by ``--rir`` (accuracy only): what a
#: front end with 10-ms frames might see, and the timing within them
RIR_SUBSETS = {"coarse: RT60, energy from 10 ms on, arrival times": [0, 4, 5, 6, 7, 8, 9, 10, 11],
               "fine: energy under 10 ms, reflection density": [1, 2, 3, *range(12, 28)],
               "reflection density alone": list(range(12, 28))}


def kind_index(kinds) -> np.ndarray:
    """0, 1, 2 for small, medium, large."""
    return np.array([KINDS.index(k) for k in kinds])


def rir_features(bank, sr: int) -> np.ndarray:
    """``(n, 28)`` per RIR, counted from its direct sound (its largest peak): the log RT60; the log
    share of the energy in each window of :data:`WINDOWS_MS`; the log time by which 50, 90 and 99 %
    of the energy has arrived; and in each 5-ms window up to 80 ms the share of samples above a
    tenth of the window's peak (how dense the reflections are)."""
    edges = [int(ms * sr / 1000) for ms in WINDOWS_MS]
    w = int(0.005 * sr)
    out = []
    for rir, rt60 in zip(bank.rirs, bank.rt60):
        r = np.asarray(rir, float)
        r = r[int(np.argmax(np.abs(r))):]
        e = r ** 2
        total = e.sum() + 1e-20
        f = [np.log(rt60)] + [np.log(e[a:b].sum() / total + 1e-9) for a, b in zip(edges[:-1], edges[1:])]
        cum = np.cumsum(e) / total
        f += [np.log((np.searchsorted(cum, q) + 1) / sr) for q in (0.5, 0.9, 0.99)]
        for k in range(16):
            seg = np.abs(r[k * w:(k + 1) * w])
            f.append(float(np.mean(seg > 0.1 * seg.max())) if len(seg) and seg.max() > 0 else 0.0)
        out.append(f)
    return np.array(out)


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


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--beliefs", required=True, help="train.probe_pool_rules --save output")
    p.add_argument("--members", type=int, help="pool the first N members (default all)")
    p.add_argument("--accuracies", nargs="*", type=float, default=[0.5, 0.6, 0.7, 0.8, 0.9])
    p.add_argument("--draws", type=int, default=20, help="draws of the reads for each --accuracies")
    p.add_argument("--rt60", action="store_true", help="a reader of the true RT60")
    p.add_argument("--rir", action="store_true", help="a reader of the true room response's features")
    p.add_argument("--features", type=Path, help="a distance bundle whose members' features to probe")
    args = p.parse_args(argv)
    if any(not 0 <= q <= 1 for q in args.accuracies):
        p.error("--accuracies are probabilities, 0 to 1")
    if args.draws < 1:
        p.error("--draws: at least 1")
    beliefs = load(args.beliefs)
    val, ev = beliefs["val"], beliefs["eval"]
    m = args.members or val[0].mus.shape[1]
    if not 1 <= m <= val[0].mus.shape[1]:
        p.error(f"--members: 1 to {val[0].mus.shape[1]}, the members in {args.beliefs}")
    config = DistanceConfig()
    sr = 16000
    meta = load_meta(args.beliefs)
    banks = None
    if args.rir or args.features or "median" not in meta:
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
    if args.rir or args.features:
        sources = dry_sources(sr, n_speech=config.speech, data=config.data)
        sets = belief_sets(beliefs, args.beliefs, sources, banks, sr, config)
        val_sets, ev_sets = sets[:len(val)], sets[len(val):]
    if args.rir:
        from sklearn.ensemble import HistGradientBoostingClassifier

        hybrid = make_bank(HYBRID, 900, seed=config.seed + HYBRID_TRAIN_BANK_OFFSET, sr=sr)
        fit = [banks.train, hybrid]
        x_fit, y_fit = np.concatenate([rir_features(b, sr) for b in fit]), np.concatenate([kind_index(b.kind) for b in fit])
        x_sets = {b.name: rir_features(s.bank, sr) for s, b in zip(sets, val + ev)}
        pooled_by = None
        for name, cols in {"true room response": list(range(x_fit.shape[1])), **RIR_SUBSETS}.items():
            model = HistGradientBoostingClassifier(max_iter=300, learning_rate=0.05, random_state=0).fit(
                x_fit[:, cols], y_fit)
            probs = {b: model.predict_proba(x[:, cols]) for b, x in x_sets.items()}
            accuracies[name] = accuracy(probs, val + ev)
            pooled_by = pooled_by or probs  # the pool follows the reader of every feature
        rows["true room response"] = figures(val, ev, pooled_by, median, m)
    if args.features:
        feature_probe(args.features, config, sources, sr, val_sets, ev_sets)

    print(json.dumps({"reader accuracy": accuracies,
                      "always medium": {b.name: round(float(np.mean(b.kind == "medium")), 3) for b in val + ev}}))
    auto = kind_rules(val, ev, {b.name: np.ones((len(b.distance), 3)) / 3 for b in val + ev}, median, m,
                      rules=("auto",))
    rows = {"auto": {b.name: summary(b, *auto[b.name]["auto"]) for b in ev}, **rows}
    print("\n| reader | " + " | ".join(b.name for b in ev) + " |\n|---|" + "---|" * len(ev))
    for name, found in rows.items():
        print(f"| {name} | " + " | ".join(" / ".join(f"{v:.3f}" for v in found[b.name][:3]) for b in ev) + " |")


if __name__ == "__main__":
    main()
