"""What the probes that play the card's examples another way share (``probe_mic_processing``,
``probe_codecs``, ``probe_padding``, ``probe_pauses``, ``probe_clipping``): the command line's
bundle and sets, the card's sets (or fresh draws) with their examples, one table row per set and
treatment, and the paired table."""
from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from soundpred.hub import EMBEDDED
from soundpred.metrics import distance_summary, paired_bootstrap
from soundpred.rooms import make_bank
from train.distance_eval import (EVAL_TITLES, DistanceConfig, EvalSet, dry_sources, held_out_sets, room_banks,
                                 set_examples)
from train.probe_shifted import DRAW_SETTINGS


def card_parser(doc: str) -> argparse.ArgumentParser:
    """A probe's parser: the bundle (the embedded default) and ``--sets`` (every card set)."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("bundle", nargs="?", type=Path, default=EMBEDDED["distance"])
    p.add_argument("--sets", nargs="+", default=list(EVAL_TITLES.values()), choices=list(EVAL_TITLES.values()))
    return p


def card_sets(fe, names: list[str], d: DistanceConfig | None = None) -> Iterator[tuple[EvalSet, np.ndarray]]:
    """The card's sets named in ``names`` (:func:`train.distance_eval.held_out_sets`), each with
    its examples as a network with front end ``fe`` hears them."""
    d = d or DistanceConfig()
    sources = dry_sources(fe.sample_rate, n_speech=d.speech, data=d.data)
    banks = room_banks(fe.sample_rate, rooms=d.rooms, eval_rooms=d.eval_rooms, seed=d.seed)
    for s in held_out_sets(banks, sources, d.seed):
        if s.name in names:
            yield s, set_examples(s, fe, d.speech_share)


def fresh_sets(draw_set: str, seeds: list[int], d: DistanceConfig, sources, sr: int) -> list[EvalSet]:
    """Fresh rooms and examples instead of the card's: ``train.probe_shifted.fresh_draw``'s, of
    its ``draw_set`` simulation, for each of ``seeds``, as sets named "``draw_set`` SEED" (stale
    seeds are the caller's to refuse: ``train.probe_shifted.refuse_stale_seeds``)."""
    settings = DRAW_SETTINGS[draw_set]
    return [EvalSet(f"{draw_set} {seed}", make_bank(settings, d.eval_rooms, seed=d.seed + seed, sr=sr), settings,
                    d.seed + seed, sources.eval_speech, sources.eval_clips) for seed in seeds]


def drawn_sets(fe, draw_set: str, seeds: list[int], d: DistanceConfig | None = None
               ) -> Iterator[tuple[EvalSet, np.ndarray]]:
    """:func:`fresh_sets`, each with its examples as a network with front end ``fe`` hears them
    (as :func:`card_sets` gives the card's)."""
    d = d or DistanceConfig()
    sources = dry_sources(fe.sample_rate, n_speech=d.speech, data=d.data)
    for s in fresh_sets(draw_set, seeds, d, sources, fe.sample_rate):
        yield s, set_examples(s, fe, d.speech_share)


def summary_row(s: EvalSet, label: str, estimate: np.ndarray) -> tuple[dict, str]:
    """The figures of ``estimate`` on set ``s`` and their table row: MAE, relative error, rank
    over all examples and the mean within rooms, the slope within rooms, the 10th-90th percentile."""
    r = distance_summary(estimate, s.bank.distance, room=s.bank.room)
    lo, hi = np.percentile(estimate, [10, 90])
    return r, (f"| {s.name} | {label} | {r['mae_m']:.3f} | {r['rel_error']:.3f} | {r['spearman']:.3f} | "
               f"{r['spearman_within_room']:.3f} | {r['slope_within_room']:.3f} | {lo:.2f}-{hi:.2f} |")


def score_set(s, est: dict[str, np.ndarray], pairs, results: dict, paired: dict) -> None:
    """Set ``s``'s figures for each treatment's estimates in ``est`` (printed, one row each, and
    kept in ``results``) and, in ``paired``, the paired bootstrap of each ``(new, old)`` of ``pairs``."""
    for name, estimate in est.items():
        results[(s.name, name)], row = summary_row(s, name, estimate)
        print(row, flush=True)
    for new, old in pairs:
        paired[(s.name, new, old)] = paired_bootstrap(est[new], est[old], s.bank.distance, s.bank.room)


def summary_head(label: str) -> str:
    return (f"| set | {label} | MAE m | rel. error | rank | rank within rooms | slope within rooms | "
            "estimates p10-p90 m |\n|---|---|---|---|---|---|---|---|")


def print_paired(paired: dict, labels: tuple[str, ...]) -> None:
    """The paired bootstraps (:func:`soundpred.metrics.paired_bootstrap`) keyed by the set's name
    and ``labels``' values: the difference and its 90 % interval for each measure."""
    print("\nPaired over rooms (2000 draws; new - old, 90 % interval):\n")
    print(f"| set | {' | '.join(labels)} | MAE m | rel. error | rank | rank within rooms |\n"
          f"|---|{'---|' * len(labels)}---|---|---|---|")
    for key, b in paired.items():
        cells = [f"{b[k]['difference']:+.3f} ({b[k]['interval'][0]:+.3f} to {b[k]['interval'][1]:+.3f})"
                 for k in ("mae_m", "rel_error", "spearman", "spearman_within_room")]
        print("| " + " | ".join(key) + " | " + " | ".join(cells) + " |")
