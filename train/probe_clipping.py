"""Probe: what do clipping and limiting cost the distance, and how much does declipping give back?

    python -m train.probe_clipping                    # the embedded default, every card set, hard clipping
    python -m train.probe_clipping --rate 48000 --declip   # clipped at 48 kHz, and restored
    python -m train.probe_clipping --rate 48000 --variants limit-6 limit-12 limit-20 soft-6 soft-12
    python -m train.probe_clipping --rate 48000 --declip --variants level-6 level-12 level-20
    python -m train.probe_clipping --rate 48000 --variants limit-20 duck-20 --release 600
    python -m train.probe_clipping --rate 48000 --variants late-20 --step-offset -0.25
    python -m train.probe_clipping runs/m3 --sets "held-out rooms" --variants hard-6 hard-20
    python -m train.probe_clipping --rate 48000 --declip --variants level-12 --draw hybrid --seeds 1179 1180

A phone held near a loud source clips: the converter flattens every peak that would pass full
scale. The peaks are the onsets, where the direct sound is strongest, so clipping takes more off
the direct sound than off the reverberation that follows it. The app warns for a clipped recording
(more than :data:`soundpred.audio.CLIPPED_SHARE` of its samples at full scale); this probe
measures what that does to the distance, and what restoring the flattened peaks at the
recording's own rate (:func:`soundpred.audio.declip`) gives back; since session 60 the app's
distance model hears a clipped recording so restored (docs/distance.md). A phone's or a recorder's
limiter keeps the same source from clipping by turning the gain down at each loud onset and back
up after it (``limit-DRIVE``, ``--release`` dB/s; ``ramp-DRIVE``: its gain falls over the
look-ahead, not at once), which leaves no sample at full scale for the app to see;
``duck-DRIVE`` moves the gain as the limiter does, but not on the example's own onsets (its gain
run backwards in time), and ``drop-DRIVE`` / ``dropmid-DRIVE`` are one held step of the gain, at
the loudest onset or mid-sound, to tell what the distance reads (session 59); ``dip-DRIVE`` holds
that step for the onset's first 50 ms only, ``late-DRIVE`` makes it 50 ms later (``--step-offset``
moves it; session 60); a saturating preamp rounds the peaks off (``soft-DRIVE``, tanh). Where one
recording level serves a whole session, the near sources, being louder, clip and the far ones do
not (``level-DRIVE``).

Each set's examples (:func:`train.distance_eval.held_out_sets`: the card's rooms, sources and
examples) are resampled to ``--rate`` (default: the model's own, as in session 57), scaled so
that each one's peak lies DRIVE dB over full scale and clipped at +-1 (``hard-DRIVE``), limited
or saturated, then read by the app's decoder (:func:`soundpred.audio.read`) back to the model's
rate, which counts the samples at full scale, and each one's mean is taken off, as the app takes
a recording's off; ``none`` skips the clip alone and, at the model's rate, reproduces the card
(held-out rank 0.500 for its 0.501). With ``--declip``, each variant also restored
(``VARIANT+declip``: the decoder's ``restored`` samples, ``audio.read(..., restore=True)``, for a
recording it calls clipped), paired against the same variant unrestored. Per set and variant:
MAE, relative error, rank correlation over all examples and the mean within rooms, the slope
within rooms and the 10th-90th percentile of the estimates (as ``train.probe_codecs`` prints
them), the median share of samples at full scale, the share of examples the app would call
clipped, and MAE and median estimate of the sources nearer than 1 m (the ones that clip in a
real room); then each variant against ``none``, and each restored one against its unrestored
one, paired over rooms (:func:`soundpred.metrics.paired_bootstrap`). With ``--seeds``, fresh rooms
and examples of ``--draw`` stand in for the card's sets, one set a seed, as ``train.probe_shifted
--seeds`` draws them (the seeds it refuses are refused).
"""
from __future__ import annotations

import numpy as np

from soundpred import audio
from soundpred.audio import CLIPPED_SHARE
from soundpred.bundle import load_bundle
from train.distance_compare import estimates
from train.probe_common import card_parser, card_sets, drawn_sets, print_paired, score_set, summary_head
from train.probe_shifted import DRAW_SETTINGS, refuse_stale_seeds

