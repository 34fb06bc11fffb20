"""Probe: other ways to pool an ensemble's members than the mixture of their beliefs.

    python -m train.probe_pool_rules models/distance --save runs/pool_rules.npz
    python -m train.probe_pool_rules models/distance --load runs/pool_rules.npz \\
        --seeds shifted:1001 shifted:1002 held-out:1011 held-out:1012
    python -m train.probe_pool_rules runs/rd runs/rd15 runs/rd16 --save runs/rd3.npz --rules mixture
    python -m train.probe_pool_rules --load runs/pool_rules.npz runs/rd3.npz --rules mixture \\
        --weights F=1,1,1,1,0,0,0 R3=3,3,0,3,1,1,1 --reference F

Each member's belief over log-distance is computed once per room hint (``auto``, ``small``,
``medium``, ``large``) on the validation rooms (``train.distance_eval.validation_sets``, where
``train.ensemble`` fits its numbers), on the examples of the card's evaluation sets and, with
``--seeds``, on fresh draws of rooms (``SET:SEED``, as ``train.probe_shifted --seeds``). Then
each rule of :data:`RULES` pools them (``auto`` for the person who names no room):

- ``mixture``: the ensemble's own ``GaussianPool`` (equal weights), the reference;
- ``median``: the median of the members' means;
- ``precision``: the members' means weighted by ``1 / sigma²``;
- ``weighted``: the mixture with one weight per member (multiples of 0.1,
  ``train.ensemble.simplex_grid``), chosen on validation;
- ``kinds``: the mixture over members and hints, ``auto`` with weight ``a`` and each room kind
  with ``1 - a`` times its share of the training rooms (``a`` from :data:`AUTO_WEIGHTS`, chosen
  on validation);
- ``posterior``: the same mixture over the three kinds, each weighted by its probability given the
  example, from a logistic regression of the true kind on every member's belief under every hint
  (:func:`kind_features`), fitted on the validation examples;
- ``stack``: least squares of the log distance on the members' means on the validation examples.

``--weights NAME=w1,w2,...`` adds mixtures with fixed weights, one per member (normalised to sum
to 1), named NAME. The members are an ensemble bundle's, or those of several bundles
(``FOLDER`` or ``FOLDER:N,M``, as ``train.ensemble`` takes them), in the order given. Several
``--load`` files pool their members side by side (the first file's, then the next's), when they
hold the same examples; so a probe of new networks beside an ensemble's needs only the new
networks' beliefs (their ``--save``).

``median``, ``precision`` and ``stack`` keep the mixture's standard deviation. For each rule the
interval's scale and the point estimate's shrink are fitted on validation as ``train.ensemble``
fits them. Printed per set: MAE m / relative error / rank correlation / within-room rank / 90 %
coverage, and each rule against ``mixture`` (or ``--reference``) by the paired bootstrap over rooms
(2000 draws, 90 % interval of rule − reference). ``--save`` keeps the beliefs (and the training
rooms' median distance and kind shares), ``--load`` reuses them (the fresh draws of ``--seeds``
are added to what was loaded).

Measured on the default (docs/distance.md, session 45): ``median`` and ``precision`` win the
held-out and shifted rooms by a few thousandths and lose the hybrid rooms clearly; the others
lose the held-out rooms. Session 47: three seeds of one fine-tune sharing the rooms model's
weight (R3, above) gain relative error and lose MAE.
"""
from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, replace

import numpy as np

from soundpred.distance import interval, point_estimate
from soundpred.metrics import distance_summary, paired_bootstrap
from soundpred.rooms import ROOM_KINDS
from train.distance_eval import (Baselines, DistanceConfig, dry_sources, held_out_sets, room_banks, set_examples,
                                 validation_sets)
from train.ensemble import (choose_shrink, error_ratios, fit_sigma_scale, member_arg, member_beliefs, members_of,
                            mixture, shrink_errors, simplex_grid, weights_arg)
from train.probe_shifted import DRAW_SETTINGS, ROOM_ID_STRIDE, fresh_draw, stale_seeds

