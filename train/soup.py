"""Interpolate the weights of two distance models that share a start: a fine-tune and the model it
was fine-tuned from (WiSE-FT), or two fine-tunes of one model (a model soup).

    python -m train.soup models/distance-p90direct10 models/distance:4 --alpha 0.5 --out runs/w5
    python -m train.distance --evaluate runs/w5 --update-card     # score it, rewrite its card
    python -m train.ensemble models/distance:1,2,3 runs/w5 --out runs/e_w5 ...   # in member 4's place

Every tensor of the new network, batch-norm statistics included, is ``(1 - alpha) * A + alpha *
B``: ``alpha`` 0 is A, 1 is B. A fine-tune (``train.distance --init A``) stays in the basin of
its initial weights, so the points between them are networks too; WiSE-FT (Wortsman et al.,
"Robust fine-tuning of zero-shot models", CVPR 2022) found them more robust to a shift of the
data than either end. Two networks trained apart (two seeds from scratch) do not share a basin,
and their average is no model: pool those with ``train.ensemble`` instead.

A and B are bundle folders, or ``FOLDER:N`` for member N (from 1) of an ensemble bundle, as in
``train.ensemble``. They must have the same front end and network (same tensor shapes, in the same
order); the bundle written is A's network with the interpolated weights. Its record names both
parents and ``alpha``; what it shares with an ensemble's card (heads, hybrid share, ...) is B's.

    python -m train.soup A B --alpha 0.5 --recalibrate 100 --out runs/w5r

``--recalibrate N``: the batch-norm statistics are estimated again on N training batches of B's
recipe (its ``train.distance`` command: its rooms, hybrid rooms and twins, batches drawn after
those it trained on), the network in training mode as in training (SpecAugment on), each
statistic the mean over the batches. The average of two networks' statistics is not the
statistics of their average (Jordan et al., "REPAIR", ICLR 2023, on the variance that interpolated
networks lose).

Measured (docs/distance.md, session 44): halfway between ft10h and its start the network is worse
than either end on the shifted rooms and in relative error; re-estimating the batch norms wins
back part of the relative error. The pool with the soup of two seeds of ft10h's recipe in ft10h's
place did not beat the default either.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import keras
import numpy as np

from soundpred.bundle import save_bundle
from train.common import finish_bundle
from train.distance_eval import config_room_banks, dry_sources, make_batches, training_parts, write_card
from train.ensemble import command_config, member_arg, member_training, members_of

#: where the recalibration's batches start: past the draws of any training here (epochs x steps)
RECALIBRATION_DRAW = 1_000_000


def interpolate(a: list[np.ndarray], b: list[np.ndarray], alpha: float) -> list[np.ndarray]:
    """``(1 - alpha) * a + alpha * b``, tensor by tensor; raises ValueError unless the two lists
    have the same shapes in the same order."""
    shapes_a, shapes_b = [w.shape for w in a], [w.shape for w in b]
    if shapes_a != shapes_b:
        first = next((i for i, (x, y) in enumerate(zip(shapes_a, shapes_b)) if x != y), min(len(a), len(b)))
        raise ValueError(f"not the same network: {len(a)} and {len(b)} tensors, first difference at tensor "
                         f"{first}; interpolate a fine-tune with the model it started from (train.distance --init)")
    return [((1.0 - alpha) * x.astype(np.float64) + alpha * y.astype(np.float64)).astype(x.dtype)
            for x, y in zip(a, b)]


def soup(a, b, alpha: float) -> keras.Model:
    """A's network (a ``Bundle``) with the weights between A's and B's (``alpha`` 0: A, 1: B)."""
    if a.frontend != b.frontend:
        raise ValueError(f"different front ends: {a.frontend} and {b.frontend}")
    model = keras.Model.from_config(a.model.get_config())
    model.set_weights(interpolate(a.model.get_weights(), b.model.get_weights(), alpha))
    return model


def batch_norms(model: keras.Model) -> list[keras.layers.BatchNormalization]:
    """Every batch-norm layer of ``model``, nested models included."""
    found = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            found.append(layer)
        elif isinstance(layer, keras.Model):
            found += batch_norms(layer)
    return found


