"""The distance model's data and evaluation, as a library: room banks, dry sources, examples,
training batches, baselines, the evaluation and its tables and card.

``train/distance.py`` is the command; ``train/probe_distance_cues.py`` and the tests use the
same pieces. Rooms: a seeded bank of training rooms (4 source–microphone pairs each) with the
``TRAIN`` simulation settings; evaluation on rooms never used in training (same settings, other
seed), on the ``SHIFTED`` simulation (other absorption profiles, cardioid source and mic, hum
and babble noise, stronger colouration), the ``BROAD`` one (distances log-uniform over
0.3–20 m instead of the training prior) and the ``HYBRID`` one (material tables, ray-traced
tail, talker-like source, distances that grow with the room), which training may also use
(``DistanceConfig.hybrid_rooms``; other seeds). Dry sources are split too: espeak-ng utterances and
starter clips used in evaluation are never used in training.

The evaluation has MAE, median absolute error, mean relative error, rank correlation with the
truth (over all examples and within rooms), error and estimate spread per distance bin, error
per RT60 bin and the coverage of the 90 % interval, for the model and two baselines (always the
training median; ridge regression on blind direct-to-reverberant / decay features of the
log-mel spectrogram) and, as a reference no blind estimator could use, gradient boosting on the
exact acoustic parameters (DRR, C50, EDT, T20) of each example's true impulse response.
"""
from __future__ import annotations

import functools
import itertools
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import keras
import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor

from soundpred import audio
from soundpred.data import read_fsdkaggle2018
from soundpred.distance import COVERAGE, clip_log_sigma, interval, point_estimate, z_value
from soundpred.features import LogMel, mel_matrix
from soundpred.metrics import distance_summary
from soundpred.models import gaussian_nll, takes_room_hint
from soundpred.paths import STARTER
from soundpred.plots import distance_figure
from soundpred.rooms import (BROAD, DIRECT_HALF_SECONDS, DIRECT_INDEX, FREE_RT60_FACTOR, HYBRID, HYBRID_FREE, ROOM_LENGTH_M, SHIFTED, TRAIN, TRAIN_MIC, TRAIN_TALKER, TRAIN_TURNED, RirBank, SimSettings, kind_one_hot,
                             make_bank, synthesize)
from train.data import load_waveforms
from train.dry_sources import make_speech

__all__ = ["DistanceConfig", "DrySources", "EvalSet", "Banks", "Twin", "TWINS", "hybrid_settings", "config_hybrid_settings",
           "config_hybrid_twin", "record_hybrid_settings", "record_hybrid_twin", "room_banks", "training_parts", "dry_sources", "make_examples", "make_batches",
           "by_source", "source_table",
           "ACOUSTIC_TARGETS", "acoustic_targets", "distance_loss", "acoustics_loss", "with_training_heads",
           "DIRECT_TILE", "direct_target", "direct_loss",
           "eval_sets", "validation_sets", "Baselines", "classical_features", "RidgeBaseline", "rir_parameters", "bank_parameters",
           "RirOracle", "logmel_of", "predict_model", "evaluate", "table", "rt60_table", "write_card", "write_ensemble_card"]


@dataclass(frozen=True)
class DistanceConfig:
    """How the distance model is trained and evaluated (the command's options)."""

    rooms: int = 600
    eval_rooms: int = 100
    epochs: int = 40
    steps: int = 60
    batch_size: int = 32
    lr: float = 2e-3
    width: int = 24
    speech: int = 240  # espeak-ng utterances
    speech_share: float = 0.7  # share of examples with speech as the source
    seed: int = 0  # rooms, sources and evaluation examples
    #: the network's initialisation and the training batches' draws (None: ``seed``); another
    #: value trains another member of an ensemble on the same data
    train_seed: int | None = None
    data: Path = STARTER  # FSDKaggle2018-layout clips used as extra dry sources
    room_hint: bool = False  # the model takes the room kind (auto / small / medium / large)
    hint_drop: float = 0.3  # share of training examples whose hint is "auto"
    hybrid_rooms: int = 0  # HYBRID training rooms (4 source-microphone pairs each) beside the TRAIN ones
    hybrid_share: float = 0.5  # share of training examples from those rooms
    #: those rooms with an RT60 drawn whatever their size (``HYBRID_FREE`` instead of ``HYBRID``)
    hybrid_rt60_free: bool = False
    #: those rooms with TRAIN's distances (log-normal around 2.5 m whatever the room's size) instead
    #: of distances that grow with the room: the hybrid acoustics without the hybrid prior
    hybrid_train_prior: bool = False
    #: share of the hybrid rooms' examples heard at TRAIN's distances instead: as many rooms of the
    #: same simulation with that prior (its ``-train-prior`` variant, same seed; another draw of
    #: rooms, as the prior changes the draws), so that the hybrid acoustics come with both priors
    #: (0: none; needs ``hybrid_train_prior`` False)
    hybrid_prior_mix: float = 0.0
    #: share of the training rooms' examples (those not from the hybrid rooms) heard from a
    #: talker-like source instead (``TRAIN_TALKER``: the same rooms, positions and distances,
    #: a subcardioid source facing the microphone ± 60°), so that a source turned away, whose
    #: direct sound is weaker against the reverberation, does not read as a farther one
    talker_share: float = 0.0
    #: share of them heard from a source that may face anywhere (``TRAIN_TURNED``: the same
    #: rooms, a hypercardioid at a random orientation); with the other twins' shares, at most 1 together
    turned_share: float = 0.0
    #: share of them heard by a microphone that may face anywhere (``TRAIN_MIC``: the same rooms,
    #: a hypercardioid microphone at a random orientation, the source omnidirectional)
    mic_share: float = 0.0
    hop: int = 160  # front-end hop in samples (80: 5 ms frames, finer early reflections)
    #: weight of the auxiliary loss: a second head, used only in training, predicts the true
    #: RIR's acoustic parameters (:data:`ACOUSTIC_TARGETS`), so that the trunk learns the cues
    aux_weight: float = 0.0
    #: weight of the relative-error term |d_hat / d - 1| added to the Gaussian NLL
    rel_weight: float = 0.0
    #: average the weights of the last this many epochs into the saved model (0: the last epoch's)
    average_last: int = 0
    #: weight of the within-room pair term: batches hold pairs of examples from one room (the same
    #: dry source, two source–microphone distances) and the loss adds the squared error of the
    #: predicted log-distance *difference* in each pair, so that what changes inside a room (the
    #: direct-to-reverberant ratio, early reflections) moves the estimate as far as the truth moves
    pair_weight: float = 0.0
    #: weight of the within-room pair term on the acoustics head (needs ``aux_weight``): the same
    #: pair batches, and the squared error of the predicted DRR and C50 *differences* within each
    #: pair added to the head's loss, so that the trunk learns what changes between two positions
    #: in one room rather than only what tells rooms apart
    aux_pair_weight: float = 0.0
    #: the pairs of the pair terms are one source–microphone pair of a room heard through two
    #: different dry sources (the same true distance), instead of two positions with one source:
    #: ``pair_weight`` then costs the squared difference of the two estimates, so that what
    #: belongs to the source (its spectrum, its onsets) moves the estimate less
    source_pairs: bool = False
    #: the distance pair term divided by the batch's variance of estimated log-distances, so that
    #: it is scale-free: squeezing every estimate toward one value (which shrinks any difference)
    #: does not lower it, spreading the estimates does. Measured: a plain source-pair term of
    #: weight 2 squeezed the estimates (within-room slope 0.15 to 0.06, docs/distance.md)
    pair_ratio: bool = False
    #: the network also reads per-band statistics of the log-mel (``soundpred.models.BandStats``:
    #: the loudest frames' envelope, each band's rise above its floor), added to its embedding
    band_stats: bool = False
    #: a Kaggle-layout folder (``more-real``) whose dry clips (:data:`DRY_EXTRA_SOURCES`) join the
    #: training sources (None: the starter clips and espeak-ng speech only)
    extra_dry: Path | None = None
    #: each training example is this many of the model's windows joined end to end, each another
    #: dry source through the same RIR (as when a person talks or plays for longer at one place),
    #: so that the network learns to pool what several sounds at one place tell; a share
    #: ``single_share`` of the examples keeps only the first window (zeros after it), as a short
    #: recording is padded. 1: one window, one source (every bundle before session 17)
    segments: int = 1
    single_share: float = 0.25
    #: weight of a dense training-only target: a head on the trunk's block-3 map says, per tile
    #: of it (:data:`DIRECT_TILE` frames by mel bands), how much of the example's energy there is
    #: the source's direct sound (:func:`direct_target`), so that the trunk learns *where* the
    #: direct sound is in an unknown source, which is what a within-room DRR reading needs
    direct_weight: float = 0.0
    #: share of the training examples heard through call-style processing, as a browser or phone
    #: may apply it whatever the page asks (:func:`train.mic_processing.webrtc_processed`: noise
    #: suppression at level 1, 2 or 3, the automatic gain half of the time), each at its own RMS
    #: again; the targets stay those of the sound before it (docs/distance.md, session 51)
    processing_share: float = 0.0
    #: share of the training examples heard through a lossy coding or a telephone band
    #: (:func:`train.codecs.training_coded`: MP3 32-64, AAC 32-64, Opus 12-32 kbit/s, 8 kHz), one
    #: coding a batch, drawn after its examples, so the examples are those of a share of 0; each
    #: at its own RMS again, the targets those of the sound before it (docs/distance.md, session 56)
    codec_share: float = 0.0

    @property
    def paired(self) -> bool:
        """Whether the training batches are within-room pairs (either pair term asks for them)."""
        return self.pair_weight > 0 or self.aux_pair_weight > 0

    @property
    def init_seed(self) -> int:
        """The seed of the initialisation and the batch draws: ``train_seed``, else ``seed``."""
        return self.seed if self.train_seed is None else self.train_seed

    def to_json(self) -> dict:
        return {k: str(v) if isinstance(v, Path) else v for k, v in asdict(self).items()}