HINTS = ROOM_KINDS  # auto, small, medium, large
RULES = ("mixture", "median", "precision", "weighted", "kinds", "posterior", "stack")
AUTO_WEIGHTS = (0.0, 0.25, 0.5, 0.75)
MEASURES = ("mae_m", "rel_error", "spearman", "spearman_within_room", "coverage")


@dataclass
class SetBeliefs:
    """Every member's belief under every hint on one set's examples: ``mus`` and ``sigmas`` are
    ``(hints, members, n)``."""
    name: str
    mus: np.ndarray
    sigmas: np.ndarray
    distance: np.ndarray
    room: np.ndarray
    rt60: np.ndarray
    kind: np.ndarray


def set_beliefs(members, name: str, bank, x) -> SetBeliefs:
    out = [member_beliefs(members, x, [hint] * len(x)) for hint in HINTS]
    return SetBeliefs(name, np.array([o[0] for o in out]), np.array([o[1] for o in out]), bank.distance,
                      bank.room, bank.rt60, bank.kind)


def kind_shares(kinds) -> np.ndarray:
    """The share of each room kind (small, medium, large) among ``kinds``."""
    kinds = np.asarray(kinds)
    return np.array([np.mean(kinds == k) for k in HINTS[1:]])


def pool(rule: str, s: SetBeliefs, params: dict) -> tuple[np.ndarray, np.ndarray]:
    """``(mu, sigma)`` of rule ``rule`` on set ``s`` (sigma before the fitted scale)."""
    mus, sigmas = s.mus[0], s.sigmas[0]  # auto
    mu_mix, sigma_mix = mixture(mus, sigmas)
    if rule == "mixture":
        return mu_mix, sigma_mix
    if rule == "median":
        return np.median(mus, axis=0), sigma_mix
    if rule == "precision":
        w = 1.0 / sigmas ** 2
        return (w * mus).sum(0) / w.sum(0), sigma_mix
    if rule == "weighted":
        return mixture(mus, sigmas, params["member_weights"])
    if rule == "kinds":
        a, shares = params["auto_weight"], params["kind_shares"]
        hint_w = np.concatenate([[a], (1.0 - a) * np.asarray(shares)])
        m = mus.shape[0]
        weights = np.repeat(hint_w / m, m)  # hint-major, as the reshape below
        return mixture(s.mus.reshape(-1, s.mus.shape[-1]), s.sigmas.reshape(-1, s.sigmas.shape[-1]), weights)
    if rule == "posterior":
        p_kind = params["kind_model"].predict_proba(kind_features(s))  # (n, 3): small, medium, large
        m, n = mus.shape
        weights = np.repeat(p_kind.T, m, axis=0) / m  # hint-major, as the reshape below
        return mixture(s.mus[1:].reshape(-1, n), s.sigmas[1:].reshape(-1, n), weights)
    if rule == "stack":
        coef = np.asarray(params["stack_coef"])
        return coef[0] + coef[1:] @ mus, sigma_mix
    raise ValueError(f"unknown rule {rule!r}")


def kind_features(s: SetBeliefs) -> np.ndarray:
    """``(n, 2 * hints * members)``: every member's mean and log standard deviation under every hint."""
    n = s.mus.shape[-1]
    return np.concatenate([s.mus.reshape(-1, n), np.log(s.sigmas).reshape(-1, n)]).T


def fit_kind_model(val: list[SetBeliefs]):
    """A multinomial logistic regression (standardised inputs, C = 1) of each validation example's
    true room kind on :func:`kind_features`; its classes in the order small, medium, large."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x = np.concatenate([kind_features(s) for s in val])
    y = np.concatenate([[HINTS.index(k) for k in s.kind] for s in val])
    model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000)).fit(x, y)
    if list(model.classes_) != [1, 2, 3]:
        raise ValueError(f"the validation rooms lack a room kind: {model.classes_}")
    return model


def kind_accuracy(model, s: SetBeliefs) -> float:
    """The share of ``s``'s examples whose most probable kind is the true one."""
    return float(np.mean(np.array(HINTS[1:])[model.predict_proba(kind_features(s)).argmax(1)] == s.kind))


