"""Train and evaluate the single-microphone distance model on simulated rooms; write a bundle.

    apt-get install espeak-ng                                      # dry speech
    python -m train.distance --out models/distance                 # simulate, train, evaluate
    python -m train.distance --evaluate models/distance            # evaluation only
    python -m train.distance --evaluate models/distance --update-card   # ... stored in the bundle and its card

What is simulated, the evaluation sets, the baselines and the metrics: ``train/distance_eval.py``.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from dataclasses import replace
from pathlib import Path

import keras
import numpy as np

from soundpred.bundle import load_bundle, save_bundle
from soundpred.distance import point_shrink
from soundpred.models import DISTANCE_FRONTEND, build_distance
from soundpred.rooms import TRAIN
from train.common import (AverageLast, HubPush, TimeBudget, TrainingState, adamw_cosine, add_hub_args,
                          finish_bundle, write_history)
from train.distance_eval import (
    TWINS,
    Baselines,
    DistanceConfig,
    acoustics_loss,
    check_extra_dry,
    direct_loss,
    distance_loss,
    dry_sources,
    eval_sets,
    evaluate,
    config_room_banks,
    make_batches,
    rt60_table,
    source_table,
    spread_table,
    table,
    training_parts,
    with_training_heads,
    write_card,
)
from train.ensemble import member_arg, one_member


def parse_args(argv=None) -> tuple[argparse.Namespace, DistanceConfig]:
    d = DistanceConfig()
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, help="bundle folder to write")
    p.add_argument("--evaluate", type=Path, metavar="BUNDLE", help="only evaluate this bundle")
    p.add_argument("--update-card", action="store_true",
                   help="with --evaluate: store the results as the bundle's metrics and re-render its card")
    p.add_argument("--data", type=Path, default=d.data, help="FSDKaggle2018-layout clips used as extra dry sources")
    p.add_argument("--rooms", type=int, default=d.rooms)
    p.add_argument("--eval-rooms", type=int, default=d.eval_rooms)
    p.add_argument("--epochs", type=int, default=d.epochs)
    p.add_argument("--steps", type=int, default=d.steps, help="batches per epoch")
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--width", type=int, default=d.width)
    p.add_argument("--speech", type=int, default=d.speech, help="number of espeak-ng utterances")
    p.add_argument("--speech-share", type=float, default=d.speech_share, help="share of examples with speech as the source")
    p.add_argument("--seed", type=int, default=d.seed, help="seed of the rooms, sources and evaluation examples")
    p.add_argument("--train-seed", type=int, default=d.train_seed,
                   help="seed of the initialisation and training batches (default: --seed); another value "
                        "trains another ensemble member on the same rooms")
    p.add_argument("--room-hint", action="store_true", help="train a model that also takes the room kind")
    p.add_argument("--hint-drop", type=float, default=d.hint_drop, help="share of examples trained with the hint 'auto'")
    p.add_argument("--hybrid-rooms", type=int, default=d.hybrid_rooms,
                   help="also train on this many rooms of the hybrid (ray-traced, material-table) simulation")
    p.add_argument("--hybrid-share", type=float, default=d.hybrid_share, help="share of examples from those rooms")
    p.add_argument("--hybrid-free-rt60", action="store_true",
                   help="those rooms with an RT60 drawn whatever their size (the 'hybrid-free' simulation)")
    p.add_argument("--hybrid-train-prior", action="store_true",
                   help="those rooms with the training rooms' distances (log-normal around 2.5 m whatever the "
                        "room's size) instead of distances that grow with the room")
    p.add_argument("--hybrid-prior-mix", type=float, default=d.hybrid_prior_mix,
                   help="share of the hybrid rooms' examples heard at the training rooms' distances instead "
                        "(as many rooms again of that simulation, drawn with that prior)")
    p.add_argument("--talker-share", type=float, default=d.talker_share,
                   help="share of the training rooms' examples heard from a talker-like source (subcardioid, "
                        "facing the microphone ± 60°; the same rooms simulated again)")
    p.add_argument("--turned-share", type=float, default=d.turned_share,
                   help="share of the training rooms' examples heard from a source that may face anywhere "
                        "(hypercardioid, random orientation; the same rooms simulated again)")
    p.add_argument("--mic-share", type=float, default=d.mic_share,
                   help="share of the training rooms' examples heard by a microphone that may face anywhere "
                        "(hypercardioid, random orientation, omnidirectional source; the same rooms simulated again)")
    p.add_argument("--processing-share", type=float, default=d.processing_share,
                   help="share of the training examples heard through call-style processing (WebRTC's noise "
                        "suppression at level 1-3, automatic gain half the time), as some devices apply it")
    p.add_argument("--codec-share", type=float, default=d.codec_share,
                   help="share of the training examples heard through a lossy coding (MP3, AAC, Opus at 12-64 "
                        "kbit/s) or a telephone band (8 kHz), one coding a batch, as phones and apps save audio")
    p.add_argument("--hop", type=int, default=d.hop, help="front-end hop in samples (80: 5 ms frames)")
    p.add_argument("--aux-weight", type=float, default=d.aux_weight,
                   help="weight of the training-only head that predicts the true RIR's acoustics (0: none)")
    p.add_argument("--direct-weight", type=float, default=d.direct_weight,
                   help="weight of the training-only head that says, per tile of the trunk's block-3 map, how much "
                        "of the energy is the source's direct sound (0: none)")
    p.add_argument("--rel-weight", type=float, default=d.rel_weight,
                   help="weight of the relative-error term added to the Gaussian NLL")
    p.add_argument("--pair-weight", type=float, default=d.pair_weight,
                   help="weight of the within-room pair term: batches of pairs from one room, the error of "
                        "their log-distance difference added to the loss (0: none)")
    p.add_argument("--aux-pair-weight", type=float, default=d.aux_pair_weight,
                   help="with --aux-weight: batches of within-room pairs, the error of the acoustics head's DRR "
                        "and C50 differences within each pair added to its loss (0: none)")
    p.add_argument("--source-pairs", action="store_true",
                   help="the pairs of --pair-weight / --aux-pair-weight are one position heard through two dry "
                        "sources (the same distance) instead of two positions with one source")
    p.add_argument("--pair-ratio", action="store_true",
                   help="divide the --pair-weight term by the batch's variance of estimates (scale-free: "
                        "squeezing the estimates together does not lower it)")
    p.add_argument("--band-stats", action="store_true",
                   help="the network also reads per-band log-mel statistics (the loudest frames' envelope, each "
                        "band's rise above its floor), added to its embedding by a layer that starts at zero")
    p.add_argument("--extra-dry", type=Path, metavar="FOLDER",
                   help="also train on the dry clips of this Kaggle-layout folder with a sources.csv (e.g. "
                        "../shared/data/more-real: its studio notes and electric piano); evaluation is unchanged")
    p.add_argument("--segments", type=int, default=d.segments, metavar="K",
                   help="train on K windows at one place: each example K model windows joined, each another "
                        "dry source through the same RIR (the bundle's window stays one; run it on K windows "
                        "with train.probe_input_length --windows); a share --single-share keeps only the first")
    p.add_argument("--single-share", type=float, default=d.single_share)
    p.add_argument("--average-last", type=int, default=d.average_last, metavar="K",
                   help="save the average of the last K epochs' weights (checkpoint averaging; 0: the last epoch's)")
    p.add_argument("--init", type=Path, help="start from these weights: a distance bundle folder, FOLDER:N (member "
                                             "N of an ensemble bundle), the OUT.state folder a run left (its "
                                             "last epoch's weights), or a trainer .weights.h5 file; with a new "
                                             "optimizer and schedule (--resume goes on exactly)")
    p.add_argument("--resume", action="store_true",
                   help="go on from the state the last run with these options left in OUT.state (saved after "
                        "every epoch: weights, optimizer, schedule, averaging, history)")
    p.add_argument("--stop-after", type=int, metavar="N",
                   help="train at most N more epochs in this run and stop without evaluating; --resume goes on")
    p.add_argument("--workers", type=int, default=2,
                   help="threads that synthesise training batches while the model trains (more where the "
                        "model is fast: on a GPU the batches are the bottleneck)")
    p.add_argument("--time-budget", type=float, metavar="SECONDS",
                   help="stop after the epoch past which another would end beyond SECONDS of training, and "
                        "save what was trained (the schedule and averaging as planned for --epochs; the card "
                        "gives the epochs done): for a lent machine's few minutes")
    p.add_argument("--stop-by", type=float, metavar="UNIX_TIME",
                   help="as --time-budget, against a wall-clock time (seconds since 1970) instead: room "
                        "simulation that runs long then eats training time, not the lent machine's call")
    p.add_argument("--no-evaluate", action="store_true",
                   help="save the trained bundle without evaluating it (its card says so); then "
                        "--evaluate OUT --update-card, e.g. after training on a lent GPU machine "
                        "(train/device_train.sh)")
    p.add_argument("--verbose", type=int, default=1)
    add_hub_args(p)
    args = p.parse_args(argv)
    if not (args.out or args.evaluate):
        p.error("give --out (train) or --evaluate BUNDLE")
    twin_shares = [getattr(args, t.key) for t in TWINS]
    if not (all(0 <= s <= 1 for s in twin_shares) and sum(twin_shares) <= 1):
        p.error(f"{' and '.join(t.option for t in TWINS)} are shares: 0 to 1, and together at most 1")
    if args.source_pairs and not (args.pair_weight or args.aux_pair_weight):
        p.error("--source-pairs needs --pair-weight or --aux-pair-weight")
    if args.pair_ratio and not args.pair_weight:
        p.error("--pair-ratio needs --pair-weight")
    if args.aux_pair_weight and not args.aux_weight:
        p.error("--aux-pair-weight needs --aux-weight (the acoustics head)")
    for flag in ("hybrid_free_rt60", "hybrid_train_prior", "hybrid_prior_mix"):
        if getattr(args, flag) and not args.hybrid_rooms:
            p.error(f"--{flag.replace('_', '-')} needs --hybrid-rooms (the rooms it changes)")
    if not 0 <= args.hybrid_prior_mix <= 1 or (args.hybrid_prior_mix and args.hybrid_train_prior):
        p.error("--hybrid-prior-mix is a share (0 to 1), and not with --hybrid-train-prior (all at those distances)")
    if args.extra_dry:  # before any room is simulated
        try:
            check_extra_dry(args.extra_dry)
        except FileNotFoundError as e:
            p.error(str(e))
    if args.segments < 1 or (args.segments > 1 and (args.pair_weight or args.aux_pair_weight or args.direct_weight)):
        p.error("--segments must be >= 1, and above 1 it does not go with the pair terms or --direct-weight")
    if (args.resume or args.stop_after) and args.evaluate:
        p.error("--resume and --stop-after are for training")
    config = DistanceConfig(rooms=args.rooms, eval_rooms=args.eval_rooms, epochs=args.epochs, steps=args.steps,
                            batch_size=args.batch_size, lr=args.lr, width=args.width, speech=args.speech,
                            speech_share=args.speech_share, seed=args.seed, train_seed=args.train_seed,
                            data=args.data, room_hint=args.room_hint, hint_drop=args.hint_drop, hop=args.hop,
                            hybrid_rooms=args.hybrid_rooms,
                            hybrid_share=args.hybrid_share, hybrid_rt60_free=args.hybrid_free_rt60,
                            hybrid_train_prior=args.hybrid_train_prior, hybrid_prior_mix=args.hybrid_prior_mix,
                            talker_share=args.talker_share,
                            turned_share=args.turned_share, mic_share=args.mic_share, aux_weight=args.aux_weight,
                            direct_weight=args.direct_weight, rel_weight=args.rel_weight, average_last=args.average_last,
                            pair_weight=args.pair_weight, aux_pair_weight=args.aux_pair_weight,
                            source_pairs=args.source_pairs, pair_ratio=args.pair_ratio,
                            band_stats=args.band_stats, extra_dry=args.extra_dry, segments=args.segments,
                            single_share=args.single_share, processing_share=args.processing_share,
                            codec_share=args.codec_share)
    return args, config


def _grown(old: list, new: list, name: str) -> list:
    """``old`` weights for a layer whose ``new`` ones may have more input rows: a dense kernel
    that reads the pooled features and, after them, the room kind's embedding
    (``build_distance``'s ``with_room_hint``) gets the old rows first and zeros for the rest, so
    the network answers as before whatever the kind, until training moves those rows."""
    if [w.shape for w in old] == [w.shape for w in new]:
        return old
    kernel, *rest = old
    if (len(old) != len(new) or kernel.ndim != 2 or new[0].shape[1] != kernel.shape[1]
            or new[0].shape[0] < kernel.shape[0] or [w.shape for w in rest] != [w.shape for w in new[1:]]):
        raise ValueError(f"layer {name}: weights {[w.shape for w in old]} do not fit {[w.shape for w in new]}")
    grown = np.zeros(new[0].shape, kernel.dtype)
    grown[:kernel.shape[0]] = kernel
    return [grown, *rest]


def init_weights(trainer: keras.Model, model: keras.Model, init: Path) -> None:
    """Start from ``init``: a trainer weights file, a run's ``OUT.state`` folder (the last epoch's
    weights in it; the previous epoch's if a save was cut short, as ``--resume`` reads it), a
    distance bundle folder (its network's weights only; into a network with more layers, such as
    ``--band-stats`` or ``--room-hint``, layer by layer by name, the new layers as initialised and
    a dense layer that now also reads the room kind with zeros for it: :func:`_grown`), or
    ``FOLDER:N``, member N of an ensemble bundle (counted from 1, as its card lists them), into
    a network of the member's own shape."""
    init = Path(init)
    folder, picks = member_arg(str(init))
    if picks is not None:
        source = one_member(folder, picks).model
        if [w.shape for w in source.weights] != [w.shape for w in model.weights]:
            raise ValueError(f"{init}: member {picks[0] + 1} has another shape than the network trained here "
                             "(its card's command line gives the options that build it)")
        model.set_weights(source.get_weights())
        return
    state = TrainingState.read(init) if init.is_dir() else None
    if state is not None:
        init = state["folder"] / TrainingState.WEIGHTS
    if init.is_file():
        trainer.load_weights(init)
        return
    source = load_bundle(init).model
    if [w.shape for w in source.weights] == [w.shape for w in model.weights]:
        model.set_weights(source.get_weights())
        return
    # another architecture (a plain network into one with band statistics or the room kind):
    # layer by layer, by name
    names = {layer.name for layer in source.layers if layer.weights}
    for layer in model.layers:
        if layer.name in names:
            layer.set_weights(_grown(source.get_layer(layer.name).get_weights(), layer.get_weights(), layer.name))
    fresh = sorted(layer.name for layer in model.layers if layer.weights and layer.name not in names)
    lost = sorted(names - {layer.name for layer in model.layers})
    if lost:
        raise ValueError(f"{init}: layers {lost} have no place in the new network")
    print(f"initialised from {init} by layer name; new layers: {', '.join(fresh)}", file=sys.stderr)


def machine() -> str:
    """What trained it, for the card: the processor, its cores and, where Keras runs on an
    accelerator (the JAX backend on a GPU, ``train/device_train.sh``), that device and backend."""
    words = f"{platform.machine()}, {os.cpu_count()} CPU cores"
    if keras.backend.backend() == "jax":
        import jax

        dev = jax.devices()[0]
        if dev.platform != "cpu":
            return f"{words}, one {dev.device_kind} (Keras on JAX)"
    return words


def main(argv=None):
    args, config = parse_args(argv)
    keras.utils.set_random_seed(config.init_seed)
    if args.evaluate:
        bundle = load_bundle(args.evaluate)
        model, fe = bundle.model, bundle.frontend
    else:
        fe = replace(DISTANCE_FRONTEND, hop_length=config.hop, win_length=min(DISTANCE_FRONTEND.win_length, 4 * config.hop))
    sr = fe.sample_rate
    evaluating = bool(args.evaluate) or not args.no_evaluate
    banks = config_room_banks(config, sr, evaluation=evaluating, training=not args.evaluate)
    train_bank = banks.train
    sources = dry_sources(sr, n_speech=config.speech, data=config.data,
                          extra=None if args.evaluate else config.extra_dry)
    print(f"{len(train_bank)} training RIRs, {len(banks.hybrid_train or [])} hybrid ones, {len(banks.heldout or [])} "
          f"held-out, {len(banks.shifted or [])} shifted, {len(banks.hybrid or [])} hybrid; dry sources: "
          f"{len(sources.train_speech)}+{len(sources.train_clips)} train, "
          f"{len(sources.eval_speech)}+{len(sources.eval_clips)} eval", file=sys.stderr)
    # the baselines (1200 simulated examples, the oracle's fit) serve only the evaluation
    base = Baselines.fit(train_bank, sources, fe, seed=config.seed, speech_share=config.speech_share) \
        if evaluating else None
    train_median = Baselines.median(train_bank)

    history, train_seconds, epochs_done = {}, 0.0, None
    if not args.evaluate:
        model = build_distance(fe, width=config.width, room_hint=config.room_hint, band_stats=config.band_stats)
        heads = {k: w for k, w in (("acoustics", config.aux_weight), ("direct", config.direct_weight)) if w}
        trainer = with_training_heads(model, acoustics="acoustics" in heads, direct="direct" in heads) \
            if heads else model
        if args.init:
            init_weights(trainer, model, args.init)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        loss = distance_loss(config.rel_weight, config.pair_weight, config.pair_ratio)
        if heads:
            head_losses = {"acoustics": acoustics_loss(config.aux_pair_weight), "direct": direct_loss}
            loss = {"log_distance": loss, **{k: head_losses[k] for k in heads}}
        steps = max(1, config.epochs * config.steps)  # --epochs 0: evaluate the --init weights only
        trainer.compile(optimizer=adamw_cosine(config.lr, steps, 2 * config.steps), loss=loss,
                        loss_weights={"log_distance": 1.0, **heads} if heads else None)
        t0 = time.time()
        parts, shares = training_parts(banks, config)
        averager = AverageLast(config.average_last, config.epochs)
        state = TrainingState(args.out.parent / f"{args.out.name}.state",
                              {**config.to_json(), "init": str(args.init) if args.init else None}, averager)
        state.set_model(trainer)
        done = state.restore() if args.resume else 0
        if done:
            print(f"resuming after epoch {done} of {config.epochs} ({state.seconds:.0f} s trained)", file=sys.stderr)
        until = config.epochs if args.stop_after is None else min(config.epochs, done + args.stop_after)
        budget = TimeBudget(args.time_budget, args.stop_by) if args.time_budget or args.stop_by else None
        if until > done:
            trainer.fit(make_batches(parts, sources, fe, config, shares, first_draw=done * config.steps,
                                     workers=args.workers),
                        epochs=until, initial_epoch=done, verbose=args.verbose,
                        callbacks=[averager, state] + ([budget] if budget else []))
        if budget and budget.stopped_after and budget.stopped_after < until:
            until = epochs_done = budget.stopped_after
            limits = ([f"{args.time_budget:g} s of training"] if args.time_budget else []) + \
                (["--stop-by"] if args.stop_by else [])
            print(f"the time budget ({' or '.join(limits)}) stopped training after epoch {until} of "
                  f"{config.epochs}", file=sys.stderr)
        train_seconds, history = state.seconds, state.history
        print(f"trained epochs {done + 1}-{until} of {config.epochs} in {time.time() - t0:.0f} s "
              f"({train_seconds:.0f} s in all)", file=sys.stderr)
        if until < config.epochs and epochs_done is None:
            print(f"stopped after epoch {until}; go on with the same command and --resume", file=sys.stderr)
            return None
        if config.average_last and averager.apply():  # OUT.state keeps the last epoch's weights
            print(f"saving the average of the last {averager.count} epochs' weights", file=sys.stderr)

    out = args.out or args.evaluate
    figs = out / "figures"
    if not evaluating:
        results = {}
    else:
        figs.mkdir(parents=True, exist_ok=True)
        results = evaluate(model, fe, eval_sets(banks, sources, config.seed), train_median,
                           speech_share=config.speech_share, ridge=base.ridge, oracle=base.oracle, figs=figs,
                           shrink=point_shrink(bundle.meta) if args.evaluate else 0.0)
        print(table(results), spread_table(results), source_table(results), rt60_table(results), sep="\n\n")
    if args.evaluate:
        if args.update_card:
            meta_path = out / "soundpred.json"
            meta = json.loads(meta_path.read_text())
            meta["metrics"] = results
            meta_path.write_text(json.dumps(meta, indent=2) + "\n")
            (out / "README.md").write_text(write_card(meta["training"], results))
        else:
            (out / "evaluation.json").write_text(json.dumps(results, indent=2) + "\n")
        return results

    training = {"rooms": config.rooms, "rirs": len(train_bank), "settings": TRAIN.name,
                "epochs": config.epochs if epochs_done is None else epochs_done,
                **({} if epochs_done is None else {"epochs_planned": config.epochs}),
                "steps_per_epoch": config.steps, "batch_size": config.batch_size, "train_median_m": train_median,
                "params": int(model.count_params()), "train_seconds": round(train_seconds, 1),
                "machine": machine(),
                "hybrid_rirs": len(banks.hybrid_train or []),
                "hybrid_share": config.hybrid_share if banks.hybrid_train else 0.0,
                "hybrid_rt60_free": bool(banks.hybrid_train and config.hybrid_rt60_free),
                "hybrid_train_prior": bool(banks.hybrid_train and config.hybrid_train_prior),
                "hybrid_prior_mix": config.hybrid_prior_mix if banks.hybrid_twin else 0.0,
                **{t.key: getattr(config, t.key) for t in TWINS},
                "front_end": {"hop_length": fe.hop_length, "win_length": fe.win_length},
                "aux_weight": config.aux_weight, "direct_weight": config.direct_weight,
                "rel_weight": config.rel_weight, "pair_weight": config.pair_weight,
                "aux_pair_weight": config.aux_pair_weight, "source_pairs": config.source_pairs,
                "pair_ratio": config.pair_ratio, "band_stats": config.band_stats,
                "segments": config.segments, "single_share": config.single_share if config.segments > 1 else None,
                "average_last": config.average_last,
                "dry_sources": {"espeak-ng speech": len(sources.train_speech),
                                "clips": len(sources.train_clips),
                                "extra": str(config.extra_dry) if config.extra_dry else None},
                "command": "python -m train.distance " + " ".join(sys.argv[1:] if argv is None else argv)}
    save_bundle(model, out, frontend=fe, task="distance", metrics=results, training=training,
                card=write_card(training, results), name="soundpred-distance")
    if history:  # none when --epochs 0 only evaluates --init weights
        write_history(out, history)
    finish_bundle(out, config.to_json(), [], task="distance", push=HubPush.from_args(args))
    return results


if __name__ == "__main__":
    main()