@dataclass
class DrySources:
    """Dry (anechoic) sources at the model's rate; training and evaluation ones are disjoint."""

    train_speech: list[np.ndarray]
    train_clips: list[np.ndarray]
    eval_speech: list[np.ndarray]
    eval_clips: list[np.ndarray]


@dataclass
class EvalSet:
    """One evaluation set: a bank of rooms, its simulation settings, the example seed, sources."""

    name: str
    bank: RirBank
    settings: SimSettings
    seed: int
    speech: list[np.ndarray] = field(repr=False)
    clips: list[np.ndarray] = field(repr=False)


@dataclass
class Banks:
    """The seeded room banks: training rooms, and held-out rooms of every evaluation setting
    (None where only training needs them: ``room_banks(evaluation=False)``)."""

    train: RirBank
    heldout: RirBank | None
    shifted: RirBank | None
    broad: RirBank | None
    hybrid: RirBank | None  # held-out rooms of the HYBRID simulation
    hybrid_train: RirBank | None = None  # HYBRID training rooms (only when training uses them)
    talker_train: RirBank | None = None  # the training rooms with a talker-like source (likewise)
    turned_train: RirBank | None = None  # the training rooms with a source facing anywhere (likewise)
    mic_train: RirBank | None = None  # the training rooms with a microphone facing anywhere (likewise)
    hybrid_twin: RirBank | None = None  # hybrid training rooms at TRAIN's distances (``hybrid_prior_mix``)


@dataclass(frozen=True)
class Twin:
    """A twin of the training rooms: the same rooms, positions and distances heard from another
    source or by another microphone, which gives a share of the examples not drawn from the
    hybrid rooms."""

    key: str  # the share's field in DistanceConfig and in a bundle's training record; its option
    settings: SimSettings
    bank: str  # its field in Banks
    short: str  # the source or microphone in a few words (an ensemble member's line, the twins sentence)
    detail: str  # with its pattern (a single model's card)

    @property
    def option(self) -> str:
        return "--" + self.key.replace("_", "-")


#: Every twin of the training rooms. The table drives ``room_banks``, ``training_parts``,
#: ``train.distance``'s options check and training record, and the cards; a new twin also needs
#: its settings, a DistanceConfig field, a Banks field and a command option
#: (``tests/test_train.py::test_every_twin_of_the_training_rooms_is_wired_through`` checks them).
TWINS = (Twin("talker_share", TRAIN_TALKER, "talker_train", "talker-like source",
              "talker-like source (subcardioid, facing the microphone ± 60°)"),
         Twin("turned_share", TRAIN_TURNED, "turned_train", "source facing anywhere",
              "source that may face anywhere (hypercardioid, random orientation)"),
         Twin("mic_share", TRAIN_MIC, "mic_train", "microphone facing anywhere",
              "microphone that may face anywhere (hypercardioid, random orientation; omnidirectional source)"))


#: Bank seed offsets (of the configuration's seed) of the rooms the models learn from, with their
#: twins (:func:`room_banks`), and of the validation rooms ``train.ensemble`` calibrates on
#: (:func:`validation_sets`); ``train.probe_shifted`` refuses them as fresh draws.
TRAIN_BANK_OFFSET, HYBRID_TRAIN_BANK_OFFSET = 100, 500
VALIDATION_BANK_OFFSETS = {"training": 700, "hybrid": 800}

#: The evaluation banks by name: simulation settings, the bank's seed offset and the offset of its
#: examples' seed (:func:`room_banks`, :func:`eval_sets`; ``train.probe_conditions`` hears the same
#: rooms without simulating the training bank).
EVAL_BANKS = {"held-out": (TRAIN, 200, 11), "shifted": (SHIFTED, 300, 12), "broad": (BROAD, 400, 14),
              "hybrid": (HYBRID, 600, 15)}
#: each evaluation bank's name on the cards
EVAL_TITLES = {"held-out": "held-out rooms", "shifted": "shifted simulation", "broad": "broad distances",
               "hybrid": "hybrid simulation"}


def eval_bank(name: str, rooms: int, sr: int, seed: int = 0) -> RirBank:
    """The evaluation bank ``name`` of :data:`EVAL_BANKS` (``rooms`` rooms; ``seed`` the
    configuration's seed), as :func:`room_banks` simulates it."""
    settings, bank_offset, _ = EVAL_BANKS[name]
    return make_bank(settings, rooms, seed=seed + bank_offset, sr=sr)


def eval_set(name: str, sources: DrySources, seed: int, *, bank: RirBank | None = None, rooms: int = 100,
             sr: int = 16000) -> EvalSet:
    """The evaluation set ``name`` as ``train.distance --evaluate`` draws it: its bank (``bank``,
    or :func:`eval_bank` simulated here), its settings and example seed, held-out dry sources."""
    settings, _, example_offset = EVAL_BANKS[name]
    bank = eval_bank(name, rooms, sr, seed) if bank is None else bank
    return EvalSet(EVAL_TITLES[name], bank, settings, seed + example_offset, sources.eval_speech, sources.eval_clips)


def hybrid_settings(rt60_free: bool = False, train_prior: bool = False) -> SimSettings:
    """The simulation of a model's hybrid training rooms: ``HYBRID``, or ``HYBRID_FREE`` with a free
    RT60; with ``train_prior``, that one with TRAIN's distance prior instead of the room-size one
    (its name ending ``-train-prior``)."""
    settings = HYBRID_FREE if rt60_free else HYBRID
    if train_prior:
        settings = replace(settings, name=f"{settings.name}-train-prior", distance_prior=TRAIN.distance_prior)
    return settings


def config_hybrid_settings(config: DistanceConfig) -> SimSettings:
    """:func:`hybrid_settings` of a training configuration."""
    return hybrid_settings(config.hybrid_rt60_free, config.hybrid_train_prior)


def config_hybrid_twin(config: DistanceConfig) -> SimSettings | None:
    """The simulation of the hybrid rooms drawn at TRAIN's distances that a training configuration
    also draws from (``hybrid_prior_mix`` > 0: ``Banks.hybrid_twin``), else None."""
    return hybrid_settings(config.hybrid_rt60_free, train_prior=True) if config.hybrid_prior_mix > 0 else None


def record_hybrid_settings(record: dict) -> SimSettings:
    """:func:`hybrid_settings` of a bundle's training record or an ensemble's member record (older
    records, without the fields, trained on ``HYBRID``)."""
    return hybrid_settings(bool(record.get("hybrid_rt60_free")), bool(record.get("hybrid_train_prior")))


def record_hybrid_twin(record: dict) -> SimSettings | None:
    """:func:`config_hybrid_twin` of a bundle's training record or an ensemble's member record
    (None where it drew no examples from such rooms, as every record before session 42)."""
    if not (record.get("hybrid_share") and record.get("hybrid_prior_mix")):
        return None
    return hybrid_settings(bool(record.get("hybrid_rt60_free")), train_prior=True)


def _hybrid_words(settings: SimSettings) -> str:
    """How a member's hybrid rooms differ from ``HYBRID``, in words ("" if they do not)."""
    words = (["an RT60 drawn whatever the size"] if settings.rt60_free else []) + (
        ["the training rooms' distances"] if settings.distance_prior != HYBRID.distance_prior else [])
    return f" with {' and '.join(words)} (`{settings.name}`)" if words else ""


def room_banks(sr: int, *, rooms: int = 600, eval_rooms: int = 100, seed: int = 0, hybrid_rooms: int = 0,
               twins: tuple[str, ...] = (), evaluation: bool = True, hybrid: SimSettings = HYBRID,
               hybrid_twin: SimSettings | None = None) -> Banks:
    """The seeded banks (simulated once, then cached); ``hybrid_rooms`` training rooms of the
    ``hybrid`` simulation (one of :func:`hybrid_settings`) if > 0; for each :data:`TWINS` key in
    ``twins``, the training rooms again with that twin's source or microphone (TRAIN_TALKER,
    TRAIN_TURNED, TRAIN_MIC), of the same seed: the same rooms and distances; the evaluation
    banks unless ``evaluation`` is False (``train.distance --no-evaluate``: a lent machine's
    minutes are not spent simulating rooms it will not score); with ``hybrid_twin`` (the hybrid
    simulation with another distance prior), ``hybrid_rooms`` training rooms of that one too, same seed."""
    train_seed = seed + TRAIN_BANK_OFFSET  # the twin banks' too: the same rooms
    train = make_bank(TRAIN, rooms, seed=train_seed, sr=sr)
    evals = [eval_bank(name, eval_rooms, sr, seed) if evaluation else None for name in EVAL_BANKS]
    hybrid_train, hybrid_twin = (make_bank(s, hybrid_rooms, seed=seed + HYBRID_TRAIN_BANK_OFFSET, sr=sr)
                                 if hybrid_rooms and s is not None else None for s in (hybrid, hybrid_twin))
    return Banks(train, *evals, hybrid_train, hybrid_twin=hybrid_twin,
                 **{t.bank: make_bank(t.settings, rooms, seed=train_seed, sr=sr) for t in TWINS if t.key in twins})