def fit_stack(val: list[SetBeliefs]) -> list[float]:
    """Least squares ``log d ~ 1 + mu_1 + ... + mu_M`` on the validation examples (``auto``)."""
    a = np.concatenate([np.vstack([np.ones(s.mus.shape[-1]), s.mus[0]]).T for s in val])
    y = np.log(np.concatenate([s.distance for s in val]))
    return np.linalg.lstsq(a, y, rcond=None)[0].tolist()


def fit_rule(rule: str, val: list[SetBeliefs], median: float, shares, weights=None) -> dict:
    """The rule's numbers fitted on validation: its own (``member_weights``, ``auto_weight``,
    ``kind_model``, ``stack_coef``), then ``sigma_scale`` and ``shrink`` as ``train.ensemble``
    fits them. ``weights`` (``weighted`` only): the members' weights, given instead of fitted."""
    params = {"kind_shares": list(map(float, shares))}
    if weights is not None:
        if rule != "weighted" or len(weights) != val[0].mus.shape[1] or min(weights) < 0 or sum(weights) <= 0:
            raise ValueError(f"{len(weights)} weights >= 0 for the {val[0].mus.shape[1]} members of rule "
                             f"'weighted', not {weights} for {rule!r}")
        params["member_weights"] = (np.asarray(weights, float) / np.sum(weights)).tolist()
    if rule == "stack":
        params["stack_coef"] = fit_stack(val)
    if rule == "posterior":
        params["kind_model"] = fit_kind_model(val)
    if rule == "weighted" and weights is None:
        grid = simplex_grid(val[0].mus.shape[1])
        scores = [_validation_score(rule, val, {**params, "member_weights": w}, median) for w in grid]
        params["member_weights"] = grid[int(np.argmin(scores))].tolist()
        params["member_weight_score"] = round(float(min(scores)), 4)
    if rule == "kinds":
        scores = {a: _validation_score(rule, val, {**params, "auto_weight": a}, median) for a in AUTO_WEIGHTS}
        params["auto_weight"] = min(scores, key=scores.get)
        params["auto_weight_scores"] = {str(a): round(v, 4) for a, v in scores.items()}
    pooled = [pool(rule, s, params) for s in val]
    params["sigma_scale"] = fit_sigma_scale(np.concatenate([p[0] for p in pooled]),
                                            np.concatenate([p[1] for p in pooled]),
                                            np.log(np.concatenate([s.distance for s in val])))
    params["shrink"] = choose_shrink([shrink_errors(mu, params["sigma_scale"] * sigma, s.distance, median)
                                      for (mu, sigma), s in zip(pooled, val)])
    return params


def _validation_score(rule: str, val: list[SetBeliefs], params: dict, median: float) -> float:
    """The mean over validation sets of MAE and relative error over the median guess's (the
    median of the belief, before any scale: it does not move the median)."""
    return float(np.mean([np.mean(error_ratios(np.exp(pool(rule, s, params)[0]), s.distance, median)) for s in val]))