#: dB over full scale that each example's peak is driven to before the clip
DRIVES_DB = (3, 6, 12, 20)
#: a peak limiter's ceiling (dBFS), look-ahead (s) and release (dB/s), as phones' and recorders'
#: limiters keep a loud source from clipping: no sample reaches full scale, so the app cannot tell
LIMIT_CEILING_DB, LIMIT_LOOKAHEAD_S, LIMIT_RELEASE_DB_S = -1.0, 0.0015, 60.0
VARIANTS = ("none", *(f"hard-{d}" for d in DRIVES_DB), "limit-6", "limit-12", "limit-20", "ramp-12", "ramp-20",
            "duck-12", "duck-20", "drop-20", "dropmid-20", "dip-20", "late-20", "soft-6", "soft-12",
            "level-6", "level-12", "level-20")
#: how long (s) ``dip-DRIVE`` holds its step, and how much later than ``drop-DRIVE``'s ``late-DRIVE``
#: steps, unless ``--step-offset`` says otherwise
ONSET_S = 0.05
#: sources nearer than this (m) are reported apart: in a real room they are the ones that clip
NEAR_M = 1.0


def limiter_gain(y: np.ndarray, rate: int, release_db_s: float = LIMIT_RELEASE_DB_S, ramp: bool = False) -> np.ndarray:
    """The gain (linear, ``y``'s shape) by which a peak limiter (:data:`LIMIT_CEILING_DB` and the
    rest) turns ``y`` (``(n_examples, n)``) down: it falls at once, a look-ahead before each peak
    that would pass the ceiling, and comes back at ``release_db_s``. With ``ramp`` the cut (in dB)
    is averaged over the look-ahead before it, so the gain falls in a straight line over the
    look-ahead instead of in one step, as real limiters' gains do, and still holds the ceiling."""
    w = max(1, int(round(LIMIT_LOOKAHEAD_S * rate)))
    ahead = np.lib.stride_tricks.sliding_window_view(np.pad(np.abs(y), ((0, 0), (0, w - 1))), w, axis=1).max(-1)
    over = np.maximum(0.0, 20 * np.log10(np.maximum(ahead, 1e-12)) - LIMIT_CEILING_DB)
    if ramp:  # look a second window ahead, then average each cut over the window before it
        over = np.lib.stride_tricks.sliding_window_view(np.pad(over, ((0, 0), (0, w - 1))), w, axis=1).max(-1)
    step = release_db_s / rate * np.arange(y.shape[1])
    reduction = np.maximum.accumulate(over + step, axis=1) - step  # the deepest cut so far, released
    if ramp:
        c = np.cumsum(np.pad(reduction, ((0, 0), (w, 0)), mode="edge"), axis=1)
        reduction = (c[:, w:] - c[:, :-w]) / w
    return 10 ** (-reduction / 20)


def at_ceiling(z: np.ndarray) -> np.ndarray:
    """Each row of ``z`` scaled so its peak sits at the limiter's ceiling (:data:`LIMIT_CEILING_DB`). float32."""
    ceiling = 10 ** (LIMIT_CEILING_DB / 20)
    return (z * (ceiling / np.maximum(np.abs(z).max(axis=1, keepdims=True), 1e-12))).astype(np.float32)


def limit(y: np.ndarray, rate: int, release_db_s: float = LIMIT_RELEASE_DB_S, ramp: bool = False) -> np.ndarray:
    """``y`` (``(n_examples, n)``) through a peak limiter (:func:`limiter_gain`): the
    reverberation after a loud onset is raised against the onset while the gain comes back."""
    return (y * limiter_gain(y, rate, release_db_s, ramp)).astype(np.float32)