def config_room_banks(config: DistanceConfig, sr: int, *, evaluation: bool = True, training: bool = True) -> Banks:
    """:func:`room_banks` of a training configuration: its rooms, twins and hybrid rooms (with
    ``training`` False only the plain training rooms, which the baselines need to score a bundle),
    and the evaluation banks if ``evaluation``."""
    return room_banks(sr, rooms=config.rooms, eval_rooms=config.eval_rooms, seed=config.seed,
                      hybrid_rooms=config.hybrid_rooms if training else 0,
                      twins=tuple(t.key for t in TWINS if getattr(config, t.key) > 0) if training else (),
                      evaluation=evaluation, hybrid=config_hybrid_settings(config),
                      hybrid_twin=config_hybrid_twin(config) if training else None)


def training_parts(banks: Banks, config: DistanceConfig) -> tuple[list[tuple[RirBank, SimSettings]], list[float]]:
    """The training banks and the share of examples each gives (:func:`make_batches`' ``parts``
    and ``shares``): the hybrid rooms ``config.hybrid_share`` of them where there are any (of
    which ``config.hybrid_prior_mix`` from ``banks.hybrid_twin``, hybrid rooms drawn at TRAIN's
    distances, where it is built), and of
    the rest, each twin of the training rooms (:data:`TWINS`) its share (``config.talker_share``,
    ``config.turned_share``, ``config.mic_share``)."""
    plain = 1.0 - (config.hybrid_share if banks.hybrid_train is not None else 0.0)
    parts, shares = [(banks.train, TRAIN)], [plain]
    for twin in TWINS:
        bank, share = getattr(banks, twin.bank), getattr(config, twin.key)
        if bank is not None and share > 0:
            parts.append((bank, twin.settings))
            shares[0] -= plain * share
            shares.append(plain * share)
    if banks.hybrid_train is not None:
        mix = config.hybrid_prior_mix if banks.hybrid_twin is not None else 0.0
        parts.append((banks.hybrid_train, config_hybrid_settings(config)))
        shares.append(config.hybrid_share * (1.0 - mix))
        if mix:
            parts.append((banks.hybrid_twin, config_hybrid_twin(config)))
            shares.append(config.hybrid_share * mix)
    return parts, shares


#: Dry sources by the ``source`` column of a ``sources.csv``. Of ``more-real``
#: (``../shared/data/README.md``), the clips recorded close and dry enough: the Philharmonia
#: Orchestra's single notes (a studio) and the jRhodes electric piano (a sampled instrument); not
#: its gun shots, microwave ovens or harmonica takes, recorded in rooms and streets. And the kinds
#: ``train.dry_renders`` writes: Hydrogen drum patterns, fluidsynth phrases, tonejs note phrases.
DRY_EXTRA_SOURCES = ("philharmonia", "jrhodes", "hydrogen", "fluidsynth", "tonejs")


def extra_dry_clips(folder: Path, kinds=DRY_EXTRA_SOURCES) -> list:
    """The clips of a Kaggle-layout ``folder``'s ``train.csv`` whose ``sources.csv`` row names one
    of ``kinds`` as its source (every clip if ``kinds`` is empty). A dry source needs no label,
    so labels outside the 41 classes (``train.dry_renders``' kinds) are kept as they are."""
    from soundpred.data.common import Clip, read_csv, resolve_audio

    folder = Path(folder)
    source = {r["fname"].strip(): r["source"].strip() for r in read_csv(folder / "sources.csv")} if kinds else {}
    return [Clip(resolve_audio(folder / "audio_train", r["fname"].strip()), r["label"].strip(), origin="extra")
            for r in read_csv(folder / "train.csv") if not kinds or source.get(r["fname"].strip()) in kinds]


def check_extra_dry(folder: Path) -> None:
    """Refuse an extra-dry folder without a ``sources.csv`` (a mistyped path would otherwise
    train on the usual sources without a word)."""
    if not (Path(folder) / "sources.csv").is_file():
        raise FileNotFoundError(f"extra dry sources: {folder} has no sources.csv (give a Kaggle-layout folder "
                                "such as ../shared/data/more-real)")


