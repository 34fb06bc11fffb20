"""Combine distance bundles into one ensemble bundle, calibrate it on validation rooms, evaluate it.

    python -m train.ensemble models/distance models/distance-rooms runs/m2 --out runs/ensemble \\
        --compare models/distance              # is it better than the current default?
    python -m train.distance --evaluate runs/ensemble     # evaluation only, later

The members (distance bundles reading one sample rate and window; their STFT hops may differ)
become one Keras model: a log-mel layer per front end, shared by the members of that front end,
each member's network, and the moment-matched Gaussian of their beliefs
(``soundpred.models.GaussianPool``). Two numbers are then fitted on validation rooms that no
member trained on and no evaluation set uses (``train.distance_eval.validation_sets``: the
training and the hybrid simulation, other seeds):

1. ``sigma_scale``, the factor on the pooled standard deviation that makes the 90 % interval
   cover 90 % of the validation distances (an ensemble's disagreement tends to widen it);
2. ``point_shrink`` (``soundpred.distance.point_estimate``): the estimate is
   ``exp(mu - shrink * sigma**2)``, between the median of the belief (least expected absolute
   error) and the value with the least expected relative error. Of 0, 0.05, ..., 1, the one with
   the least relative error among those whose MAE is no worse than the median's (each error
   relative to always answering the training median, averaged over the validation sets):
   relative error bought without giving up absolute error;
3. with ``--hint-share fit`` (or a number), if some members take the room kind and others do
   not: the total weight of the members that take it in examples whose kind is given
   (``GaussianPool``'s ``hinted_weights``; with "auto" every member counts the same). ``fit``
   takes, of their equal share and 0, 0.1, ..., 1, the one with the least mean of MAE and
   relative error (each over the median guess's) on the validation rooms with their true kinds.
   The default, ``equal``, keeps every member's weight the same (the scores of every share are
   still printed and stored). Measured (docs/distance.md): the fitted share helps the hybrid and
   broad sets and hurts the held-out and shifted ones, so the embedded default keeps ``equal``.
4. with ``--kind-weights fit`` instead (every member may take the kind): for each room kind
   (small, medium, large) apart, the members' weights for examples whose kind is given. Of the
   equal weights and every vector of multiples of 0.1 summing to 1 (:func:`simplex_grid`), the
   one with the least mean of MAE and relative error over the median guess's on that kind's
   validation examples, every member told the true kind (:func:`choose_kind_weights`). With
   "auto" the members still count the same, so the ensemble's auto answers do not change.

5. with ``--weights w1,w2,...`` (one per member, normalised to sum to 1), the members' weights are
   those instead of equal ones, with auto and with a room kind alike; the scale and shrink are
   fitted for that mixture. It takes neither ``--hint-share`` nor ``--kind-weights fit``. So
   ``python -m train.ensemble models/distance:1,2 runs/new models/distance:3,4 --weights 2,2,2,3,3``
   lets a third seed of members 1-2's recipe share their half of the weight.

An ensemble bundle given as a member brings its members (:func:`unpack`): ``python -m
train.ensemble models/distance --out runs/hintfit --hint-share fit`` pools the default's three
again, with the fitted share, without their folders. ``FOLDER:N,M`` brings only its members N and
M (counted from 1, as its card lists them; :func:`member_arg`): ``python -m train.ensemble
models/distance:1 runs/new models/distance:3 --out runs/e_new`` puts a new model in member 2's
place, on a fresh machine where the members' folders are gone.

Then the ensemble is scored on the evaluation sets of ``train.distance`` (held-out rooms,
shifted, broad and hybrid simulation), beside the ``--compare`` bundles on the same examples.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import itertools
import shlex
import sys
import time
from dataclasses import replace
from pathlib import Path

import keras
import numpy as np

from soundpred.bundle import Bundle, load_bundle, save_bundle
from soundpred.distance import COVERAGE, point_estimate, point_shrink, z_value
from soundpred.features import LogMel
from soundpred.metrics import mae_rel
from soundpred.models import GaussianPool, build_distance_ensemble, hinted_weights, member_frontends, takes_room_hint
from soundpred.rooms import ROOM_KINDS
from train.common import HubPush, add_hub_args, finish_bundle
from train.distance_eval import (
    MEMBER_HEADS,
    TWINS,
    Baselines,
    DistanceConfig,
    dry_sources,
    eval_sets,
    evaluate,
    predict_model,
    room_banks,
    rt60_table,
    set_examples,
    source_table,
    spread_table,
    table,
    validation_sets,
    write_card,
)

SHRINK_GRID = np.round(np.arange(0.0, 1.0001, 0.05), 2)
#: the grid of ``--kind-weights fit``: every member weight a multiple of this
KIND_WEIGHT_STEP = 0.1
#: the sets and measures on which a new default must beat the current one (issue 12, item 5)
DECISION_SETS = ("held-out rooms", "shifted simulation")
#: what the ensemble's card and meta keep of each member's training (its bundle's meta)
#: the loss weights of the training-only heads a member may have had (the card words them: ``MEMBER_HEADS``)
HEAD_WEIGHTS = tuple(key for key, _ in MEMBER_HEADS)
MEMBER_FIELDS = ("command", "train_seconds", "hybrid_share", "hybrid_rt60_free", "hybrid_train_prior",
                 "hybrid_prior_mix", *(t.key for t in TWINS), *HEAD_WEIGHTS)


def member_training(meta: dict) -> dict:
    """A member's :data:`MEMBER_FIELDS` from its meta; a share it never had is 0 (so is the
    hybrid share of a member trained without hybrid rooms: bundles before session 32 kept the
    option's value)."""
    training = meta.get("training", {})
    fields = {k: training.get(k, 0.0 if k.endswith(("_share", "_weight")) else None) for k in MEMBER_FIELDS}
    if training.get("hybrid_rirs") == 0:
        fields["hybrid_share"] = 0.0
    missing = [k for k in HEAD_WEIGHTS if k not in training]
    if missing:  # an ensemble's record from before session 36 kept the command only
        config = command_config(training.get("command") or "")
        fields.update({k: getattr(config, k) for k in missing} if config else {})
    return fields