def clipped(x: np.ndarray, variant: str, rate: int | None = None, distance: np.ndarray | None = None,
            release_db_s: float = LIMIT_RELEASE_DB_S, step_s: float = ONSET_S) -> np.ndarray:
    """The examples ``x`` (``(n_examples, n)``, at ``rate``) as ``variant`` says: ``none`` as they
    are; else each scaled so its peak lies DRIVE dB over full scale, then ``hard-DRIVE`` clipped at
    +-1, ``limit-DRIVE`` through a peak limiter (:func:`limit`, releasing at ``release_db_s``; needs
    ``rate``), ``ramp-DRIVE`` through the same limiter with a gain that falls over its look-ahead in
    a straight line instead of at once, or ``soft-DRIVE`` through a tanh saturation. ``duck-DRIVE``
    is the limiter's control: the example is turned down by the limiter's gain run backwards in
    time, so the same dips fall where its own peaks mostly are not (scaled to the ceiling).
    ``drop-DRIVE`` and ``dropmid-DRIVE`` are one step of the gain, DRIVE dB down at once and held to
    the end, a look-ahead before the example's loudest peak or at its middle sample (scaled to the
    ceiling); ``dip-DRIVE`` is ``drop-DRIVE``'s step held for the onset's first ``step_s`` only,
    ``late-DRIVE`` the same step ``step_s`` later (earlier where negative), held (both need
    ``rate``). ``level-DRIVE`` is one recording level for a whole session: a source at 1 m peaks
    DRIVE dB over full scale and each doubling of its ``distance`` (m, one an example) 6 dB less, as
    the direct sound falls, then clipped at +-1; so the near sources clip hard and those beyond
    10**(DRIVE/20) m not at all. float32."""
    x = np.asarray(x, np.float32)
    if variant == "none":
        return x
    kind, _, drive = variant.partition("-")
    steps = ("drop", "dropmid", "dip", "late")
    if kind not in ("hard", "limit", "ramp", "duck", *steps, "soft", "level") or not drive.isdigit():
        raise ValueError(f"{variant!r}: 'none' or 'hard-DRIVE', 'limit-DRIVE', 'ramp-DRIVE', 'duck-DRIVE', "
                         "'drop-DRIVE', 'dropmid-DRIVE', 'dip-DRIVE', 'late-DRIVE', 'soft-DRIVE', 'level-DRIVE' "
                         "(dB over full scale)")
    drive_db = np.full((len(x), 1), float(drive))
    if kind == "level":
        if distance is None:
            raise ValueError("one recording level needs each example's distance")
        drive_db -= 20 * np.log10(np.asarray(distance, np.float64).reshape(-1, 1))
    if kind in steps:
        if rate is None and kind in ("dip", "late"):
            raise ValueError(f"{kind}-DRIVE needs the sample rate")
        if kind == "dip" and not step_s > 0:
            raise ValueError("dip-DRIVE holds its step for a positive time")
        w = 0 if rate is None else int(round(LIMIT_LOOKAHEAD_S * rate))
        at = np.full(len(x), x.shape[1] // 2) if kind == "dropmid" else np.maximum(np.abs(x).argmax(axis=1) - w, 0)
        onset = 0 if rate is None else int(round(step_s * rate))
        i = np.arange(x.shape[1])[None] - (at + onset * (kind == "late"))[:, None]  # samples since the step
        down = (i >= 0) & (i < onset) if kind == "dip" else i >= 0
        return at_ceiling(np.where(down, x * 10 ** (-drive_db / 20), x))
    peak = np.abs(x).max(axis=1, keepdims=True)
    y = x * (10 ** (drive_db / 20) / np.maximum(peak, 1e-12)).astype(np.float32)
    if kind in ("limit", "ramp", "duck"):
        if rate is None:
            raise ValueError("a limiter needs the sample rate")
        if kind != "duck":
            return limit(y, rate, release_db_s, ramp=kind == "ramp")
        return at_ceiling(y * limiter_gain(y, rate, release_db_s)[:, ::-1])
    return np.tanh(y) if kind == "soft" else np.clip(y, -1.0, 1.0)


def heard(x: np.ndarray, variant: str, sr: int, rate: int | None = None, distance: np.ndarray | None = None,
          restore: bool = False, release_db_s: float = LIMIT_RELEASE_DB_S,
          step_s: float = ONSET_S) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The examples ``x`` (``(n_examples, n)`` at ``sr``, their true ``distance`` for
    ``level-DRIVE``) clipped as ``variant`` says at ``rate`` (None: ``sr``) and read back by the
    app's decoder: ``(plain, restored, share)``, the samples the app decodes, the same restored
    (with ``restore``: :func:`soundpred.audio.declip`, where the decoder calls the example
    clipped; else the plain ones), both with their mean off as the app takes it, and each
    example's share of samples at full scale as the decoder counts it; a limiter releases at
    ``release_db_s``, and ``dip-``/``late-DRIVE`` take ``step_s`` (:func:`clipped`)."""
    rate = rate or sr
    plain, restored, share = [], [], []
    for i, row in enumerate(np.asarray(x, np.float32)):
        far = None if distance is None else distance[i:i + 1]
        z = clipped(audio.resample(row, sr, rate)[None], variant, rate, far, release_db_s, step_s)[0]
        d = audio.read((rate, z), sr=sr, restore=restore)
        for out, y in ((plain, d.samples), (restored, d.samples if d.restored is None else d.restored)):
            y = np.resize(y, len(row)) if len(y) != len(row) else y  # a resampler's sample more or less
            out.append(y - y.mean())
        share.append(d.clipped)
    return np.stack(plain).astype(np.float32), np.stack(restored).astype(np.float32), np.array(share)


def main(argv=None):
    p = card_parser(__doc__)
    p.add_argument("--variants", nargs="+", default=[v for v in VARIANTS if v.startswith("hard-")],
                   choices=list(VARIANTS))
    p.add_argument("--rate", type=int, default=None,
                   help="clip at this sample rate, as a converter does, and decode back as the app does "
                        "(default: the model's own)")
    p.add_argument("--release", type=float, default=LIMIT_RELEASE_DB_S,
                   help="the limiter's release in dB/s (limit-, ramp- and duck-DRIVE; default %(default)g)")
    p.add_argument("--step-offset", type=float, default=ONSET_S,
                   help="late-DRIVE: the step this many seconds after drop-DRIVE's (negative: before); "
                        "dip-DRIVE: how long it holds (default %(default)g)")
    p.add_argument("--declip", action="store_true",
                   help="also each clipped variant with its peaks restored (VARIANT+declip)")
    p.add_argument("--seeds", nargs="+", type=int,
                   help="fresh draws of --draw's simulation on these seeds instead of the card's sets "
                        "(as train.probe_shifted draws them; stale seeds are refused)")
    p.add_argument("--draw", default="held-out", choices=list(DRAW_SETTINGS), help="with --seeds: which simulation")
    args = p.parse_args(argv)
    refuse_stale_seeds(p, args.draw, args.seeds)
    bundle = load_bundle(args.bundle)
    variants = ["none"] + [v for v in args.variants if v != "none"]
    sr = bundle.frontend.sample_rate
    print(f"clipped at {args.rate or sr} Hz, decoded to {sr} Hz; a limiter releases at {args.release:g} dB/s; "
          f"step offset {args.step_offset:g} s\n")
    print(summary_head("clipping"))
    results, paired, shares, near = {}, {}, {}, {}
    sets = (drawn_sets(bundle.frontend, args.draw, args.seeds) if args.seeds
            else card_sets(bundle.frontend, args.sets))
    for s, x in sets:
        est, pairs = {}, []
        close = s.bank.distance < NEAR_M
        for v in variants:
            plain, restored, share = heard(x, v, sr, args.rate, s.bank.distance, restore=args.declip,
                                           release_db_s=args.release, step_s=args.step_offset)
            shares[(s.name, v)] = (float(np.median(share)), float(np.mean(share > CLIPPED_SHARE)))
            est[v] = estimates(bundle, plain)
            if v != "none":
                pairs.append((v, "none"))
                if args.declip:
                    est[f"{v}+declip"] = estimates(bundle, restored)
                    pairs.append((f"{v}+declip", v))
        for name, e in est.items():
            near[(s.name, name)] = (int(close.sum()), float(np.mean(np.abs(e[close] - s.bank.distance[close]))),
                                    float(np.median(e[close])))
        score_set(s, est, pairs, results, paired)
    print("\nSamples at full scale (median share over the examples; share of examples the app calls clipped):\n")
    print("| set | clipping | median share at full scale | share of examples over the trigger |\n|---|---|---|---|")
    for (name, v), (median, over) in shares.items():
        print(f"| {name} | {v} | {median:.4f} | {over:.3f} |")
    print(f"\nSources nearer than {NEAR_M:g} m:\n")
    print("| set | clipping | examples | MAE m | median estimate m |\n|---|---|---|---|---|")
    for (name, v), (n, mae, median) in near.items():
        print(f"| {name} | {v} | {n} | {mae:.3f} | {median:.2f} |")
    print_paired(paired, ("clipping", "against"))
    return results, paired, shares


if __name__ == "__main__":
    main()
