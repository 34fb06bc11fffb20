"""A room-kind reader: a CNN that hears which kind of room (small, medium, large) a sound was
recorded in, and a probe of what it is worth to the distance ensemble in ``auto``.

    python -m train.room_kind --out runs/kind --epochs 40 --resume --stop-by EPOCH_SECONDS
    python -m train.room_kind --score runs/kind --beliefs runs/s46/u5_rules.npz --members 4

Why (docs/distance.md, session 49): the default ensemble is far better told the room's kind than
in ``auto`` (hybrid rooms: MAE 2.07 against 2.48 m, rank 0.78 against 0.46), and neither its
beliefs, nor its networks' features, nor the RT60 read the kind much better than always answering
``medium``; hand-made features of the true room response do (0.72–0.83). A network trained for
the kind alone may hear it where the distance networks do not. Measured: this one, 30 epochs on
the members' log-mel front end, does not (right for 0.56–0.65 of the evaluation examples; docs/distance.md).

Training: the distance front end and CNN trunk (``soundpred.models``) with a 3-way softmax, on
the examples the distance members train on (``train.distance_eval.make_batches``: the training
rooms, with ``--turned-share`` of them heard from a source that may face anywhere, and
``--hybrid-share`` from 900 hybrid rooms), the target each room's kind from its volume
(``soundpred.rooms.room_kind``). The state is saved after every epoch (``--resume`` goes on;
``--stop-by`` stops one slowest epoch early), the weights in ``OUT/reader.weights.h5``.

``--score``: the reader's probabilities on the validation rooms and the card's evaluation
examples (the same examples as ``train.probe_pool_rules --save``, checked by their distances and
kinds); the first ``--members`` members' beliefs of ``--beliefs`` (saved by that probe, every
room hint) mixed over the three kinds by those probabilities (``posterior``) or told the most
probable kind (``argmax``), against ``auto``, the interval's scale and the shrink fitted on the
validation rooms as ``train.ensemble`` fits them. Printed: the reader's accuracy per set and each
rule's MAE m / relative error / rank / within-room rank / 90 % coverage.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import keras
import numpy as np
from keras import layers

from soundpred.models import DISTANCE_FRONTEND, LogMel, _cnn_trunk
from soundpred.rooms import ROOM_KINDS
from train.common import TimeBudget, TrainingState, adamw_cosine
from train.distance_eval import (DistanceConfig, config_room_banks, dry_sources, held_out_sets, make_batches,
                                 set_examples, training_parts, validation_sets)

KINDS = ROOM_KINDS[1:]  # small, medium, large
WEIGHTS = "reader.weights.h5"


def build_room_kind(fe, width: int = 24, dropout: float = 0.2) -> keras.Model:
    """Waveform -> ``(batch, 3)``: the probability of each of :data:`KINDS`."""
    wave = keras.Input(shape=(None,), name="waveform")
    x = _cnn_trunk(LogMel(fe.to_dict(), name="logmel")(wave), fe, width, spec_augment=True)
    x = layers.Dropout(dropout)(x)
    x = layers.Dense(64, activation="relu", name="embedding")(x)
    return keras.Model(wave, layers.Dense(len(KINDS), activation="softmax", name="room_kind")(x), name="room_kind")


class KindBatches(keras.utils.PyDataset):
    """:func:`make_batches`' examples with their room's kind (one-hot over :data:`KINDS`) as the
    target: the distance batches built with the room hint always given, which is that one-hot."""

    def __init__(self, batches, workers: int = 2):
        # threads synthesise the next batches while the model trains (each draw seeded by its number)
        super().__init__(workers=workers, use_multiprocessing=False)
        self.batches = batches

    def __len__(self):
        return len(self.batches)

    def __getitem__(self, step):
        (x, hint), _ = self.batches[step]
        if np.any(hint[:, 0]):
            raise ValueError("a training example without its room kind")
        return x, hint[:, 1:]


def config_of(args) -> DistanceConfig:
    return DistanceConfig(epochs=args.epochs, steps=args.steps, batch_size=args.batch_size, lr=args.lr,
                          width=args.width, rooms=args.rooms, speech=args.speech, room_hint=True, hint_drop=0.0,
                          turned_share=args.turned_share, hybrid_rooms=args.hybrid_rooms,
                          hybrid_share=args.hybrid_share, train_seed=args.train_seed)


def train(args) -> None:
    config = config_of(args)
    keras.utils.set_random_seed(config.init_seed)
    fe = DISTANCE_FRONTEND
    banks = config_room_banks(config, fe.sample_rate, evaluation=False)
    sources = dry_sources(fe.sample_rate, n_speech=config.speech, data=config.data)
    model = build_room_kind(fe, config.width)
    steps = config.epochs * config.steps
    model.compile(optimizer=adamw_cosine(config.lr, steps, 2 * config.steps), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    args.out.mkdir(parents=True, exist_ok=True)
    state = TrainingState(args.out.parent / f"{args.out.name}.state", config.to_json())
    state.set_model(model)
    done = state.restore() if args.resume else 0
    parts, shares = training_parts(banks, config)
    budget = TimeBudget(None, args.stop_by) if args.stop_by else None
    if done < config.epochs:
        print(f"training epochs {done + 1}-{config.epochs}", file=sys.stderr)
        model.fit(KindBatches(make_batches(parts, sources, fe, config, shares, first_draw=done * config.steps)),
                  epochs=config.epochs, initial_epoch=done, verbose=args.verbose,
                  callbacks=[state] + ([budget] if budget else []))
    reader = build_room_kind(fe, config.width)  # the weights without the optimizer's variables
    reader.set_weights(model.get_weights())
    reader.save_weights(args.out / WEIGHTS)
    (args.out / "config.json").write_text(json.dumps({**config.to_json(), "epochs_done": len(
        state.history.get("loss", [])), "train_seconds": round(state.seconds, 1)}, indent=1, default=str) + "\n")
    print(f"saved {args.out / WEIGHTS} after {len(state.history.get('loss', []))} epochs "
          f"({state.seconds:.0f} s)", file=sys.stderr)


def load_reader(folder: Path) -> keras.Model:
    """The reader :func:`train` saved in ``folder``."""
    config = json.loads((folder / "config.json").read_text())
    model = build_room_kind(DISTANCE_FRONTEND, int(config["width"]))
    model.load_weights(folder / WEIGHTS)
    return model


def kind_probabilities(model, x: np.ndarray, batch: int = 32) -> np.ndarray:
    """``(n, 3)``: the reader's probability of each of :data:`KINDS` for the waveforms ``x``."""
    return np.concatenate([np.asarray(model.predict_on_batch(x[i:i + batch])) for i in range(0, len(x), batch)])