def command_config(command: str):
    """The ``DistanceConfig`` of a ``python -m train.distance ...`` command line (None for
    any other command, or one that no longer parses)."""
    words = shlex.split(command)
    if words[:3] != ["python", "-m", "train.distance"]:
        return None
    from train.distance import parse_args  # not at import: train.distance is the larger module

    try:
        with contextlib.redirect_stderr(io.StringIO()):  # argparse's usage text is not news here
            return parse_args(words[3:])[1]
    except SystemExit:
        return None


def fit_sigma_scale(mu, sigma, log_d, coverage: float = COVERAGE) -> float:
    """The factor on ``sigma`` whose ``coverage`` interval covers that share of ``log_d``."""
    return float(np.quantile(np.abs(log_d - mu) / sigma, coverage) / z_value(coverage))


def error_ratios(estimate, d, median: float) -> tuple[float, float]:
    """``(MAE / MAE_median, rel / rel_median)``: the errors of ``estimate`` over those of always
    answering the training ``median``."""
    (mae, rel), (mae0, rel0) = mae_rel(estimate, d), mae_rel(median, d)
    return mae / mae0, rel / rel0


def shrink_errors(mu, sigma, d, median: float) -> dict[float, tuple[float, float]]:
    """:func:`error_ratios` of :func:`point_estimate` for each shrink of the grid."""
    return {float(c): error_ratios(point_estimate(mu, sigma, c), d, median) for c in SHRINK_GRID}


def choose_shrink(errors: list[dict[float, tuple[float, float]]], base: float = 0.0) -> float:
    """The shrink with the least relative error, averaged over the sets' ``errors``, among those
    whose MAE is no worse than that of the belief's median (shrink 0, or the setting ``base``):
    relative error bought without giving up absolute error."""
    mean = {c: np.mean([e[c] for e in errors], axis=0) for c in errors[0]}
    feasible = [c for c in mean if mean[c][0] <= mean[base][0]]
    return min(feasible, key=lambda c: mean[c][1])


