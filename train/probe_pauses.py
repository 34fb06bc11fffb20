"""Probe: what pauses in a recording (the room's noise, no sound) do to the distance.

    python -m train.probe_pauses                                  # the embedded default, the card's sets
    python -m train.probe_pauses --seeds 1171 1172 --set held-out # fresh rooms and examples
    python -m train.probe_pauses runs/m3 --sets "held-out rooms"

A person rarely sounds for the whole of a recording: an upload starts before the sound and runs on
after it, and the Live tab's distance hears the last 8 s, where a person who stops talking leaves
the room's noise. ``train.probe_padding`` (session 54) padded with digital silence or a floor 60 dB
down, which the app's window gate (40 dB under the loudest window) and ``sounding_span`` handle;
here the pauses hold the example's own noise (its kind, level, colouration and gain:
``soundpred.rooms.synthesize(pauses=)``), which passes that gate. The examples in the middle are the
card's own, sample for sample. Each is heard through the app's own
:meth:`~soundpred.predict.Predictor.distance_for_waveform`, as the app cuts it (no suffix), trimmed
to its :func:`~soundpred.predict.sounding_span` with ``rise_db`` (:data:`~soundpred.predict.SPAN_RISE_DB`
above the recording's noise floor; ``span``), and the same span grown to at least one window where
the recording allows (``span+window``: a short span keeps the room's noise around it, not silence):

- ``plain``: the example as it is (4 s; the card's figures as the app cuts it);
- ``pauses 3+3``: 3 s of the noise before and after (an upload cut loosely);
- ``pause after 4``: 4 s of the noise after it (the Live tab's 8 s after a person stops).

Per set and treatment: MAE, relative error, rank correlation over all examples and the mean within
rooms, the slope within rooms and the 10th-90th percentile of the estimates; then, paired over rooms
(:func:`soundpred.metrics.paired_bootstrap`), each trimmed treatment against the same recordings as
the app hears them now, and each against the plain examples. With ``--seeds``, fresh rooms of
``--set`` (as ``train.probe_shifted --seeds`` draws them; the seeds it refuses are refused), one
seed at a time and all of them together.
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from soundpred.bundle import load_bundle
from soundpred.hub import resolve
from soundpred.predict import SPAN_RISE_DB, Predictor
from train.distance_eval import DistanceConfig, EvalSet, dry_sources, held_out_sets, make_examples, room_banks
from train.probe_common import card_parser, fresh_sets, print_paired, score_set, summary_head
from train.probe_shifted import DRAW_SETTINGS, ROOM_ID_STRIDE, refuse_stale_seeds

#: name: seconds of the noise before and after the example
PAUSES = {"plain": (0.0, 0.0), "pauses 3+3": (3.0, 3.0), "pause after 4": (0.0, 4.0)}
#: how the recording is cut: distance_for_waveform's options
CUTS = {"": {}, ", span": {"trim": True, "rise_db": SPAN_RISE_DB},
        ", span+window": {"trim": True, "rise_db": SPAN_RISE_DB, "whole_window": True}}


def treatments() -> list[str]:
    return [p + c for p in PAUSES for c in CUTS]


#: pairs compared over rooms: (new, old)
PAIRS = ([(p + c, p) for p in PAUSES for c in list(CUTS)[1:]]
         + [(p + c, "plain") for p in list(PAUSES)[1:] for c in CUTS])


def heard(s: EvalSet, fe, d: DistanceConfig, pauses: tuple[float, float]) -> np.ndarray:
    """Set ``s``'s examples (``train.distance_eval.set_examples``) with ``pauses`` seconds of their
    own noise before and after."""
    samples = tuple(int(round(p * fe.sample_rate)) for p in pauses)
    return make_examples(s.bank, s.speech, s.clips, s.settings, n=fe.window_samples, sr=fe.sample_rate, seed=s.seed,
                         speech_share=d.speech_share, pauses=samples)


def together(name: str, parts: list[tuple[EvalSet, dict]]) -> tuple[SimpleNamespace, dict]:
    """Several sets' estimates as one set (each set's room ids shifted by ``ROOM_ID_STRIDE``, as
    ``train.probe_shifted`` pools its draws)."""
    bank = SimpleNamespace(distance=np.concatenate([s.bank.distance for s, _ in parts]),
                           room=np.concatenate([k * ROOM_ID_STRIDE + np.asarray(s.bank.room) for k, (s, _) in
                                                enumerate(parts)]))
    est = {t: np.concatenate([e[t] for _, e in parts]) for t in parts[0][1]}
    return SimpleNamespace(name=name, bank=bank), est


def main(argv=None):
    p = card_parser(__doc__)
    p.add_argument("--seeds", nargs="+", type=int, help="fresh rooms and examples of --set instead of the card's")
    p.add_argument("--set", default="held-out", choices=list(DRAW_SETTINGS), help="with --seeds: which simulation")
    args = p.parse_args(argv)
    refuse_stale_seeds(p, args.set, args.seeds)
    bundle = load_bundle(args.bundle)
    fe = bundle.frontend
    predictor = Predictor(resolve(None, "classification")[0], bundle)
    d = DistanceConfig()
    sources = dry_sources(fe.sample_rate, n_speech=d.speech, data=d.data)
    if args.seeds:
        sets = fresh_sets(args.set, args.seeds, d, sources, fe.sample_rate)
    else:
        banks = room_banks(fe.sample_rate, rooms=d.rooms, eval_rooms=d.eval_rooms, seed=d.seed)
        sets = [s for s in held_out_sets(banks, sources, d.seed) if s.name in args.sets]
    print(summary_head("treatment"))
    results, paired, parts = {}, {}, []
    for s in sets:
        est = {}
        for pause, seconds in PAUSES.items():
            x = heard(s, fe, d, seconds)
            for cut, options in CUTS.items():
                est[pause + cut] = np.array([predictor.distance_for_waveform(e, **options)[0] for e in x])
        parts.append((s, est))
    if args.seeds and len(sets) > 1:
        parts.append(together(f"{args.set} {'+'.join(map(str, args.seeds))}", parts))
    for s, est in parts:
        score_set(s, est, PAIRS, results, paired)
    print_paired(paired, ("new", "old"))
    return results, paired


if __name__ == "__main__":
    main()