def recalibrate(model: keras.Model, batches, n: int) -> int:
    """Set the moving mean and variance of every batch norm of ``model`` to the mean of its batch
    statistics over the first ``n`` of ``batches`` (inputs, targets), the network run in training
    mode; the trainable weights stay as they are. Returns the batches used."""
    norms = batch_norms(model)
    if not norms:
        return 0
    momenta = [bn.momentum for bn in norms]
    try:
        for i in range(n):
            for bn in norms:  # moving = i/(i+1) moving + batch/(i+1): the running mean of the batches'
                bn.momentum = i / (i + 1)
            model(batches[i][0], training=True)
    finally:
        for bn, m in zip(norms, momenta):
            bn.momentum = m
    return n


def recipe_batches(record: dict, frontend):
    """Training batches of the recipe whose ``train.distance`` command is in ``record`` (a bundle's
    training record), drawn from :data:`RECALIBRATION_DRAW` on; SystemExit if it has none."""
    config = command_config(record.get("command") or "")
    if config is None:
        raise SystemExit(f"no train.distance command on record to draw batches from: {record.get('command')!r}")
    sr = frontend.sample_rate
    banks = config_room_banks(config, sr, evaluation=False)
    sources = dry_sources(sr, n_speech=config.speech, data=config.data, extra=config.extra_dry)
    parts, shares = training_parts(banks, config)
    return make_batches(parts, sources, frontend, config, shares, first_draw=RECALIBRATION_DRAW, workers=1)


def _one(text: str):
    path, picks = member_arg(text)
    members = members_of(path, picks)
    if len(members) != 1:
        raise SystemExit(f"{text} holds {len(members)} networks: name one as FOLDER:N")
    return members[0]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("a", help="the model the fine-tune started from (a bundle folder, or FOLDER:N of an ensemble)")
    p.add_argument("b", help="the fine-tune (a bundle folder, or FOLDER:N of an ensemble)")
    p.add_argument("--alpha", type=float, required=True, help="the fine-tune's share, in [0, 1]")
    p.add_argument("--recalibrate", type=int, default=0, metavar="N",
                   help="estimate the batch-norm statistics again on N training batches of B's recipe (0: average them)")
    p.add_argument("--out", type=Path, required=True, help="bundle folder to write")
    args = p.parse_args(argv)
    if args.recalibrate < 0:
        p.error("--recalibrate takes a number of batches, 0 or more")
    if not 0.0 <= args.alpha <= 1.0:
        p.error(f"--alpha must be in [0, 1], not {args.alpha}")
    return args


def main(argv=None):
    args = parse_args(argv)
    a, b = _one(args.a), _one(args.b)
    model = soup(a, b, args.alpha)
    if args.recalibrate:
        keras.utils.set_random_seed(0)  # SpecAugment's masks
        recalibrate(model, recipe_batches(b.meta.get("training", {}), a.frontend), args.recalibrate)
    command = "python -m train.soup " + " ".join(sys.argv[1:] if argv is None else argv)
    parents = [{"folder": text, "name": x.name, **{k: v for k, v in member_training(x.meta).items() if v is not None}}
               for text, x in ((args.a, a), (args.b, b))]
    training = {**member_training(b.meta), "command": command, "train_seconds": None,
                "soup": {"alpha": args.alpha, "parents": parents, "recalibrated_batches": args.recalibrate}}
    save_bundle(model, args.out, frontend=a.frontend, task="distance", training=training,
                card=write_card(training, {}), name="soundpred-distance",
                extra_meta={k: v for k, v in a.meta.items() if k == "point_shrink"})
    finish_bundle(args.out, {"a": args.a, "b": args.b, "alpha": args.alpha}, [], task="distance")
    print(f"wrote {args.out}: {1 - args.alpha:g} x {args.a} + {args.alpha:g} x {args.b}", file=sys.stderr)
    return args.out


if __name__ == "__main__":
    main()