def belief_sets(beliefs: dict, path, sources, banks, sr: int, config: DistanceConfig) -> list:
    """The validation and evaluation sets (``train.distance_eval.EvalSet``) whose examples the
    saved ``beliefs`` (``train.probe_pool_rules.load`` of ``path``) hold, validation first, in the
    file's order; a file of other examples (names, distances, kinds) is refused."""
    sets = validation_sets(sources, sr, rooms=100, seed=config.seed) + held_out_sets(banks, sources, config.seed)
    for s, b in zip(sets, beliefs["val"] + beliefs["eval"], strict=True):
        if s.name != b.name or not np.allclose(s.bank.distance, b.distance) or list(s.bank.kind) != list(b.kind):
            raise SystemExit(f"{path}: {b.name!r} holds other examples than {s.name!r}")
    return sets


def accuracy(probs: dict, sets) -> dict[str, float]:
    """Per set of ``sets`` (beliefs), the share of examples whose most probable kind in
    ``probs[set name]`` is the true one."""
    return {b.name: round(float(np.mean(np.array(KINDS)[np.argmax(probs[b.name], 1)] == b.kind)), 3) for b in sets}


def always_medium(sets) -> dict[str, float]:
    """Per set of ``sets`` (beliefs), the share of examples a reader that always answers
    ``medium`` gets right: what a reader's :func:`accuracy` is to beat."""
    return {b.name: round(float(np.mean(b.kind == "medium")), 3) for b in sets}