def mixture(mus, sigmas, weights=None) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of the mixture of Gaussian beliefs ``(members, n)`` with
    ``weights`` (one per member, or ``(members, n)``: one per member and example; None: equal),
    as ``GaussianPool`` computes them."""
    mus, sigmas = np.asarray(mus, float), np.asarray(sigmas, float)
    w = np.full((len(mus), 1), 1.0 / len(mus)) if weights is None else np.asarray(weights, float)
    w = w[:, None] if w.ndim == 1 else w
    mu = (w * mus).sum(0)
    return mu, np.sqrt(np.maximum((w * (sigmas ** 2 + mus ** 2)).sum(0) - mu ** 2, 1e-8))


def member_beliefs(members, x, kinds=None) -> tuple[np.ndarray, np.ndarray]:
    """``(mus, sigmas)``, ``(members, n)``: each member bundle's belief over log-distance for the
    examples ``x`` (``kinds``: the room kind told to members that take it; None: "auto")."""
    out = [predict_model(b.model, x, kinds) for b in members]
    return np.array([o[0] for o in out]), np.exp(np.array([o[1] for o in out]))


def validation_score(beliefs, weights, median: float, shrink: float, scale: float) -> float:
    """The mean over sets of MAE and relative error, each over the median guess's, of the members'
    beliefs pooled with ``weights`` (None: equal). ``beliefs``: per set ``(mus, sigmas, d)``."""
    errs = []
    for mus, sigmas, d in beliefs:
        mu, sigma = mixture(mus, sigmas, weights)
        errs.append(np.mean(error_ratios(point_estimate(mu, scale * sigma, shrink), d, median)))
    return float(np.mean(errs))


def choose_hint_share(takes_hint: list[bool], beliefs: list[tuple], median: float, shrink: float,
                      scale: float) -> tuple[float | None, dict]:
    """The ``hint_share`` (None: the members' equal share) with the least mean of MAE and relative
    error over the median guess's, averaged over validation sets. ``beliefs``: per set,
    ``(mus, sigmas, d)`` of every member with the true room kind given, ``(members, n)``."""
    grid = [None] + [float(c) for c in np.round(np.arange(0.0, 1.0001, 0.1), 1)]
    scores = {share: validation_score(beliefs, None if share is None else hinted_weights(takes_hint, share),
                                      median, shrink, scale) for share in grid}
    best = min(grid, key=lambda c: (scores[c], c is not None))  # a tie keeps the equal share
    return best, {"equal" if c is None else str(c): round(v, 4) for c, v in scores.items()}


def simplex_grid(n: int, step: float = KIND_WEIGHT_STEP) -> list[np.ndarray]:
    """Every weight vector over ``n`` members on a grid of ``step`` that sums to 1."""
    k = round(1 / step)
    # stars and bars: the places of n - 1 bars among k + n - 1 cut k steps into n parts
    return [(np.diff([-1, *bars, k + n - 1]) - 1) / k for bars in itertools.combinations(range(k + n - 1), n - 1)]


def choose_kind_weights(beliefs: list[tuple], kinds: list[np.ndarray], median: float, shrink: float,
                        scale: float) -> tuple[list[list[float]], dict]:
    """Per room kind (small, medium, large), the members' weights for examples whose kind is
    given: of their equal weights and every vector of :func:`simplex_grid`, the one with the
    least mean of MAE and relative error over the median guess's (:func:`validation_score`) on that
    kind's validation examples (a tie keeps the equal weights). ``beliefs``: per set,
    ``(mus, sigmas, d)`` of every member told the true kind, ``(members, n)``; ``kinds``: per
    set, each example's true kind. Returns the weights, one list per kind, and per kind the
    score of the equal weights and of the chosen ones, with the examples it was fitted on."""
    n = len(beliefs[0][0])
    equal = np.full(n, 1.0 / n)
    grid = [equal, *simplex_grid(n)]
    chosen, scores = [], {}
    for kind in ROOM_KINDS[1:]:
        sub = [(mus[:, k == kind], sigmas[:, k == kind], d[k == kind]) for (mus, sigmas, d), k in zip(beliefs, kinds)]
        sub = [b for b in sub if len(b[2])]
        if not sub:  # no validation room of this kind: nothing to fit on
            chosen.append(equal.tolist())
            continue
        score = [validation_score(sub, w, median, shrink, scale) for w in grid]
        best = int(np.argmin(score))
        best = 0 if score[0] - score[best] <= 1e-9 else best  # a tie, to rounding: the equal weights
        chosen.append([float(w) for w in grid[best]])  # unrounded: thirds must still sum to 1
        scores[kind] = {"equal": round(score[0], 4), "chosen": round(score[best], 4),
                        "examples": int(sum(len(b[2]) for b in sub))}
    return chosen, scores


def unpack(bundle: Bundle) -> list[Bundle]:
    """The members of an ensemble bundle, each a distance model of its own (its network after a
    log-mel layer of the ensemble's front end), with what the ensemble's card records of its
    training; any other bundle as it is. So an ensemble can be pooled again, with another room
    kind share, without the member folders it was built from."""
    if not any(isinstance(layer, GaussianPool) for layer in bundle.model.layers):
        return [bundle]
    nets = [layer for layer in bundle.model.layers if isinstance(layer, keras.Model)]
    info = bundle.meta.get("training", {}).get("members") or [{} for _ in nets]
    members = []
    for net, fe, about in zip(nets, member_frontends(bundle.model), info):
        wave = keras.Input(shape=(None,), name="waveform")
        features = LogMel(fe.to_dict(), name="logmel")(wave)
        if len(net.inputs) == 2:
            hint = keras.Input(shape=(4,), name="room_hint")
            model = keras.Model([wave, hint], net([features, hint]), name=net.name)
        else:
            model = keras.Model(wave, net(features), name=net.name)
        meta = {"name": about.get("name", net.name),
                "training": {k: about[k] for k in ("folder", *MEMBER_FIELDS)
                             if about.get(k) is not None}}
        members.append(replace(bundle, model=model, frontend=fe, meta=meta, source=f"{bundle.source}:{net.name}"))
    return members


def member_arg(text: str) -> tuple[Path, list[int] | None]:
    """A member argument: a bundle folder, or ``FOLDER:N,M``, the members N and M of an
    ensemble bundle (counted from 1); ``(folder, None)`` for all of its members. A folder whose
    name holds a colon is taken as it is."""
    path, sep, picks = text.rpartition(":")
    if not sep or Path(text).exists() or not picks.replace(",", "").isdigit():
        return Path(text), None
    numbers = [int(n) for n in picks.split(",") if n]
    if not numbers or min(numbers) < 1:
        raise argparse.ArgumentTypeError(f"members are counted from 1, as the card lists them: {text!r}")
    return Path(path), [n - 1 for n in numbers]


def members_of(path: Path, picks: list[int] | None) -> list[Bundle]:
    """The members a :func:`member_arg` names: an ensemble's (all, or those picked), or the bundle."""
    members = unpack(load_bundle(path))
    if picks is None:
        return members
    if members[0].source == str(path) or max(picks) >= len(members):
        raise SystemExit(f"{path} has {len(members)} member(s); cannot take member(s) "
                         + ",".join(str(i + 1) for i in picks))
    return [members[i] for i in picks]


def one_member(path: Path, picks: list[int] | None) -> Bundle:
    """The one network a :func:`member_arg` names: member N of an ensemble (``FOLDER:N``), or the
    bundle at ``path`` (as it is, an ensemble too) where no member is picked; ValueError for more."""
    if picks is None:
        return load_bundle(path)
    if len(picks) != 1:
        raise ValueError(f"{path}:{','.join(str(i + 1) for i in picks)}: one member of an ensemble, "
                         f"not {len(picks)}")
    return members_of(path, picks)[0]


def beats(new: dict, old: dict, sets=DECISION_SETS) -> dict[str, dict[str, bool]]:
    """Per set, whether ``new`` has a lower MAE and relative error and a higher rank correlation."""
    return {s: {"mae_m": new[s]["model"]["mae_m"] < old[s]["model"]["mae_m"],
                "rel_error": new[s]["model"]["rel_error"] < old[s]["model"]["rel_error"],
                "spearman": new[s]["model"]["spearman"] > old[s]["model"]["spearman"]} for s in sets}


def _hint_share(text: str):
    if text in ("equal", "fit"):
        return text
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"'equal', 'fit' or a number in [0, 1], not {text!r}")
    return value


def weights_arg(text: str) -> list[float]:
    """``w1,w2,...`` as weights summing to 1: each >= 0 and finite, not all 0 (NaN refused)."""
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = []
    total = sum(values)
    if not (values and min(values) >= 0 and 0 < total < float("inf")):  # NaN fails too
        raise argparse.ArgumentTypeError(f"weights >= 0, not all 0, separated by commas, not {text!r}")
    return [v / total for v in values]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("members", nargs="+", type=member_arg,
                   help="distance bundle folders; FOLDER:N,M takes members N and M of an ensemble (from 1)")
    p.add_argument("--out", type=Path, required=True, help="ensemble bundle folder to write")
    p.add_argument("--compare", nargs="*", type=Path, default=[], help="bundles to score on the same examples")
    d = DistanceConfig()
    p.add_argument("--hint-share", default="equal", type=_hint_share,
                   help="weight of the members that take the room kind when one is given: 'equal' (every member "
                        "the same), 'fit' (chosen on validation rooms) or a number in [0, 1]")
    p.add_argument("--kind-weights", choices=("equal", "fit"), default="equal",
                   help="the members' weights when a room kind is given: 'equal' (as with auto, or as --hint-share "
                        "says) or 'fit': per kind, chosen on validation rooms of that kind (every member "
                        "a multiple of 0.1)")
    p.add_argument("--weights", type=weights_arg,
                   help="w1,w2,...: the members' weights (normalised to sum to 1), with auto and with a kind alike; "
                        "default: equal")
    p.add_argument("--validation-rooms", type=int, default=100, help="rooms per validation set (4 pairs each)")
    p.add_argument("--rooms", type=int, default=d.rooms, help="training rooms of the baselines (as in train.distance)")
    p.add_argument("--eval-rooms", type=int, default=d.eval_rooms, help="rooms per evaluation set")
    p.add_argument("--speech", type=int, default=d.speech, help="espeak-ng utterances")
    add_hub_args(p)
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    t0 = time.time()
    config = DistanceConfig(rooms=args.rooms, eval_rooms=args.eval_rooms, speech=args.speech)
    keras.utils.set_random_seed(config.seed)
    # an ensemble given as a member contributes its members (pooled again, e.g. with --hint-share)
    unpacked = [(p, members_of(p, picks)) for p, picks in args.members]
    members = [m for _, ms in unpacked for m in ms]
    if any(b.task != "distance" for b in members):
        raise SystemExit("every member must be a distance bundle")
    takes_hint = [takes_room_hint(b.model) for b in members]
    weights = args.weights
    if weights is not None and len(weights) != len(members):
        raise SystemExit(f"--weights: {len(weights)} weights for {len(members)} members")
    if weights is not None and (args.hint_share != "equal" or args.kind_weights == "fit"):
        raise SystemExit("--weights takes neither --hint-share nor --kind-weights fit")
    if args.kind_weights == "fit" and (args.hint_share != "equal" or not any(takes_hint)):
        raise SystemExit("--kind-weights fit needs a member that takes the room kind, and no --hint-share")
    folders = [str(p) if m.source == str(p) else f"{p}, {m.model.name} (from {m.meta['training'].get('folder')})"
               for p, ms in unpacked for m in ms]
    fe = members[0].frontend  # the bundle's; for the windows and the baselines (one rate and window)
    sr = fe.sample_rate
    sources = dry_sources(sr, n_speech=config.speech, data=config.data)
    banks = room_banks(sr, rooms=config.rooms, eval_rooms=config.eval_rooms, seed=config.seed)
    base = Baselines.fit(banks.train, sources, fe, seed=config.seed, speech_share=config.speech_share)

    val, val_kind, kinds = [], [], []
    for s in validation_sets(sources, sr, rooms=args.validation_rooms, seed=config.seed):
        x = set_examples(s, fe, config.speech_share)
        auto = member_beliefs(members, x)
        mu, sigma = mixture(*auto, weights)
        val.append((s.name, mu, sigma, s.bank.distance))
        if args.kind_weights == "fit" or (any(takes_hint) and not all(takes_hint)):
            mus, sigmas = auto[0].copy(), auto[1].copy()  # told the kind, only the members that take it change
            hinted = np.flatnonzero(takes_hint)
            mus[hinted], sigmas[hinted] = member_beliefs([members[i] for i in hinted], x, s.bank.kind)
            val_kind.append((mus, sigmas, s.bank.distance))
            kinds.append(np.asarray(s.bank.kind))
    scale = fit_sigma_scale(np.concatenate([v[1] for v in val]), np.concatenate([v[2] for v in val]),
                            np.log(np.concatenate([v[3] for v in val])))
    errors = [shrink_errors(mu, scale * sigma, d, base.train_median) for _, mu, sigma, d in val]
    shrink = choose_shrink(errors)
    mean_errors = {c: [round(float(v), 4) for v in np.mean([e[c] for e in errors], axis=0)] for c in errors[0]}
    print(f"validation: sigma_scale {scale:.3f}, point_shrink {shrink:g}; MAE and relative error over the "
          f"median guess's by shrink: " + ", ".join(f"{c:g}: {v[0]:.3f}/{v[1]:.3f}" for c, v in mean_errors.items()),
          file=sys.stderr)
    hint_share, hint_scores, fitted = None, {}, None
    kind_weights, kind_scores = None, {}
    if args.kind_weights == "fit":
        kind_weights, kind_scores = choose_kind_weights(val_kind, kinds, base.train_median, shrink, scale)
        print("validation with the room kind: weights per kind "
              + "; ".join(f"{k} {w} ({kind_scores[k]['chosen']:.3f} against {kind_scores[k]['equal']:.3f} with equal "
                          f"weights, {kind_scores[k]['examples']} examples)" if k in kind_scores else f"{k} {w} (no example)"
                          for k, w in zip(ROOM_KINDS[1:], kind_weights)), file=sys.stderr)
    elif val_kind and not all(takes_hint) and weights is None:
        fitted, hint_scores = choose_hint_share(takes_hint, val_kind, base.train_median, shrink, scale)
        hint_share = {"equal": None, "fit": fitted}.get(args.hint_share, args.hint_share)
        print(f"validation with the room kind: fitted hint_share {fitted}, used {hint_share} (mean error over the "
              f"median guess's: "
              + ", ".join(f"{c}: {v:.3f}" for c, v in hint_scores.items()) + ")", file=sys.stderr)

    model = build_distance_ensemble([b.model for b in members], sigma_scale=scale, hint_share=hint_share,
                                    kind_weights=kind_weights, weights=weights)
    out = args.out
    figs = out / "figures"
    figs.mkdir(parents=True, exist_ok=True)
    sets = eval_sets(banks, sources, config.seed)
    results = evaluate(model, fe, sets, base.train_median, speech_share=config.speech_share, ridge=base.ridge,
                       oracle=base.oracle, figs=figs, shrink=shrink)
    print(table(results), spread_table(results), source_table(results), rt60_table(results), sep="\n\n")

    compared = {}
    for c in args.compare:
        b = load_bundle(c)
        compared[str(c)] = evaluate(b.model, b.frontend, sets, base.train_median, speech_share=config.speech_share,
                                    shrink=point_shrink(b.meta))
        verdict = beats(results, compared[str(c)])
        print(f"\nagainst {c}: " + "; ".join(f"{s}: " + ", ".join(f"{k} {'better' if v else 'NOT better'}"
                                                                  for k, v in w.items()) for s, w in verdict.items()))
    training = {
        "members": [{"folder": p, "name": b.name, **member_training(b.meta), "room_hint": takes_room_hint(b.model)}
                    for p, b in zip(folders, members)],
        "sigma_scale": round(scale, 4), "point_shrink": shrink, "hint_share": hint_share,
        "hint_share_fitted": fitted,
        "kind_weights": None if kind_weights is None else dict(zip(ROOM_KINDS[1:], kind_weights)),
        "weights": None if weights is None else [round(w, 6) for w in weights],
        "train_median_m": base.train_median,
        "validation": {"rooms_per_set": args.validation_rooms, "sets": [v[0] for v in val],
                       "errors_by_shrink": {str(c): v for c, v in mean_errors.items()},
                       "errors_by_hint_share": hint_scores, "errors_by_kind_weights": kind_scores},
        "compared": {str(c): {s: {k: r[s]["model"][k] for k in ("mae_m", "rel_error", "spearman", "coverage")}
                              for s in r} for c, r in compared.items()},
        "seconds": round(time.time() - t0, 1),
        "command": "python -m train.ensemble " + " ".join(sys.argv[1:] if argv is None else argv),
    }
    save_bundle(model, out, frontend=fe, task="distance", metrics=results, training=training,
                card=write_card(training, results), name="soundpred-distance-ensemble",
                extra_meta={"point_shrink": shrink})
    finish_bundle(out, {"members": [str(p) + (":" + ",".join(str(i + 1) for i in picks) if picks else "")
                                    for p, picks in args.members], "validation_rooms": args.validation_rooms},
                  [], task="distance", push=HubPush.from_args(args))
    return results, compared


if __name__ == "__main__":
    main()