def dry_sources(sr: int, *, n_speech: int = 240, data: Path = STARTER, extra: Path | None = None) -> DrySources:
    """espeak-ng speech (a sixth for evaluation) and the starter clips (train split for
    training, test split for evaluation) at ``sr``; with ``extra``, a Kaggle-layout folder with
    a ``sources.csv`` (``more-real``), its :func:`extra_dry_clips` join the training clips only,
    so that the evaluation sources stay the same."""
    speech = [audio.load(p, sr=sr) for p in make_speech(n=n_speech)]
    n_eval = max(1, len(speech) // 6)
    train = decoded_clips(lambda: read_fsdkaggle2018(data, "train"), sr, "train")
    test = decoded_clips(lambda: read_fsdkaggle2018(data, "test"), sr, "test")
    if extra:
        check_extra_dry(extra)
        train += decoded_clips(lambda: extra_dry_clips(extra), sr, "extra")
    return DrySources(speech[n_eval:], train, speech[:n_eval], test)


def decoded_clips(read, sr: int, name: str) -> list[np.ndarray]:
    """The clips ``read()`` lists (none where its folder is missing), decoded at ``sr``, 1.5 s or
    longer: the dry sources :func:`dry_sources` keeps."""
    try:
        cs = read()
    except FileNotFoundError:
        cs = []
    _, waves = load_waveforms(cs, sr, desc=f"decoding {name} clips") if cs else ([], [])
    return [w for w in waves if len(w) >= sr * 1.5]


def make_examples(bank: RirBank, speech, clips, settings: SimSettings, *, n: int, sr: int, seed: int,
                  speech_share: float, with_sources: bool = False, direct: bool = False,
                  pauses: tuple[int, int] = (0, 0)):
    """One deterministic example per RIR of ``bank`` (for evaluation): ``(len(bank), n)``; with
    ``with_sources`` also a boolean array, True where the example's dry source is speech; with
    ``direct`` also each example's direct sound alone (``synthesize(direct=True)``; the same
    examples either way); with ``pauses`` (samples before and after) each example inside a
    longer recording of its own noise, ``(len(bank), pauses[0] + n + pauses[1])`` (the same
    examples in the middle; ``synthesize(pauses=)``)."""
    rng = np.random.default_rng(seed)
    pause_rng = np.random.default_rng([seed, 1])
    xs, is_speech, ds = [], [], []
    for i in range(len(bank)):
        is_speech.append(rng.random() < speech_share or not clips)
        pool = speech if is_speech[-1] else clips
        dry = pool[int(rng.integers(len(pool)))]
        x, _, *d = synthesize(dry, bank.rirs[i], settings, n=n, sr=sr, rng=rng, direct=direct, pauses=pauses,
                              pause_rng=pause_rng)
        xs.append(x)
        ds.extend(d)
    out = (np.stack(xs),) + ((np.array(is_speech),) if with_sources else ()) + ((np.stack(ds),) if direct else ())
    return out if len(out) > 1 else out[0]


#: what :func:`by_source` keeps of each kind of source's summary
SOURCE_MEASURES = ("n", "mae_m", "rel_error", "spearman", "spearman_within_room", "slope_within_room", "coverage")


def set_examples(s: EvalSet, fe, speech_share: float) -> np.ndarray:
    """The examples of evaluation set ``s`` (:func:`make_examples`) as a network with front end
    ``fe`` hears them: one window of its length per RIR."""
    return make_examples(s.bank, s.speech, s.clips, s.settings, n=fe.window_samples, sr=fe.sample_rate, seed=s.seed,
                         speech_share=speech_share)


def by_source(estimate, bank: RirBank, is_speech, lo=None, hi=None) -> dict:
    """The model's figures on the speech examples and on the clip examples apart (the networks
    so far read distance from speech far better: docs/distance.md, session 22), with the
    interval's coverage and median width ratio hi / lo where ``lo`` and ``hi`` are given; rooms
    with under three examples of a kind add nothing to its within-room measures."""
    out = {}
    for name, m in (("speech", is_speech), ("clips", ~is_speech)):
        if m.sum() >= 3:
            bounds = {} if lo is None else {"lo": np.asarray(lo)[m], "hi": np.asarray(hi)[m]}
            s = distance_summary(estimate[m], bank.distance[m], room=bank.room[m], **bounds)
            out[name] = {k: s.get(k) for k in SOURCE_MEASURES}
            if bounds:
                out[name]["interval_ratio"] = round(float(np.median(bounds["hi"] / bounds["lo"])), 2)
    return out


#: What the auxiliary head predicts of each example's true RIR and room (standardised over the
#: training bank): the acoustics that carry distance within a room (DRR, C50) and those that
#: tell rooms apart (decay times, RT60, volume).
ACOUSTIC_TARGETS = ("drr_db", "c50_db", "log_edt_s", "log_t20_s", "log_rt60_s", "log_volume_m3")


def acoustic_targets(bank: RirBank, sr: int) -> np.ndarray:
    """``(len(bank), 6)`` raw :data:`ACOUSTIC_TARGETS` of every RIR in ``bank``."""
    p = bank_parameters(bank, sr)
    decay = np.log(np.maximum(p[:, 2:4], 1e-3))
    return np.c_[p[:, :2], decay, np.log(bank.rt60), np.log(bank.volume)].astype(np.float32)


#: the trunk's block-3 map pools the log-mel by 2 three times: one of its tiles is 8 frames by 8 mel bands
DIRECT_TILE = 8
#: the direct-share target's floor, dB (a tile with no direct sound, or silent)
DIRECT_FLOOR_DB = -30.0


@functools.cache
def _tile_bands(fe) -> np.ndarray:
    """``(n_fft // 2 + 1, n_mels // 8)``: the mel filterbank of ``fe`` summed over each tile's 8 bands
    (float64, as :func:`direct_target` computes)."""
    m = fe.n_mels // DIRECT_TILE * DIRECT_TILE
    return mel_matrix(fe)[:, :m].reshape(-1, m // DIRECT_TILE, DIRECT_TILE).sum(-1).astype(np.float64)


def _stft(x: np.ndarray, fe) -> np.ndarray:
    """``(..., frames, n_fft // 2 + 1)``: the complex STFT of ``x`` ``(..., samples)`` framed as
    :class:`~soundpred.features.LogMel` frames it (a periodic Hann window of ``win_length``,
    centred in ``n_fft``; with ``center``, ``n_fft // 2`` samples of reflection padding at both ends)."""
    if fe.center:
        x = np.pad(x, [(0, 0)] * (x.ndim - 1) + [(fe.n_fft // 2, fe.n_fft // 2)], mode="reflect")
    window = np.zeros(fe.n_fft)
    off = (fe.n_fft - fe.win_length) // 2
    window[off:off + fe.win_length] = np.hanning(fe.win_length + 1)[:-1]
    frames = np.lib.stride_tricks.sliding_window_view(x, fe.n_fft, axis=-1)[..., ::fe.hop_length, :]
    return np.fft.rfft(frames * window, axis=-1)


def direct_target(x: np.ndarray, direct: np.ndarray, fe) -> np.ndarray:
    """The dense target of ``config.direct_weight``: ``(frames // 8, n_mels // 8, 1)``, per tile of
    the trunk's block-3 map (:data:`DIRECT_TILE` frames by mel bands, the log-mel's framing), the
    share of the example ``x``'s mel energy that its direct sound ``direct`` (from
    ``synthesize(direct=True)``) holds, in dB over 10, clipped to [-3, 0]. Silent tiles read
    as the floor."""
    bands = _tile_bands(fe)
    t = fe.frames(len(x)) // DIRECT_TILE * DIRECT_TILE
    both = np.stack([np.asarray(x, np.float64), np.asarray(direct, np.float64)])
    spec = _stft(both, fe)[:, :t]  # (2, frames, bins); float64: a float32 power of faint leakage can be subnormal
    power = spec.real ** 2 + spec.imag ** 2
    power = power.reshape(2, -1, DIRECT_TILE, power.shape[-1]).sum(2)  # (2, tile frames, bins)
    total, part = np.einsum("stf,fb->stb", power, bands)  # no BLAS: its threads stall on busy cores
    share = np.where(total > 0, part / np.maximum(total, 1e-30), 0.0)
    db = 10 * np.log10(np.maximum(share, 10 ** (DIRECT_FLOOR_DB / 10)))
    return (np.clip(db, DIRECT_FLOOR_DB, 0.0) / 10).astype(np.float32)[..., None]


def make_batches(parts: list[tuple[RirBank, SimSettings]], sources: DrySources, fe, config: DistanceConfig,
                 shares: list[float] | None = None, first_draw: int = 0, workers: int = 2):
    """Training batches synthesised on the fly: ``config.steps`` per epoch of ``config.batch_size``.
    Each example takes a room of one of the ``parts`` (``(bank, simulation settings)``), chosen
    with probability ``shares`` (default: by bank size).

    Targets: the log-distance ``(batch, 1)``; with ``config.aux_weight`` or ``config.direct_weight``
    a dict that also has the :func:`acoustic_targets` (standardised over all parts) under
    ``"acoustics"``, or the :func:`direct_target` maps under ``"direct"``.

    With ``config.pair_weight`` or ``config.aux_pair_weight`` the batch is ``batch_size // 2``
    pairs, examples ``2j`` and ``2j + 1``: one room, two of its source–microphone pairs, one dry
    source (each example its own crop, onset, noise and colouration), as when a person walks away
    from the microphone. With ``config.source_pairs`` instead: one source–microphone pair (one
    RIR) heard through two different dry sources, as when two sounds come from one place.

    Batch ``k`` drawn (counting from ``first_draw``) is always the same batch, so a resumed run
    that starts at its epochs-done × steps draws new batches rather than the first ones again."""
    n, sr = fe.window_samples, fe.sample_rate
    speech, clips = sources.train_speech, sources.train_clips
    segments = config.segments
    if segments > 1 and config.paired:
        raise ValueError("segments > 1 and the pair terms do not go together")
    if segments > 1 and config.direct_weight:
        raise ValueError("segments > 1 and the direct-sound target do not go together")
    shares = np.asarray(shares if shares is not None else [len(b) for b, _ in parts], float)
    shares = shares / shares.sum()
    distance = [np.log(b.distance).astype(np.float32) for b, _ in parts]
    kinds = [b.kind if config.room_hint else None for b, _ in parts]
    pairs = config.paired
    positions = pairs and not config.source_pairs  # two positions of one room, one source
    if pairs and config.batch_size % 2:
        raise ValueError("pair terms need an even batch_size")
    # per part: the RIR indices of every room that has at least two source-microphone pairs
    rooms = [[r for r in (np.flatnonzero(b.room == u) for u in np.unique(b.room)) if len(r) >= 2]
             for b, _ in parts] if positions else None
    if positions and not all(rooms):
        raise ValueError("pair terms need rooms with at least two source-microphone pairs")
    aux = None
    if config.aux_weight:
        raw = [acoustic_targets(b, sr) for b, _ in parts]
        flat = np.concatenate(raw)
        mean, sd = flat.mean(0), flat.std(0) + 1e-6
        aux = [(a - mean) / sd for a in raw]

    def other_source(rng, used):
        """A dry source not among ``used`` (while there are others), drawn as every source is."""
        while True:
            pool = speech if (rng.random() < config.speech_share or not clips) else clips
            other = pool[int(rng.integers(len(pool)))]
            if all(other is not u for u in used) or len(speech) + len(clips) <= len(used):
                return other

    class Batches(keras.utils.PyDataset):
        def __init__(self):
            # ``workers`` threads synthesise the next batches while the model trains on this one;
            # each batch has a generator of its own (seeded by its draw number: no shared state)
            super().__init__(workers=workers, use_multiprocessing=False)
            self.draws = itertools.count(first_draw)

        def __len__(self):
            return config.steps

        def __getitem__(self, step):
            rng = np.random.default_rng([config.init_seed + 1, next(self.draws)])
            if positions:
                part = np.repeat(rng.choice(len(parts), config.batch_size // 2, p=shares), 2)
                idx = np.concatenate([rng.choice(rs[int(rng.integers(len(rs)))], 2, replace=False)
                                      for rs in (rooms[k] for k in part[::2])])
            elif pairs:  # source pairs: one RIR twice
                part = np.repeat(rng.choice(len(parts), config.batch_size // 2, p=shares), 2)
                idx = np.repeat([rng.integers(len(parts[k][0])) for k in part[::2]], 2)
            else:
                part = rng.choice(len(parts), config.batch_size, p=shares)
                idx = np.array([rng.integers(len(parts[k][0])) for k in part])
            xs, dry, maps = [], None, []
            for j, (k, i) in enumerate(zip(part, idx)):
                if not positions or j % 2 == 0:  # a pair of positions shares its dry source
                    # a source pair's second: another source than the first's
                    dry = other_source(rng, [dry] if (pairs and j % 2) else [])
                bank, settings = parts[k]
                x, _, *direct = synthesize(dry, bank.rirs[i], settings, n=n, sr=sr, rng=rng,
                                           direct=bool(config.direct_weight))
                if segments > 1:  # more windows at this place, each another source; or only the first
                    keep = 1 if rng.random() < config.single_share else segments
                    used, more = [dry], []
                    for _ in range(1, keep):
                        used.append(other_source(rng, used))
                        more.append(synthesize(used[-1], bank.rirs[i], settings, n=n, sr=sr, rng=rng)[0])
                    x = np.concatenate([x, *more, np.zeros((segments - keep) * n, x.dtype)])
                if rng.random() < 0.15:  # short input, zero-padded as the Predictor pads it
                    end = int(rng.integers(sr, n))
                    x[end:] = 0.0
                    for d in direct:
                        d[end:] = 0.0
                if direct:
                    maps.append(direct_target(x, direct[0], fe))
                if config.processing_share and rng.random() < config.processing_share:
                    x = call_processed(x, rng)
                xs.append(x)
            if config.codec_share:
                from train.codecs import training_coded

                pick = np.flatnonzero(rng.random(len(xs)) < config.codec_share)
                if len(pick):
                    for j, z in zip(pick, training_coded(np.stack([xs[j] for j in pick]), rng)[0]):
                        xs[j] = z
            y = np.array([distance[k][i] for k, i in zip(part, idx)])[:, None]
            heads = {}
            if aux is not None:
                heads["acoustics"] = np.stack([aux[k][i] for k, i in zip(part, idx)])
            if maps:
                heads["direct"] = np.stack(maps)
            if heads:
                y = {"log_distance": y, **heads}
            if not config.room_hint:
                return np.stack(xs), y
            hint = np.array([kinds[k][i] for k, i in zip(part, idx)])
            hint = np.where(rng.random(len(idx)) < config.hint_drop, "auto", hint)
            return (np.stack(xs), kind_one_hot(hint)), y

    return Batches()


def call_processed(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``x`` through WebRTC's call processing with noise suppression at level 1, 2 or 3 and the
    automatic gain (target 3 dBFS) half of the time, drawn from ``rng``; at ``x``'s RMS again."""
    from train.mic_processing import webrtc_processed

    z = webrtc_processed(x, int(rng.integers(1, 4)), 3 if rng.random() < 0.5 else 0)
    rms_x, rms_z = float(np.sqrt(np.mean(x ** 2))), float(np.sqrt(np.mean(z ** 2)))
    return (z * (rms_x / rms_z)).astype(x.dtype) if rms_z > 0 else z.astype(x.dtype)


def distance_loss(rel_weight: float = 0.0, pair_weight: float = 0.0, pair_ratio: bool = False):
    """Gaussian NLL of log-distance plus ``rel_weight`` times the relative error of exp(mean)
    (|d_hat / d - 1|, the DCASE metric; the log ratio is clipped to ±3 to bound its gradient),
    plus ``pair_weight`` times the squared error of the log-distance difference within each pair
    of consecutive examples (``2j``, ``2j + 1``: one room, see :func:`make_batches`), given to
    both examples of the pair; with ``pair_ratio`` that error over the variance of the batch's
    estimated log-distances (plus 1e-3), a scale-free term (for source pairs: the share of the
    estimates' spread that belongs to the source)."""

    def loss(y_true, y_pred):
        out = gaussian_nll(y_true, y_pred)
        err = y_pred[:, 0] - y_true[:, 0]
        if rel_weight:
            out = out + rel_weight * keras.ops.abs(keras.ops.exp(keras.ops.clip(err, -3.0, 3.0)) - 1.0)
        if pair_weight:
            gap = _pair_gap(err[:, None])
            if pair_ratio:
                gap = gap / (keras.ops.var(y_pred[:, 0]) + 1e-3)
            out = out + pair_weight * gap
        return out

    return loss


def _pair_gap(err):
    """Per example, the mean over columns of the squared difference of ``err`` ``(batch, k)``
    between the two examples of its pair (``2j``, ``2j + 1``), given to both of them."""
    pair = keras.ops.reshape(err, (-1, 2, err.shape[-1]))
    return keras.ops.repeat(keras.ops.mean(keras.ops.square(pair[:, 0] - pair[:, 1]), axis=-1), 2)


#: the :data:`ACOUSTIC_TARGETS` whose within-room differences :func:`acoustics_loss` judges
PAIR_ACOUSTICS = (ACOUSTIC_TARGETS.index("drr_db"), ACOUSTIC_TARGETS.index("c50_db"))


def acoustics_loss(pair_weight: float = 0.0):
    """The acoustics head's loss: the mean squared error over the standardised
    :data:`ACOUSTIC_TARGETS`, plus ``pair_weight`` times the mean squared error of the DRR and C50
    *differences* within each pair of consecutive examples (``2j``, ``2j + 1``: one room, see
    :func:`make_batches`), given to both examples of the pair. An estimate off by the same amount
    at both positions (a room misjudged) costs nothing extra there; one that does not move
    between a near and a far position costs the whole difference."""

    def loss(y_true, y_pred):
        out = keras.ops.mean(keras.ops.square(y_pred - y_true), axis=-1)
        if pair_weight:
            out = out + pair_weight * _pair_gap(keras.ops.take(y_pred - y_true, PAIR_ACOUSTICS, axis=1))
        return out

    return loss


def direct_loss(y_true, y_pred):
    """The direct-sound head's loss: the mean squared error over an example's tiles."""
    return keras.ops.mean(keras.ops.square(y_pred - y_true), axis=(1, 2, 3))


def with_training_heads(model: keras.Model, *, acoustics: bool = True, direct: bool = False) -> keras.Model:
    """A training-only model over ``model``'s layers with more outputs beside ``"log_distance"``:
    ``acoustics``, the :data:`ACOUSTIC_TARGETS` predicted from its ``embedding`` layer
    (``with_bands``, the embedding with the band statistics added, where there is one); ``direct``,
    the :func:`direct_target` map predicted from the trunk's block-3 map by two 1 x 1
    convolutions. Saving ``model`` leaves the heads out."""
    outputs = {"log_distance": model.output}
    if acoustics:
        reads = "with_bands" if any(layer.name == "with_bands" for layer in model.layers) else "embedding"
        outputs["acoustics"] = keras.layers.Dense(len(ACOUSTIC_TARGETS), name="acoustics")(model.get_layer(reads).output)
    if direct:
        h = keras.layers.Conv2D(32, 1, activation="relu", name="direct_hidden")(model.get_layer("block3_pool").output)
        outputs["direct"] = keras.layers.Conv2D(1, 1, name="direct")(h)
    return keras.Model(model.inputs, outputs, name="soundpred_distance_trainer")


def eval_sets(banks: Banks, sources: DrySources, seed: int) -> list[EvalSet]:
    """Held-out rooms, shifted, broad and hybrid simulation with held-out dry sources; and a slice
    of the training rooms with training sources, which shows whether the model over- or underfits."""
    train_bank, n = banks.train, len(banks.heldout)
    return [*(eval_set(name, sources, seed, bank=bank)
              for name, bank in zip(EVAL_BANKS, (banks.heldout, banks.shifted, banks.broad, banks.hybrid))),
            EvalSet("training rooms", train_bank.subset(np.arange(min(len(train_bank), n))), TRAIN,
                    seed + 13, sources.train_speech, sources.train_clips)]


def held_out_sets(banks: Banks, sources: DrySources, seed: int) -> list[EvalSet]:
    """The sets a model is judged on (its card's rows, the adoption rule's): :func:`eval_sets`
    without the slice of the training rooms."""
    return [s for s in eval_sets(banks, sources, seed) if s.name != "training rooms"]


def validation_sets(sources: DrySources, sr: int, *, rooms: int = 100, seed: int = 0) -> list[EvalSet]:
    """Rooms that neither training nor any evaluation set uses (``TRAIN`` and ``HYBRID``
    settings, other seeds), with the training dry sources: where ``train.ensemble`` calibrates
    an ensemble's interval and chooses its point estimate, so that the evaluation sets stay
    untouched by every choice."""
    v = VALIDATION_BANK_OFFSETS
    return [EvalSet("validation (training settings)", make_bank(TRAIN, rooms, seed=seed + v["training"], sr=sr),
                    TRAIN, seed + 17, sources.train_speech, sources.train_clips),
            EvalSet("validation (hybrid simulation)", make_bank(HYBRID, rooms, seed=seed + v["hybrid"], sr=sr),
                    HYBRID, seed + 18, sources.train_speech, sources.train_clips)]


@dataclass
class Baselines:
    """What every distance evaluation compares a model with: the training bank's median,
    ridge regression on classical features (fitted on simulated training examples) and the
    not-blind oracle on the true responses."""

    train_median: float
    ridge: "RidgeBaseline"
    oracle: "RirOracle"

    @staticmethod
    def median(train_bank: RirBank) -> float:
        """The training bank's median distance (m): the constant guess, and the card's figure."""
        return float(np.median(train_bank.distance))

    @classmethod
    def fit(cls, train_bank: RirBank, sources: DrySources, fe, *, seed: int, speech_share: float) -> "Baselines":
        sr = fe.sample_rate
        fit_x = make_examples(train_bank.subset(np.arange(min(len(train_bank), 1200))), sources.train_speech,
                              sources.train_clips, TRAIN, n=fe.window_samples, sr=sr, seed=seed + 7,
                              speech_share=speech_share)
        ridge = RidgeBaseline().fit(classical_features(logmel_of(fe, fit_x)), np.log(train_bank.distance[:len(fit_x)]))
        return cls(cls.median(train_bank), ridge, RirOracle(sr).fit(train_bank))


def classical_features(logmel: np.ndarray) -> np.ndarray:
    """Blind direct-to-reverberant and decay features of normalised log-mel ``(n, frames, mels)``.

    Per 8 band groups: the spread between loud (onset-like) and median frames (a DRR proxy),
    the mean negative frame-to-frame slope after peaks (decay rate), and the median level
    (noise floor); plus spectral tilt. Returns ``(n, 25)``.
    """
    n, t, m = logmel.shape
    g = logmel.reshape(n, t, 8, m // 8).mean(axis=3)  # (n, t, 8)
    p95 = np.percentile(g, 95, axis=1)
    med = np.median(g, axis=1)
    d = np.diff(g, axis=1)
    decay = np.where(d < 0, d, 0).sum(axis=1) / np.maximum((d < 0).sum(axis=1), 1)
    tilt = (g[:, :, 6:].mean(axis=(1, 2)) - g[:, :, :2].mean(axis=(1, 2)))[:, None]
    return np.concatenate([p95 - med, decay, med, tilt], axis=1)


class RidgeBaseline:
    """Ridge regression of log-distance on :func:`classical_features`."""

    def fit(self, f, y, alpha=1.0):
        self.mu, self.sd = f.mean(0), f.std(0) + 1e-6
        z = np.c_[(f - self.mu) / self.sd, np.ones(len(f))]
        self.w = np.linalg.solve(z.T @ z + alpha * np.eye(z.shape[1]), z.T @ y)
        self.resid_sd = float(np.std(y - z @ self.w))
        return self

    def predict(self, f):
        return np.c_[(f - self.mu) / self.sd, np.ones(len(f))] @ self.w


def rir_parameters(h: np.ndarray, sr: int) -> np.ndarray:
    """Exact acoustic parameters of one aligned RIR: direct-to-reverberant ratio (dB, ±2.5 ms
    around the direct sound), C50 (dB), early decay time and T20-style decay (s)."""
    e = h.astype(np.float64) ** 2
    w, c = int(DIRECT_HALF_SECONDS * sr), DIRECT_INDEX + int(0.05 * sr)
    drr = e[DIRECT_INDEX - w:DIRECT_INDEX + w].sum() / (e[DIRECT_INDEX + w:].sum() + 1e-12)
    c50 = e[:c].sum() / (e[c:].sum() + 1e-12)
    edc = np.cumsum(e[::-1])[::-1]
    edc_db = 10 * np.log10(edc / edc[0] + 1e-12)
    return np.array([10 * np.log10(drr + 1e-12), 10 * np.log10(c50 + 1e-12),
                     np.argmax(edc_db < -10) / sr, np.argmax(edc_db < -20) / sr])


def bank_parameters(bank: RirBank, sr: int) -> np.ndarray:
    """``(len(bank), 4)``: :func:`rir_parameters` of every RIR in ``bank``."""
    return np.stack([rir_parameters(h, sr) for h in bank.rirs])


class RirOracle:
    """Not blind, a reference: gradient boosting of log-distance on :func:`rir_parameters` of the
    true RIR. It shows how much of the distance the room's acoustics determine at all; no
    estimator that hears only the recording can be expected to do better."""

    def __init__(self, sr: int):
        self.sr = sr

    def fit(self, bank: RirBank):
        self.model = HistGradientBoostingRegressor(max_iter=200, random_state=0).fit(
            self.features(bank), np.log(bank.distance))
        return self

    def features(self, bank: RirBank) -> np.ndarray:
        return bank_parameters(bank, self.sr)

    def predict(self, bank: RirBank):
        return self.model.predict(self.features(bank))


def logmel_of(fe, x: np.ndarray, batch: int = 64) -> np.ndarray:
    layer = LogMel(fe.to_dict())
    return np.concatenate([np.asarray(layer(x[i:i + batch]))[..., 0] for i in range(0, len(x), batch)])


def predict_model(model, x: np.ndarray, kinds=None, batch: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """``(mu, log_sigma)`` of each example, ``log_sigma`` clipped as everywhere (soundpred.distance);
    a room-hint model gets ``kinds`` (default: all ``"auto"``)."""
    hints = kind_one_hot(["auto"] * len(x) if kinds is None else kinds) if takes_room_hint(model) else None
    out = np.concatenate([np.asarray(model.predict_on_batch(
        x[i:i + batch] if hints is None else [x[i:i + batch], hints[i:i + batch]])) for i in range(0, len(x), batch)])
    return out[:, 0], clip_log_sigma(out[:, 1])


def evaluate(model, fe, sets: list[EvalSet], train_median: float, *, speech_share: float,
             ridge: RidgeBaseline | None = None, oracle: RirOracle | None = None, figs: Path | None = None,
             shrink: float = 0.0) -> dict:
    """Score the model and the baselines on every evaluation set; returns the metrics dict.
    The model's estimate is :func:`soundpred.distance.point_estimate` with ``shrink`` (the
    bundle's ``point_shrink``), as the Predictor reports it."""
    results = {}
    for s in sets:
        bank, d = s.bank, s.bank.distance
        x, is_speech = make_examples(bank, s.speech, s.clips, s.settings, n=fe.window_samples, sr=fe.sample_rate,
                                     seed=s.seed, speech_share=speech_share, with_sources=True)
        mu, log_sigma = predict_model(model, x)
        sigma = np.exp(log_sigma)
        lo, hi = interval(mu, sigma)
        estimate = point_estimate(mu, sigma, shrink)
        model_summary = distance_summary(estimate, d, lo=lo, hi=hi, rt60=bank.rt60, room=bank.room)
        z = (np.log(d) - mu) / sigma  # Gaussian NLL without its constant, and how well mu follows log d
        model_summary["nll"] = round(float(np.mean(0.5 * z * z + log_sigma)), 3)
        model_summary["corr_log"] = round(float(np.corrcoef(mu, np.log(d))[0, 1]), 3)
        model_summary["by_source"] = by_source(estimate, bank, is_speech, lo, hi)
        res = {"model": model_summary,
               "median_guess": distance_summary(np.full(len(d), train_median), d, rt60=bank.rt60)}
        if ridge is not None:
            r = ridge.predict(classical_features(logmel_of(fe, x)))
            r_lo, r_hi = interval(r, ridge.resid_sd)
            res["classical_features"] = distance_summary(np.exp(r), d, lo=r_lo, hi=r_hi, rt60=bank.rt60,
                                                         room=bank.room)
        if oracle is not None and s.name != "training rooms":  # it was fitted on those very RIRs
            res["rir_oracle_not_blind"] = distance_summary(np.exp(oracle.predict(bank)), d, rt60=bank.rt60,
                                                           room=bank.room)
        if takes_room_hint(model):  # the same examples with the true room kind given
            mu_k, ls_k = predict_model(model, x, bank.kind)
            k_lo, k_hi = interval(mu_k, np.exp(ls_k))
            res["model_with_room_kind"] = distance_summary(point_estimate(mu_k, np.exp(ls_k), shrink), d,
                                                           lo=k_lo, hi=k_hi, rt60=bank.rt60,
                                                           room=bank.room)
        results[s.name] = res
        if figs is not None:
            distance_figure(d, estimate, lo, hi,
                            title=f"{s.name}: MAE {res['model']['mae_m']:.2f} m, "
                                  f"rel. {res['model']['rel_error']:.2f}").savefig(figs / f"distance_{s.name.replace(' ', '_')}.png")
    return results


_BINS = ("0.3-1", "1-2", "2-4", "4-8", "8-20")


def _cell(v) -> str:
    return "–" if v is None else str(v)


def table(results: dict) -> str:
    """Errors, calibration and ordering per set and method."""
    rows = ["| set | method | MAE m | median AE m | rel. error | 90 % coverage | NLL | rank corr. | "
            "rank corr. within rooms | slope within rooms | " + " | ".join(f"MAE {b} m" for b in _BINS) + " |",
            "|---" * 15 + "|"]
    for name, res in results.items():
        for method, s in res.items():
            bins = " | ".join(_cell(s["by_distance"].get(b, {}).get("mae_m")) for b in _BINS)
            rows.append(f"| {name} | {method} | {s['mae_m']} | {s['median_ae_m']} | {s['rel_error']} | "
                        f"{_cell(s.get('coverage'))} | {_cell(s.get('nll'))} | {_cell(s.get('spearman'))} | "
                        f"{_cell(s.get('spearman_within_room'))} | {_cell(s.get('slope_within_room'))} | {bins} |")
    return "\n".join(rows)


def spread_table(results: dict, *, columns: tuple[str, ...] = ("set",), bins=_BINS) -> str:
    """How far the estimates spread for sources in each distance bin (10th–90th percentile).

    ``results``: ``--evaluate``'s (one row per set, its model's figures), or any ``{row: summary}``
    of :func:`~soundpred.metrics.distance_summary` results whose row names are tuples, one value
    per name in ``columns``."""
    rows = ["| " + " | ".join(columns) + " | " + " | ".join(f"true {b} m" for b in bins) + " |",
            "|---" * (len(columns) + len(bins)) + "|"]
    for name, res in results.items():
        by = (res["model"] if "model" in res else res)["by_distance"]
        cells = " | ".join("–" if b not in by else "{:g}–{:g} m".format(*by[b]["estimate_p10_p90"]) for b in bins)
        rows.append("| " + " | ".join(name if isinstance(name, tuple) else (name,)) + f" | {cells} |")
    return "\n".join(rows)


def source_table(results: dict) -> str:
    """The model's figures per kind of dry source (:func:`by_source`); empty where no set has them."""
    rows = ["| set | source | n | MAE m | rel. error | rank corr. | rank corr. within rooms | slope within rooms | "
            "90 % coverage | interval hi / lo |", "|---" * 10 + "|"]
    for name, res in results.items():
        for kind, s in res["model"].get("by_source", {}).items():
            rows.append(f"| {name} | {kind} | {s['n']} | {s['mae_m']} | {s['rel_error']} | {_cell(s['spearman'])} | "
                        f"{_cell(s['spearman_within_room'])} | {_cell(s['slope_within_room'])} | "
                        f"{_cell(s.get('coverage'))} | {_cell(s.get('interval_ratio'))} |")
    return "\n".join(rows) if len(rows) > 2 else ""


def rt60_table(results: dict) -> str:
    bins = ("0.1-0.3", "0.3-0.6", "0.6-1", "1-2")
    rows = ["| set | " + " | ".join(f"MAE RT60 {b} s" for b in bins) + " |", "|---" * 5 + "|"]
    for name, res in results.items():
        s = res["model"]["by_rt60"]
        rows.append(f"| {name} | " + " | ".join(_cell(s.get(b, {}).get("mae_m")) for b in bins) + " |")
    return "\n".join(rows)


def _simulation(s: SimSettings) -> str:
    """The simulation settings in words, from the settings object itself."""
    prior = s.distance_prior
    dist = {"lognormal": lambda: f"log-normal around {prior[1]:g} m (sigma {prior[2]:g} in log space)",
            "room": lambda: f"log-normal around {prior[1]:g} × the room's mean floor side (sigma {prior[2]:g} in log space)",
            "loguniform": lambda: "log-uniform"}[prior[0]]()
    if s.absorption == "materials" and s.rt60_free:
        rt60 = (f"an RT60 drawn over {s.rt60_range[0]:g}–{s.rt60_range[1]:g} s whatever the size, then surfaces "
                f"from measured material tables, walls and floor partly furnished, whose RT60 (Eyring) lies within "
                f"a factor {FREE_RT60_FACTOR:g} of it")
    elif s.absorption == "materials":
        rt60 = (f"surfaces from measured material tables, walls and floor partly furnished, the RT60 "
                f"(Eyring, {s.rt60_range[0]:g}–{s.rt60_range[1]:g} s) following from them")
    elif s.absorption_range:
        rt60 = (f"RT60 from Sabine's formula with a random mean absorption {s.absorption_range[0]:g}–"
                f"{s.absorption_range[1]:g}, within {s.rt60_range[0]:g}–{s.rt60_range[1]:g} s; absorption `{s.absorption}`")
    else:
        rt60 = f"RT60 drawn over {s.rt60_range[0]:g}–{s.rt60_range[1]:g} s whatever the size; absorption `{s.absorption}`"
    source = ({True: "cardioid source and microphone", "source": "cardioid source, omnidirectional microphone",
               "microphone": "omnidirectional source, cardioid microphone"}[s.directivity] if s.directivity else
              "talker-like subcardioid source facing the microphone ±60°, omnidirectional microphone" if s.talker
              else "hypercardioid source at a random orientation, omnidirectional microphone" if s.turned
              else "omnidirectional source and microphone")
    if s.mic_pattern:  # the other end as above, the microphone directional
        source = source.replace("omnidirectional microphone", f"{s.mic_pattern} microphone at a random orientation")
        source = source.replace("omnidirectional source and microphone",
                                f"omnidirectional source, {s.mic_pattern} microphone at a random orientation")
    method = (f"image sources up to order 3 and a ray-traced tail, scattering {s.scattering[0]:g}–{s.scattering[1]:g}"
              if s.hybrid else f"image sources up to order {s.max_order}")
    self_noise = (f"; microphone self-noise {s.self_noise_db[0]:g}–{s.self_noise_db[1]:g} dB below the signal"
                  if s.self_noise_db else "")
    return (f"`{s.name}` settings: {rt60}; {source}; distances {dist}, "
            f"{s.distance_range[0]:g}–{s.distance_range[1]:g} m and within the room; noise "
            f"{', '.join(s.noises)} at {s.snr_db[0]:g}–{s.snr_db[1]:g} dB SNR{self_noise}; "
            f"colouration ±{s.colouration_db:g} dB; {method}")


def _hybrid_training(training: dict) -> str:
    words = "".join(f" The same RIRs again with a {t.detail} give {training[t.key] * 100:g} % of the examples "
                    f"from those rooms." for t in TWINS if training.get(t.key))
    if training.get("hybrid_rirs"):
        words += (f" Also {training['hybrid_rirs']} RIRs of other rooms in the "
                  f"{_simulation(record_hybrid_settings(training))}; "
                  f"{training['hybrid_share'] * 100:g} % of the training examples come from those")
        twin = record_hybrid_twin(training)
        words += (f", {training['hybrid_prior_mix'] * 100:g} % of them from as many other rooms of that simulation "
                  f"at the training rooms' distances (`{twin.name}`)." if twin else ".")
    return words


def _recipe(training: dict) -> str:
    """The training recipe's options beyond the plain Gaussian NLL, in words."""
    parts = []
    fe = training.get("front_end")
    if fe:
        parts.append(f"front end: {fe['win_length']}-sample windows every {fe['hop_length']} samples")
    if training.get("aux_weight"):
        parts.append(f"a training-only head predicting the true RIR's DRR, C50, EDT, T20, RT60 and room volume "
                     f"(loss weight {training['aux_weight']:g})")
    if training.get("direct_weight"):
        parts.append(f"a training-only head saying, per tile of the trunk's block-3 map ({DIRECT_TILE} frames by "
                     f"{DIRECT_TILE} mel bands), how much of the energy is the source's direct sound "
                     f"(loss weight {training['direct_weight']:g})")
    if training.get("rel_weight"):
        parts.append(f"relative error added to the Gaussian NLL (weight {training['rel_weight']:g})")
    if training.get("pair_weight") and training.get("source_pairs"):
        over = " over the batch's variance of estimates" if training.get("pair_ratio") else ""
        parts.append(f"batches of source pairs (one source–microphone position, two dry sources), the squared "
                     f"difference of their log-distance estimates{over} added (weight {training['pair_weight']:g})")
    elif training.get("pair_weight"):
        parts.append(f"batches of within-room pairs (one dry source, two distances), the squared error of "
                     f"their log-distance difference added (weight {training['pair_weight']:g})")
    if training.get("aux_pair_weight"):
        parts.append(f"batches of within-room pairs, the squared error of the acoustics head's DRR and C50 "
                     f"differences within each pair added (weight {training['aux_pair_weight']:g})")
    if (training.get("segments") or 1) > 1:
        parts.append(f"examples of {training['segments']} windows at one place, each another dry source through "
                     f"the same room response ({training['single_share']:.0%} only the first window); evaluated "
                     f"here on one window, run by the app on the bundle's window")
    return ("; ".join(parts) + ".") if parts else ""


def _evaluation(results: dict) -> str:
    if not results:  # train.distance --no-evaluate
        return """## Evaluation
Not evaluated yet (trained with `--no-evaluate`, or made by `train.soup`): `python -m train.distance --evaluate FOLDER
--update-card` scores it on the held-out, shifted, broad and hybrid sets and rewrites this card."""
    return f"""## Evaluation (rooms and dry sources never used in training)
- *held-out rooms*: the training settings, other rooms;
- *shifted simulation*: {_simulation(SHIFTED)};
- *broad distances*: {_simulation(BROAD)};
- *hybrid simulation*: {_simulation(HYBRID)}.

{table(results)}

Estimates per true distance (10th–90th percentile):

{spread_table(results)}

{_source_words(results)}{rt60_table(results)}

Simulation only: real rooms, microphones and browsers' audio processing will do worse; treat
the interval as a rough guide."""


def _source_words(results: dict) -> str:
    t = source_table(results)
    return ("The same examples by dry source: espeak-ng speech, and the starter clips (real recordings, "
            f"with rooms of their own):\n\n{t}\n\n") if t else ""


def _front_matter(results: dict, extra_tags: str = "") -> str:
    if not results:
        return f"""---
library_name: keras
license: mit
tags: [audio, distance-estimation, room-acoustics, soundpred, simulation{extra_tags}]
---"""
    h = results["held-out rooms"]["model"]
    return f"""---
library_name: keras
license: mit
tags: [audio, distance-estimation, room-acoustics, soundpred, simulation{extra_tags}]
metrics:
- name: mae_m_heldout_rooms
  value: {h["mae_m"]}
- name: rel_error_heldout_rooms
  value: {h["rel_error"]}
---"""


def _extra_dry(training: dict) -> str:
    """The card's words for ``--extra-dry`` sources, with their licences."""
    extra = (training.get("dry_sources") or {}).get("extra")
    if not extra:
        return ""
    if Path(extra).name != "more-real":
        return f" and, in training only, the dry clips of `{Path(extra).name}` (see its own licences)"
    return (" and, in training only, the more-real set's studio recordings (Philharmonia Orchestra single notes, "
            "CC BY-SA 3.0; the jRhodes electric piano, CC BY-NC 4.0)")


def _budget_words(training: dict) -> str:
    planned = training.get("epochs_planned")
    return f" (of {planned} epochs planned: a time budget stopped it; the schedule was set for {planned})" \
        if planned else ""


def write_card(training: dict, results: dict) -> str:
    """The model card of a distance bundle (an ensemble's when ``training`` has ``members``)."""
    if training.get("members"):
        return write_ensemble_card(training, results)
    if training.get("soup"):
        return write_soup_card(training, results)
    z = z_value(COVERAGE)
    return f"""{_front_matter(results)}
# soundpred distance model

Waveform in (16 kHz mono, 4 s windows), the natural log of the source–microphone distance in
metres out, as a Gaussian mean and log standard deviation; the app reports exp(mean) and the
{COVERAGE * 100:g} % interval exp(mean ± {z:.3f} sd).

## Training data
Simulated only (pyroomacoustics, randomised image sources, air absorption): {training["rirs"]} RIRs in
{training["rooms"]} shoebox rooms {ROOM_LENGTH_M[0]:g}–{ROOM_LENGTH_M[1]:g} m long, {_simulation(TRAIN)} (median distance of the bank
{training["train_median_m"]:.2f} m).{_hybrid_training(training)} Convolved on the fly with espeak-ng speech and FSDKaggle2018
starter clips (research-use and Creative Commons recordings){_extra_dry(training)}, with random level and onset: the
direct sound's arrival time and the level carry no distance.

{_evaluation(results)}

## Training
`{training["command"]}` — {training["epochs"]} × {training["steps_per_epoch"]} batches of
{training["batch_size"]}{_budget_words(training)}, {training["train_seconds"]:.0f} s on {training["machine"]}. {_recipe(training)}
"""


def write_soup_card(training: dict, results: dict) -> str:
    """The card of a network whose weights lie between two that share a start (``train.soup``)."""
    alpha, (a, b) = training["soup"]["alpha"], training["soup"]["parents"]
    return f"""{_front_matter(results)}
# soundpred distance model (interpolated weights)

Waveform in (16 kHz mono, 4 s windows; optionally the room kind if its parents take it), the natural
log of the source–microphone distance in metres out, as a Gaussian mean and log standard deviation.
Its weights are {1 - alpha:g} × those of `{a['name']}` (`{a['folder']}`) + {alpha:g} × those of
`{b['name']}` (`{b['folder']}`), batch-norm statistics included (WiSE-FT: Wortsman et al., CVPR 2022).
No training of its own.

## Parents
- `{a['folder']}`: `{a.get('command', 'no command on record')}`
- `{b['folder']}`: `{b.get('command', 'no command on record')}`

Both were trained on simulation only (pyroomacoustics), convolved with espeak-ng speech and
FSDKaggle2018 starter clips (research-use and Creative Commons recordings), with random level and
onset: the direct sound's arrival time and the level carry no distance.

{_evaluation(results)}

## Made with
`{training["command"]}`
"""


def _hint_share_words(training: dict) -> str:
    share, fitted = training.get("hint_share"), training.get("hint_share_fitted")
    scores = training["validation"].get("errors_by_hint_share")
    if not scores:
        return ""
    words = ("every member counts the same, as with auto" if share is None else
             f"the members that take the kind carry {share:g} of the weight, the others the rest")
    fit = "the equal share" if fitted is None else f"a share of {fitted:g} for the members that take it"
    return (f"\nWith a room kind given (not auto), {words}. On the validation rooms with their true kinds, {fit} "
            f"has the least mean of MAE and relative error over the median guess's of the equal share and 0, 0.1, "
            f"..., 1 ({scores['equal' if fitted is None else str(fitted)]:.3f}, against {scores['equal']:.3f} for "
            f"the equal share).\n")


def _weights_words(training: dict) -> str:
    """The card's words on fixed member weights (``train.ensemble --weights``), before the scale."""
    w = training.get("weights")
    return "" if not w else ("the members weighted " + ", ".join(f"{x:.3g}" for x in w)
                             + " in their order below (with auto and with a room kind alike),\n")


def _kind_weights_words(training: dict) -> str:
    """The card's words on the members' weights per room kind (``train.ensemble --kind-weights fit``)."""
    scores = training["validation"].get("errors_by_kind_weights", {})
    rows = "\n".join(
        f"| {kind} | " + " | ".join(f"{w:g}" for w in weights) + " | "
        + (f"{scores[kind]['chosen']:.3f} against {scores[kind]['equal']:.3f} ({scores[kind]['examples']} examples)"
           if kind in scores else "no validation room of this kind: equal") + " |"
        for kind, weights in training["kind_weights"].items())
    n = len(next(iter(training["kind_weights"].values())))
    return ("\nWith a room kind given (not auto), the members are weighted per kind (with auto they count the "
            "same). For each kind, of the equal weights and every vector of multiples of 0.1 summing to 1, these "
            "have the least mean of MAE and relative error over the median guess's on that kind's validation rooms, "
            "each member told the true kind:\n\n| kind | " + " | ".join(f"member {i + 1}" for i in range(n))
            + " | validation score, chosen against equal |\n|---|" + "---|" * n + "---|\n" + rows + "\n")


#: the training-only heads a member may have been trained with (its meta's loss weight), in words
MEMBER_HEADS = (("aux_weight", "the acoustics head"), ("direct_weight", "the direct-sound head"))


def _member_heads(member: dict) -> str:
    """``", trained with the acoustics head and the direct-sound head"`` for the
    :data:`MEMBER_HEADS` whose weight the member had ("" if none, or if its record predates them)."""
    heads = [words for key, words in MEMBER_HEADS if member.get(key)]
    return f", trained with {' and '.join(heads)}" if heads else ""


def _member_lines(members: list[dict]) -> str:
    """The ensemble card's numbered list of its members: what each was trained on, and its command."""
    return "\n".join(
        f"{i + 1}. `{m['name']}` ({'takes the room kind' if m['room_hint'] else 'no room kind'}; "
        f"{m['hybrid_share'] * 100:g} % of its training examples from the hybrid simulation"
        + (_hybrid_words(record_hybrid_settings(m)) if m['hybrid_share'] else "")
        + (f", {m['hybrid_prior_mix'] * 100:g} % of those at the training rooms' distances"
           if record_hybrid_twin(m) else "")
        + "".join(f", {m[t.key] * 100:g} % of the rest with a {t.short}" for t in TWINS if m.get(t.key))
        + _member_heads(m)
        + (f", {m['processing_share'] * 100:g} % of its examples through call-style noise suppression"
           if m.get("processing_share") else "")
        + (f", {m['codec_share'] * 100:g} % of its examples through a lossy coding or a telephone band"
           if m.get("codec_share") else "")
        + (f", {m['train_seconds']:.0f} s of training" if m.get("train_seconds") else "") + f"): `{m['command']}`"
        for i, m in enumerate(members))


def _other_simulations(members: list[dict]) -> str:
    """The simulations beside TRAIN and HYBRID that some members heard (the twins of the training
    rooms, hybrid rooms other than ``HYBRID``), for the card's "All were trained on" sentence."""
    words = "".join(f"; the same training rooms again with a {t.short} (`{t.settings.name}`), for the members whose "
                    f"line says so" for t in TWINS if any(m.get(t.key) for m in members))
    others = {}
    for m in members:
        settings = record_hybrid_settings(m)
        if m.get("hybrid_share") and settings != HYBRID:
            others[settings.name] = settings
        if twin := record_hybrid_twin(m):
            others[twin.name] = twin
    words += "".join(f"; the {_simulation(settings)}, for the members whose line says so" for settings in others.values())
    return words


def write_ensemble_card(training: dict, results: dict) -> str:
    z = z_value(COVERAGE)
    members = _member_lines(training["members"])
    twins = _other_simulations(training["members"])
    errors = training["validation"]["errors_by_shrink"]
    c = training["point_shrink"]
    point = f"exp(mean − {c:g} · sd²)" if c else "exp(mean)"
    shrink_words = (f"c = {c:g} has the least relative error among the values whose MAE there is no worse than "
                    f"at c = 0 ({errors[str(c)][0]:.3f} / {errors[str(c)][1]:.3f})." if c else
                    "Every c > 0 raises the MAE there, so the estimate is the median, c = 0.")
    compared = ""
    for name, res in training.get("compared", {}).items():
        rows = "\n".join(f"| {s} | {r['mae_m']} | {results[s]['model']['mae_m']} | {r['rel_error']} | "
                          f"{results[s]['model']['rel_error']} | {r['spearman']} | {results[s]['model']['spearman']} |"
                          for s, r in res.items())
        compared += f"""
Against `{name}` on the same examples (MAE m, relative error, rank correlation; that model, then this one):

| set | MAE | MAE here | rel. | rel. here | rank | rank here |
|---|---|---|---|---|---|---|
{rows}
"""
    return f"""{_front_matter(results, ", ensemble")}
# soundpred distance model (ensemble)

Waveform in (16 kHz mono, 4 s windows; optionally the room kind: auto, small, medium, large),
the natural log of the source–microphone distance in metres out, as a Gaussian mean and log
standard deviation. It is an ensemble of {len(training["members"])} distance models sharing one log-mel front
end; their Gaussian beliefs are pooled into the one with the mean and variance of their mixture,
{_weights_words(training)}its standard deviation times {training["sigma_scale"]:g}. The app reports
{point} and the {COVERAGE * 100:g} % interval exp(mean ± {z:.3f} sd).

## Members
{members}

All were trained on simulation only (pyroomacoustics; {_simulation(TRAIN)}; and the
{_simulation(HYBRID)}{twins}), convolved on the fly with espeak-ng speech and FSDKaggle2018 starter
clips (research-use and Creative Commons recordings), with random level and onset: the direct
sound's arrival time and the level carry no distance.

## Calibration, on validation rooms
{training["validation"]["rooms_per_set"]} rooms (4 source–microphone pairs each) in each of {" and ".join(training["validation"]["sets"])}:
other seeds than every training and evaluation bank, training dry sources. The standard
deviation factor {training["sigma_scale"]:g} makes the {COVERAGE * 100:g} % interval cover {COVERAGE * 100:g} % there. The point
estimate exp(mean − c · sd²) runs from the belief's median (c = 0: least expected absolute error)
to its value of least expected relative error (c = 1). {shrink_words} (MAE and relative error over
the median guess's there: {errors["0.0"][0]:.3f} / {errors["0.0"][1]:.3f} at c = 0, {errors["0.05"][0]:.3f} / {errors["0.05"][1]:.3f} at c = 0.05, {errors["1.0"][0]:.3f} / {errors["1.0"][1]:.3f} at c = 1.)
{_kind_weights_words(training) if training.get('kind_weights') else _hint_share_words(training)}
{_evaluation(results)}
{compared}
## Made by
`{training["command"]}` ({training["seconds"]:.0f} s).
"""