def score(args) -> None:
    from train.distance_eval import Baselines, room_banks
    from train.probe_pool_rules import load, load_meta, summary

    reader = load_reader(args.score)
    config = DistanceConfig()
    fe = DISTANCE_FRONTEND
    sources = dry_sources(fe.sample_rate, n_speech=config.speech, data=config.data)
    banks = room_banks(fe.sample_rate, rooms=config.rooms, eval_rooms=config.eval_rooms, seed=config.seed)
    beliefs = load(args.beliefs)
    meta = load_meta(args.beliefs)
    median = meta["median"] if "median" in meta else Baselines.median(banks.train)
    every = beliefs["val"] + beliefs["eval"]
    probs = {b.name: kind_probabilities(reader, set_examples(s, fe, config.speech_share))
             for s, b in zip(belief_sets(beliefs, args.beliefs, sources, banks, fe.sample_rate, config), every)}
    m = args.members or beliefs["val"][0].mus.shape[1]
    print(json.dumps({"reader accuracy": accuracy(probs, every),
                      "always medium": always_medium(every)}))
    print("\n| set | rule | MAE m | rel. error | rank | within rooms | 90 % cov. |\n|---|---|---|---|---|---|---|")
    found = kind_rules(beliefs["val"], beliefs["eval"], probs, median, m)
    for b in beliefs["eval"]:
        for rule, (est, lo, hi) in found[b.name].items():
            print(f"| {b.name} | {rule} | " + " | ".join(f"{v:.3f}" for v in summary(b, est, lo, hi)) + " |")


def hint_weights(rule: str, p: np.ndarray) -> np.ndarray:
    """``(hints, n)`` weights over auto, small, medium, large: ``auto`` all on auto; ``posterior``
    the reader's probabilities ``p`` ``(n, 3)``; ``argmax`` all on its most probable kind."""
    n = len(p)
    if rule == "auto":
        return np.vstack([np.ones(n), np.zeros((3, n))])
    if rule == "argmax":
        p = np.eye(3)[np.argmax(p, 1)]
    elif rule != "posterior":
        raise ValueError(f"unknown rule {rule!r}")
    return np.vstack([np.zeros(n), np.asarray(p, float).T])


def kind_rules(val, ev, probs: dict, median: float, m: int, rules=("auto", "posterior", "argmax")) -> dict:
    """Per evaluation set of ``ev`` (``train.probe_pool_rules.SetBeliefs``), per rule, ``(estimate,
    low, high)`` in metres: the first ``m`` members' beliefs, equal weights, mixed over the room
    hints by :func:`hint_weights` of ``probs[set name]``; the interval's scale and the shrink
    fitted on ``val`` as ``train.ensemble`` fits them."""
    from soundpred.distance import interval, point_estimate
    from train.ensemble import choose_shrink, fit_sigma_scale, mixture, shrink_errors

    def pooled(rule, b):
        n = len(b.distance)
        w = np.repeat(hint_weights(rule, probs[b.name])[:, None, :], m, axis=1) / m  # (hints, members, n)
        return mixture(b.mus[:, :m].reshape(-1, n), b.sigmas[:, :m].reshape(-1, n), w.reshape(-1, n))

    out = {b.name: {} for b in ev}
    for rule in rules:
        fitted = [pooled(rule, b) for b in val]
        scale = fit_sigma_scale(np.concatenate([f[0] for f in fitted]), np.concatenate([f[1] for f in fitted]),
                                np.log(np.concatenate([b.distance for b in val])))
        shrink = choose_shrink([shrink_errors(mu, scale * sg, b.distance, median)
                                for (mu, sg), b in zip(fitted, val)])
        for b in ev:
            mu, sg = pooled(rule, b)
            lo, hi = interval(mu, scale * sg)
            out[b.name][rule] = (point_estimate(mu, scale * sg, shrink), lo, hi)
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, help="the reader's folder to write")
    p.add_argument("--score", type=Path, help="a reader's folder to score against --beliefs")
    p.add_argument("--beliefs", help="train.probe_pool_rules --save output, with --score")
    p.add_argument("--members", type=int, help="with --score: pool the first N members of --beliefs (default all)")
    d = DistanceConfig()
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--steps", type=int, default=d.steps)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--width", type=int, default=d.width)
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--rooms", type=int, default=d.rooms, help="training rooms (4 source-microphone pairs each)")
    p.add_argument("--hybrid-rooms", type=int, default=900, help="hybrid training rooms")
    p.add_argument("--speech", type=int, default=d.speech, help="espeak-ng utterances")
    p.add_argument("--turned-share", type=float, default=0.5)
    p.add_argument("--hybrid-share", type=float, default=0.5)
    p.add_argument("--train-seed", type=int, default=20)
    p.add_argument("--resume", action="store_true")
    p.add_argument("--stop-by", type=float, help="wall-clock time (seconds since the epoch) to stop by")
    p.add_argument("--verbose", type=int, default=2)
    args = p.parse_args(argv)
    if bool(args.out) == bool(args.score) or (args.score and not args.beliefs):
        p.error("either --out (train) or --score with --beliefs")
    (train if args.out else score)(args)


if __name__ == "__main__":
    main()