def estimates(rule: str, s: SetBeliefs, params: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(estimate, low, high)`` in metres."""
    mu, sigma = pool(rule, s, params)
    sigma = params["sigma_scale"] * sigma
    lo, hi = interval(mu, sigma)
    return point_estimate(mu, sigma, params["shrink"]), lo, hi


def summary(s: SetBeliefs, est, lo, hi) -> list[float]:
    """:data:`MEASURES` of the estimates ``est`` (m) and interval ``lo``–``hi`` on set ``s``."""
    res = distance_summary(est, s.distance, lo=lo, hi=hi, rt60=s.rt60, room=s.room)
    return [res[k] for k in MEASURES]


def together(name: str, sets: list[SetBeliefs]) -> SetBeliefs:
    """Fresh draws of one simulation as one set, each draw's rooms their own."""
    return SetBeliefs(name, np.concatenate([s.mus for s in sets], -1), np.concatenate([s.sigmas for s in sets], -1),
                      np.concatenate([s.distance for s in sets]),
                      np.concatenate([s.room + i * ROOM_ID_STRIDE for i, s in enumerate(sets)]),
                      np.concatenate([s.rt60 for s in sets]), np.concatenate([s.kind for s in sets]))


def save(path: str, groups: dict[str, list[SetBeliefs]], meta: dict | None = None) -> None:
    """Keep ``groups`` (and ``meta``: the training rooms' ``median`` and ``kind_shares``) in ``path``."""
    arrays, index = {"meta": json.dumps(meta or {})}, []
    for group, sets in groups.items():
        for i, s in enumerate(sets):
            key = f"{group}{i}"
            index.append([group, s.name, key])
            for f in ("mus", "sigmas", "distance", "room", "rt60", "kind"):
                arrays[f"{key}_{f}"] = np.asarray(getattr(s, f))
    np.savez_compressed(path, index=json.dumps(index), **arrays)


def load(path: str) -> dict[str, list[SetBeliefs]]:
    """The groups :func:`save` kept."""
    z = np.load(path)
    groups: dict[str, list[SetBeliefs]] = {}
    for group, name, key in json.loads(str(z["index"])):
        groups.setdefault(group, []).append(SetBeliefs(name, *(z[f"{key}_{f}"] for f in
                                                              ("mus", "sigmas", "distance", "room", "rt60", "kind"))))
    return groups


def load_meta(path: str) -> dict:
    """What :func:`save` kept beside the beliefs (empty for files saved before it kept any)."""
    z = np.load(path)
    return json.loads(str(z["meta"])) if "meta" in z.files else {}


def side_by_side(loaded: list[dict[str, list[SetBeliefs]]]) -> dict[str, list[SetBeliefs]]:
    """Beliefs of several files as one: each set's members side by side, in the files' order.
    Every file must hold the same sets of the same examples (names, distances, rooms)."""
    first, *rest = loaded
    for other in rest:
        if [(g, s.name) for g, v in first.items() for s in v] != [(g, s.name) for g, v in other.items() for s in v]:
            raise ValueError("the files hold different sets: "
                             f"{list(first)} against {list(other)}")
        for g in first:
            for a, b in zip(first[g], other[g]):
                if not (np.array_equal(a.distance, b.distance) and np.array_equal(a.room, b.room)):
                    raise ValueError(f"{g} {a.name!r}: the files hold different examples")
    return {g: [replace(sets[0], mus=np.concatenate([s.mus for s in sets], 1),
                        sigmas=np.concatenate([s.sigmas for s in sets], 1))
                for sets in zip(*(f[g] for f in loaded))] for g in first}


def parse_weights(text: str) -> tuple[str, list[float]]:
    """``NAME=w1,w2,...``: the weights as ``train.ensemble --weights`` reads them (normalised)."""
    name, sep, values = text.partition("=")
    if not sep or not name or name in RULES:
        raise argparse.ArgumentTypeError(f"{text!r}: NAME=w1,w2,... with NAME not one of {', '.join(RULES)}")
    try:
        return name, weights_arg(values)
    except argparse.ArgumentTypeError as e:
        raise argparse.ArgumentTypeError(f"{text!r}: {e}") from None


def parse_seed(text: str) -> tuple[str, int]:
    name, _, seed = text.rpartition(":")
    if name not in DRAW_SETTINGS or not seed.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r}: SET:SEED with SET one of {', '.join(DRAW_SETTINGS)}")
    return name, int(seed)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("members", nargs="*",
                   help="an ensemble distance bundle (train.ensemble), or several bundles or FOLDER:N,M (their "
                        "members side by side); not needed with --load and no --seeds")
    p.add_argument("--seeds", nargs="+", type=parse_seed, default=[], help="fresh draws, SET:SEED")
    p.add_argument("--rules", nargs="+", default=list(RULES), choices=RULES)
    p.add_argument("--weights", nargs="+", type=parse_weights, default=[],
                   help="NAME=w1,w2,...: a mixture with these weights, one per member, named NAME")
    p.add_argument("--reference", help="the rule or --weights NAME the others are compared with (default: mixture, "
                                        "when it is among the rules)")
    p.add_argument("--save", help="keep the beliefs in this .npz")
    p.add_argument("--load", nargs="+", help="beliefs saved by --save (the validation and evaluation sets); "
                                             "several files: their members side by side")
    p.add_argument("--draws", type=int, default=2000)
    args = p.parse_args(argv)
    for name, seed in args.seeds:
        if stale_seeds(name, [seed]):
            p.error(f"{name}:{seed} is not a fresh draw")
    if not args.members and (args.seeds or not args.load):
        p.error("name the members (an ensemble bundle, or bundles) unless --load without --seeds")
    names = list(args.rules) + [name for name, _ in args.weights]
    reference = args.reference or ("mixture" if "mixture" in names else None)
    if len(set(names)) != len(names) or (args.reference is not None and args.reference not in names):
        p.error(f"--reference {args.reference!r} must be one of {names}, each named once")
    config = DistanceConfig()
    groups = side_by_side([load(path) for path in args.load]) if args.load else None
    meta = load_meta(args.load[0]) if args.load else {}
    members = [m for text in args.members for m in members_of(*member_arg(text))]
    if groups is not None and members and len(members) != groups["val"][0].mus.shape[1]:
        p.error(f"{len(members)} members given, {groups['val'][0].mus.shape[1]} in the loaded beliefs")
    banks = None
    if groups is None or args.seeds:
        fe = members[0].frontend
        sr = fe.sample_rate
        sources = dry_sources(sr, n_speech=config.speech, data=config.data)
        banks = room_banks(sr, rooms=config.rooms, eval_rooms=config.eval_rooms, seed=config.seed)
    if "median" not in meta:  # a file saved before the median was kept: the training rooms (their rate does not matter)
        train = (banks or room_banks(16000, rooms=config.rooms, seed=config.seed, evaluation=False)).train
        meta = {"median": Baselines.median(train), "kind_shares": kind_shares(train.kind).tolist()}
    median, shares = meta["median"], np.asarray(meta["kind_shares"])

    if groups is None:
        groups = {
            "val": [set_beliefs(members, s.name, s.bank, set_examples(s, fe, config.speech_share))
                    for s in validation_sets(sources, sr, rooms=100, seed=config.seed)],
            "eval": [set_beliefs(members, s.name, s.bank, set_examples(s, fe, config.speech_share))
                     for s in held_out_sets(banks, sources, config.seed)]}
    for name, seed in args.seeds:
        bank, x = fresh_draw(DRAW_SETTINGS[name], seed, seed, config, sources, fe)
        groups.setdefault(f"fresh {name}", []).append(set_beliefs(members, f"{name} {seed}", bank, x))
        print(f"drawn {name}:{seed}", flush=True)
    if args.save:
        save(args.save, groups, meta)

    fitted = {rule: ("rule", fit_rule(rule, groups["val"], median, shares)) for rule in args.rules}
    try:
        fitted.update({name: ("weighted", fit_rule("weighted", groups["val"], median, shares, weights=w))
                       for name, w in args.weights})
    except ValueError as e:
        p.error(f"--weights: {e}")
    for name, (rule, params) in fitted.items():
        shown = {k: v for k, v in params.items() if k not in ("kind_shares", "kind_model")}
        if "kind_model" in params:
            shown["kind_accuracy"] = {s.name: round(kind_accuracy(params["kind_model"], s), 3)
                                      for s in groups["val"] + groups["eval"]}
        print(json.dumps({"rule": name, **shown}), flush=True)
    sets = list(groups["eval"]) + [together(f"{g} (all draws)", v) for g, v in groups.items() if g.startswith("fresh")]
    print(f"\n| set | rule | MAE m | rel. error | rank | within rooms | 90 % cov. | rule − {reference}: "
          "MAE / rel. / rank (90 % intervals) |\n|---|---|---|---|---|---|---|---|")
    for s in sets:
        found = {name: estimates(name if rule == "rule" else rule, s, params)
                 for name, (rule, params) in fitted.items()}
        ref = found[reference][0] if reference else None
        for name, (est, lo, hi) in found.items():
            row = summary(s, est, lo, hi)
            diff = ""
            if ref is not None and name != reference:
                b = paired_bootstrap(est, ref, s.distance, s.room, n=args.draws)
                diff = " / ".join(f"{b[k]['difference']:+.3f} ({lo:+.3f} to {hi:+.3f})"
                                  for k in ("mae_m", "rel_error", "spearman") for lo, hi in [b[k]["interval"]])
            print(f"| {s.name} | {name} | " + " | ".join(f"{v:.3f}" for v in row) + f" | {diff} |", flush=True)


if __name__ == "__main__":
    main()
