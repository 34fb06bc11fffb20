"""Simulated rooms for distance training and evaluation (pyroomacoustics).

A *bank* is a seeded, cached set of room impulse responses (RIRs) with their
source–microphone distance, RT60 and room id. Five simulation settings exist:

``train``   shoebox rooms from small offices to halls, per-wall absorption with a random
            frequency tilt, air absorption, omnidirectional source and mic; the RT60
            (0.1–2 s) follows Sabine's formula from the room's size and a random mean
            absorption, so that it grows with the room as in real buildings;
            white/pink/brown noise at 5–40 dB SNR, mild microphone colouration;
            distances log-normal around 2.5 m (sigma 0.7), as in measured rooms rather
            than spread evenly over 0.3–20 m.
``shifted`` what training never sees: other absorption profiles (one very absorbent
            or very reflective surface, flat spectra), cardioid source and microphone
            with random orientations, hum and babble-like noise, stronger colouration,
            and an RT60 drawn independently of the room's size.
``broad``   ``train`` with distances log-uniform over 0.3–20 m (evaluation only).
``hybrid``  closer to real rooms: surfaces from measured material tables, image sources for the
            early reflections and a ray-traced, scattered tail, a talker-like source,
            microphone self-noise, RT60 up to 3 s, and distances that grow with the room
            (see :data:`HYBRID`).
``hybrid-free`` ``hybrid`` with an RT60 drawn whatever the room's size (training only,
            :data:`HYBRID_FREE`).

Three twins of ``train`` (its rooms, positions and distances, for a share of the training
examples) change one end only: ``train-talker`` a subcardioid source facing the microphone ±60°,
``train-turned`` a hypercardioid source facing anywhere, ``train-mic`` a hypercardioid
microphone facing anywhere (:data:`TRAIN_TALKER`, :data:`TRAIN_TURNED`, :data:`TRAIN_MIC`).

No cue that real use lacks: every RIR is aligned so that its direct sound sits at
:data:`DIRECT_INDEX` (no time of flight), examples start at a random point of the
dry source with random leading silence, and the level is random (the front end
normalises it anyway).
"""
from __future__ import annotations

import concurrent.futures
import contextlib
import hashlib
import json
import multiprocessing
import os
import sys
import warnings
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
from scipy.signal import butter, fftconvolve, sosfiltfilt

from .data.common import cache_dir as default_cache_dir
from .distance import RANGE_M

__all__ = ["SimSettings", "TRAIN", "TRAIN_TALKER", "TRAIN_TURNED", "TRAIN_MIC", "MIC_PATTERNS", "SHIFTED", "BROAD", "HYBRID", "HYBRID_FREE", "draw_materials", "draw_distance", "simulate_rir", "sample_room", "RirBank",
           "make_bank", "synthesize", "coloured_noise", "DIRECT_INDEX", "DIRECT_HALF_SECONDS", "SPEED_OF_SOUND", "ROOM_KINDS",
           "room_kind", "kind_one_hot"]

SPEED_OF_SOUND = 343.0
#: Index of the direct sound in every aligned RIR (room for the fractional-delay filter's pre-ringing).
DIRECT_INDEX = 40
#: The direct sound of an aligned RIR: this many seconds either side of :data:`DIRECT_INDEX`
#: (what the direct-to-reverberant ratio counts as direct).
DIRECT_HALF_SECONDS = 0.0025
OCTAVES = (125, 250, 500, 1000, 2000, 4000)
MIN_DISTANCE, MAX_DISTANCE = RANGE_M


@dataclass(frozen=True)
class SimSettings:
    name: str
    rt60_range: tuple[float, float] = (0.1, 2.0)
    #: mean absorption range (log-uniform); the RT60 then follows from Sabine's formula.
    #: None: the RT60 is drawn log-uniformly from ``rt60_range`` whatever the room's size.
    absorption_range: tuple[float, float] | None = (0.05, 0.8)
    distance_range: tuple[float, float] = (MIN_DISTANCE, MAX_DISTANCE)
    #: how distances are drawn inside ``distance_range`` (and inside the room):
    #: ``("lognormal", median_m, sigma)``: log-normal, truncated; ``("loguniform",)``: log-uniform;
    #: ``("room", share, sigma)``: log-normal around ``share`` × the room's mean floor side.
    distance_prior: tuple = ("lognormal", 2.5, 0.7)
    absorption: str = "tilted"  # "tilted": per-wall random, more absorbent at high frequencies
    #: cardioid source and microphone, each at a random orientation (True); ``"source"`` or
    #: ``"microphone"``: that end only, at the same orientation, the other omnidirectional
    directivity: bool | str = False
    noises: tuple[str, ...] = ("white", "pink", "brown")
    snr_db: tuple[float, float] = (5.0, 40.0)
    colouration_db: float = 3.0
    max_order: int = 40
    #: hybrid simulation: image sources up to order 3 for the early reflections, then a ray
    #: tracer (``n_rays`` chosen by pyroomacoustics) for a diffuse, scattered tail
    hybrid: bool = False
    #: scattering coefficient of every surface (uniform over the range; hybrid only)
    scattering: tuple[float, float] = (0.0, 0.0)
    #: a talker-like source: subcardioid (6 dB quieter behind), facing the microphone give or
    #: take a random angle (normal, sd 60°); the microphone stays omnidirectional
    talker: bool = False
    #: a source that may face anywhere: hypercardioid (nulls at ±110°, a rear lobe 6 dB down), at
    #: a random orientation as SHIFTED's cardioids; the microphone stays omnidirectional. Another
    #: pattern than SHIFTED's cardioid, so that set still hears a directional source never trained on
    turned: bool = False
    #: microphone self-noise, white, this many dB below the active signal (None: none)
    self_noise_db: tuple[float, float] | None = None
    #: a directional microphone at a random orientation (as SHIFTED's cardioids), the source as the
    #: other fields say: one of :data:`MIC_PATTERNS` (None: omnidirectional, or as ``directivity``)
    mic_pattern: str | None = None
    #: material rooms only: the RT60 is drawn first, log-uniformly over ``rt60_range`` whatever the
    #: room's size, and the surfaces are drawn until the Eyring RT60 lands within a factor
    #: :data:`FREE_RT60_FACTOR` of it; False: the RT60 is whatever the drawn surfaces give
    rt60_free: bool = False

    def key(self) -> str:
        d = asdict(self)
        for name, default in _ADDED_LATER.items():  # banks cached before these existed keep their key
            if d[name] == default:
                del d[name]
        return hashlib.sha1(json.dumps(d, sort_keys=True).encode()).hexdigest()[:10]


_ADDED_LATER = {"hybrid": False, "scattering": (0.0, 0.0), "talker": False, "turned": False, "self_noise_db": None,
                "mic_pattern": None, "rt60_free": False}
#: ``SimSettings.mic_pattern``'s values, each with its class in ``pyroomacoustics.directivities``
MIC_PATTERNS = {"subcardioid": "SubCardioid", "hypercardioid": "HyperCardioid", "figure-eight": "FigureEight"}


TRAIN = SimSettings("train")
SHIFTED = SimSettings("shifted", absorption="uneven", directivity=True, noises=("hum", "babble"),
                      snr_db=(5.0, 30.0), colouration_db=6.0, absorption_range=None)
#: Closer to real rooms: surfaces from measured material tables (furnished in part), the RT60
#: following from them (Eyring, up to 3 s as in halls and churches), a hybrid image-source +
#: ray-tracing simulation with scattering, a talker-like source, babble among the noises,
#: microphone self-noise, and distances that grow with the room as in measured-RIR collections
#: (Aachen AIR: booth 0.5–1.5 m, office 1–3 m, lecture room 2.3–10 m, hall 1–20 m; ACE and
#: BUT ReverbDB: offices and meeting rooms 1–5 m): log-normal around 0.35 × the room's mean
#: floor side (sigma 0.5), so a median of 0.8 m in a booth, 1.6 m in an office, 8 m in a hall.
HYBRID = SimSettings("hybrid", rt60_range=(0.1, 3.0), absorption="materials", absorption_range=None,
                     distance_prior=("room", 0.35, 0.5), hybrid=True, scattering=(0.05, 0.6), talker=True,
                     noises=("white", "pink", "brown", "babble"), self_noise_db=(35.0, 70.0))
#: HYBRID's rooms, sources, distances and noises, but an RT60 drawn whatever the room's size
#: (``rt60_free``; the surfaces still from the tables): a large room is then as likely dry as
#: reverberant, so what tells its size, and so its distances, must come from elsewhere (the
#: early reflections' delays) than the length of the tail (``train.distance --hybrid-free-rt60``).
#: The surfaces cannot make every RT60 in every room (no table makes a hall of 0.1 s), so the
#: two still go together a little: Spearman's correlation of volume and RT60 is 0.24–0.33
#: against HYBRID's 0.41–0.53 (300 rooms at each of three seeds, session 41)
HYBRID_FREE = replace(HYBRID, name="hybrid-free", rt60_free=True)
#: TRAIN's rooms with a talker-like source (subcardioid, facing the microphone ± 60°) instead of
#: an omnidirectional one: the same rooms, positions and distances as a TRAIN bank of the same
#: seed, only the direct-to-reverberant ratio now also depends on where the source faces, as
#: with a person (``train.distance --talker-share``)
TRAIN_TALKER = replace(TRAIN, name="train-talker", talker=True)
#: TRAIN's rooms with a source that may face anywhere (hypercardioid, random orientation): the
#: same rooms, positions and distances, the direct sound 6 dB weaker when it faces away and all
#: but gone near its nulls (``train.distance --turned-share``)
TRAIN_TURNED = replace(TRAIN, name="train-turned", turned=True)
#: TRAIN's rooms heard by a microphone that may face anywhere (hypercardioid, random orientation;
#: the source omnidirectional): a directional microphone picks up less of the diffuse tail and
#: more or less of the direct sound as it faces, so the direct-to-reverberant ratio moves without
#: the distance moving (``train.distance --mic-share``). Another pattern than SHIFTED's cardioid,
#: which that set keeps as a microphone never trained on
TRAIN_MIC = replace(TRAIN, name="train-mic", mic_pattern="hypercardioid")
#: TRAIN's rooms with distances log-uniform over 0.3–20 m: far more far and near sources than
#: the training prior expects (evaluation only: what the prior costs at the extremes).
BROAD = SimSettings("broad", distance_prior=("loguniform",))


def draw_distance(settings: SimSettings, rng: np.random.Generator, hi: float | None = None, dims=None) -> float:
    """A distance from ``settings.distance_prior``, inside ``distance_range`` and below ``hi``
    (``dims``, the room's size in m, for the ``"room"`` prior)."""
    lo, top = settings.distance_range
    hi = max(min(top, hi) if hi is not None else top, lo * 1.01)
    kind = settings.distance_prior[0]
    if kind == "loguniform":
        return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
    if kind == "lognormal":
        median, sigma = settings.distance_prior[1:]
    elif kind == "room":  # a share of the room's mean floor side: sources are farther in bigger rooms
        median, sigma = settings.distance_prior[1] * float(np.sqrt(dims[0] * dims[1])), settings.distance_prior[2]
    else:
        raise ValueError(kind)
    for _ in range(1000):  # truncated by rejection
        d = median * float(np.exp(sigma * rng.standard_normal()))
        if lo <= d <= hi:
            return d
    return float(np.clip(median, lo, hi))


def _materials(pra, settings: SimSettings, alpha: float, rng: np.random.Generator):
    """Per-wall, per-octave energy absorption with the given mean ``alpha``."""
    walls = ("east", "west", "north", "south", "floor", "ceiling")
    if settings.absorption == "tilted":
        wall_scale = rng.uniform(0.5, 1.5, 6)
        tilt = rng.uniform(0.0, 0.8)  # log-slope over the octaves
        spectrum = np.exp(tilt * np.linspace(-1, 1, len(OCTAVES)))
    elif settings.absorption == "uneven":  # one extreme surface, flat spectra
        wall_scale = np.full(6, 0.6)
        wall_scale[rng.integers(6)] = rng.choice([0.05, 4.0])
        spectrum = np.ones(len(OCTAVES))
    else:
        raise ValueError(settings.absorption)
    wall_scale = wall_scale / wall_scale.mean()
    spectrum = spectrum / spectrum.mean()
    mats = {}
    for w, s in zip(walls, wall_scale):
        coeffs = np.clip(alpha * s * spectrum, 0.01, 0.99)
        mats[w] = pra.Material(energy_absorption={"coeffs": coeffs.tolist(), "center_freqs": list(OCTAVES)})
    return mats


#: Surface materials of the ``"materials"`` absorption (names in pyroomacoustics' table of
#: measured absorption coefficients, after Vorländer, *Auralization*, 2008, appendix): each
#: surface is a base material, and walls and floor are partly covered by a furnishing.
BASE_MATERIALS = {
    "wall": ("hard_surface", "brickwork", "rough_concrete", "rough_lime_wash", "plasterboard", "wooden_lining",
             "glass_window", "double_glazing_30mm", "ceramic_tiles", "limestone_wall", "wood_16mm"),
    "floor": ("concrete_floor", "marble_floor", "linoleum_on_concrete", "stage_floor", "audience_floor", "wood_16mm",
              "ceramic_tiles", "carpet_thin", "carpet_cotton", "carpet_tufted_9.5mm", "carpet_hairy"),
    "ceiling": ("hard_surface", "rough_concrete", "plasterboard", "ceiling_plasterboard", "wooden_lining",
                "ceiling_fissured_tile", "ceiling_perforated_gypsum_board", "ceiling_fibre_absorber",
                "ceiling_metal_panel"),
}
FURNISHINGS = ("curtains_cotton_0.5", "curtains_velvet", "blinds_half_open", "panel_fabric_covered_6pcf",
               "rockwool_50mm_40kgm3", "acoustical_plaster_25mm", "fibre_absorber_1", "hanging_absorber_panels_1",
               "chairs_medium_upholstered", "chairs_wooden", "audience_1_m2", "wooden_door")
#: Largest share of a wall / of the floor covered by a furnishing (uniform from 0).
FURNISHED_SHARE = {"wall": 0.4, "floor": 0.5, "ceiling": 0.0}
SURFACES = ("east", "west", "north", "south", "floor", "ceiling")


def _table_coeffs(name: str) -> np.ndarray:
    """Energy absorption of a named material at 125 Hz–8 kHz (7 octaves; 6-band rows repeat 4 kHz)."""
    import pyroomacoustics as pra  # a training extra

    c = list(pra.Material(name).energy_absorption["coeffs"])
    return np.array(c + c[-1:] * (7 - len(c)))


def eyring_rt60(dims, coeffs: np.ndarray) -> np.ndarray:
    """Eyring's RT60 (s) per octave of a shoebox ``dims`` with per-surface ``coeffs`` (6 × octaves)."""
    length, width, height = dims
    areas = np.array([width * height, width * height, length * height, length * height, length * width,
                      length * width])
    mean_alpha = (areas[:, None] * np.asarray(coeffs)).sum(axis=0) / areas.sum()
    return 0.161 * length * width * height / (-areas.sum() * np.log(1 - mean_alpha))


def draw_materials(dims, rng: np.random.Generator, rt60_range: tuple[float, float], tries: int = 50):
    """Per-surface absorption (6 surfaces × 7 octaves, 125 Hz–8 kHz) from the material tables,
    and the room's Eyring RT60 at 500 Hz–1 kHz; None if no draw lands in ``rt60_range``."""
    for _ in range(tries):
        coeffs = []
        for surface in SURFACES:
            kind = surface if surface in ("floor", "ceiling") else "wall"
            base = _table_coeffs(str(rng.choice(BASE_MATERIALS[kind])))
            share = rng.uniform(0, FURNISHED_SHARE[kind])
            coeffs.append((1 - share) * base + share * _table_coeffs(str(rng.choice(FURNISHINGS))))
        coeffs = np.clip(np.array(coeffs), 0.01, 0.99)
        rt60 = float(eyring_rt60(dims, coeffs)[2:4].mean())
        if rt60_range[0] <= rt60 <= rt60_range[1]:
            return coeffs, float(rt60)
    return None


#: ``SimSettings.rt60_free``: the surfaces' RT60 lies within this factor of the one drawn
FREE_RT60_FACTOR = 1.25
#: Shoebox rooms' longest side, m (log-uniform, at least what the source distance needs).
ROOM_LENGTH_M = (3.0, 35.0)
MARGIN = 0.3  # least distance of source and mic from any wall, m


def _random_mic(dims, rng: np.random.Generator) -> np.ndarray:
    """A microphone position MARGIN from the walls, 0.8–2 m above the floor."""
    return np.array([rng.uniform(MARGIN, dims[0] - MARGIN), rng.uniform(MARGIN, dims[1] - MARGIN),
                     rng.uniform(0.8, min(2.0, dims[2] - MARGIN))])


def _source_at(mic: np.ndarray, d: float, dims, rng: np.random.Generator) -> np.ndarray | None:
    """A source ``d`` m from ``mic`` in a random, mostly horizontal direction; None if it falls
    closer than MARGIN to a wall."""
    v = rng.standard_normal(3)
    v[2] *= 0.25
    v /= np.linalg.norm(v)
    src = mic + d * v
    return src if np.all(src > MARGIN) and np.all(src < np.asarray(dims) - MARGIN) else None


def sample_room(settings: SimSettings, rng: np.random.Generator, distance: float | None = None) -> dict:
    """Room size, RT60, positions for one source–mic pair at ``distance`` (sampled if None)."""
    by_room = distance is None and settings.distance_prior[0] == "room"
    for _ in range(200):
        # the distance first, then a room big enough for it (its longest side at least d + 1 m);
        # or, for the "room" prior, the room first and then a distance that suits it
        d = 0.0 if by_room else distance if distance is not None else draw_distance(settings, rng)
        lo, hi = ROOM_LENGTH_M
        length = float(np.clip(np.exp(rng.uniform(np.log(max(lo, d * 0.8 + 1.0)), np.log(hi))), lo, hi))
        width = float(np.clip(length * rng.uniform(0.4, 1.0), 2.5, 30.0))
        height = float(np.clip(rng.uniform(2.4, 3.5) + 0.15 * length * rng.uniform(0, 1), 2.4, 12.0))
        dims = np.array([length, width, height])
        if by_room:
            d = draw_distance(settings, rng, float(np.linalg.norm(dims)) - 0.8, dims)
        mic = _random_mic(dims, rng)
        for _ in range(50):
            src = _source_at(mic, d, dims, rng)
            if src is not None:
                break
        else:
            continue
        if settings.absorption == "materials":
            rt60_range = settings.rt60_range
            if settings.rt60_free:  # the RT60 first, whatever the size; then surfaces that give it
                lo_rt, hi_rt = settings.rt60_range
                target = float(np.exp(rng.uniform(np.log(lo_rt), np.log(hi_rt))))
                rt60_range = (max(lo_rt, target / FREE_RT60_FACTOR), min(hi_rt, target * FREE_RT60_FACTOR))
            drawn = draw_materials(dims, rng, rt60_range)
            if drawn is None:
                continue
            room = {"dims": dims.tolist(), "mic": mic.tolist(), "src": src.tolist(), "distance": float(d),
                    "rt60": drawn[1], "absorption": drawn[0].round(4).tolist()}
            if settings.hybrid:
                room["scattering"] = float(rng.uniform(*settings.scattering))
            return room
        vol, surf = np.prod(dims), 2 * (length * width + length * height + width * height)
        rt_min = 0.161 * vol / (surf * 0.9)  # Sabine with 90 % absorption
        rt_lo = max(settings.rt60_range[0], rt_min)
        rt_hi = settings.rt60_range[1]
        if rt_lo >= rt_hi:
            continue
        if settings.absorption_range is None:
            rt60 = float(np.exp(rng.uniform(np.log(rt_lo), np.log(rt_hi))))
        else:  # Sabine; absorptions whose RT60 falls outside the range are drawn again
            a_lo, a_hi = settings.absorption_range
            for _ in range(20):
                rt60 = 0.161 * vol / (surf * float(np.exp(rng.uniform(np.log(a_lo), np.log(a_hi)))))
                if rt_lo <= rt60 <= rt_hi:
                    break
            rt60 = float(np.clip(rt60, rt_lo, rt_hi))
        return {"dims": dims.tolist(), "mic": mic.tolist(), "src": src.tolist(), "distance": float(d),
                "rt60": rt60}
    raise RuntimeError(f"could not place a source at {distance} m")


def simulate_rir(room: dict, settings: SimSettings, *, sr: int = 16000, rng: np.random.Generator,
                 align: bool = True) -> np.ndarray:
    """The RIR of ``room`` (from :func:`sample_room`); aligned to :data:`DIRECT_INDEX` unless
    ``align=False`` (then the direct sound arrives at its true time of flight)."""
    import pyroomacoustics as pra  # a training extra (pip install .[train]), not needed to predict

    from pyroomacoustics import directivities
    from pyroomacoustics.directivities import Cardioid, DirectionVector, HyperCardioid, SubCardioid

    def rand_dir():
        return DirectionVector(azimuth=float(rng.uniform(0, 360)), colatitude=float(rng.uniform(45, 135)))

    dims = room["dims"]
    src_dir = mic_dir = None
    if settings.directivity:
        src_dir, mic_dir = Cardioid(rand_dir()), Cardioid(rand_dir())
        if settings.directivity not in (True, "source", "microphone"):
            raise ValueError(f"directivity {settings.directivity!r}: True, 'source' or 'microphone'")
        if settings.directivity == "source":
            mic_dir = None
        elif settings.directivity == "microphone":
            src_dir = None
    elif settings.talker:  # facing the microphone, give or take
        to_mic = np.subtract(room["mic"], room["src"])
        azimuth = np.degrees(np.arctan2(to_mic[1], to_mic[0])) + 60.0 * rng.standard_normal()
        src_dir = SubCardioid(DirectionVector(azimuth=float(azimuth % 360), colatitude=float(rng.uniform(75, 105))))
    elif settings.turned:  # facing anywhere
        src_dir = HyperCardioid(rand_dir())
    if settings.mic_pattern is not None:
        if settings.mic_pattern not in MIC_PATTERNS or mic_dir is not None:
            raise ValueError(f"mic_pattern {settings.mic_pattern!r}: one of {tuple(MIC_PATTERNS)}, and not with a "
                             "cardioid microphone (directivity True or 'microphone')")
        mic_dir = getattr(directivities, MIC_PATTERNS[settings.mic_pattern])(rand_dir())
    if "absorption" in room:  # per-surface coefficients from the material tables
        scattering = room.get("scattering", 0.0)
        materials = {w: pra.Material(energy_absorption={"coeffs": c, "center_freqs": [125 * 2 ** k for k in range(7)]},
                                     scattering=scattering or None)
                     for w, c in zip(SURFACES, room["absorption"])}
    else:
        alpha, max_order = pra.inverse_sabine(room["rt60"], dims)
        materials = _materials(pra, settings, alpha, rng)
    if settings.hybrid:
        pr = pra.ShoeBox(dims, fs=sr, materials=materials, max_order=3, ray_tracing=True, air_absorption=True)
        pr.set_ray_tracing(receiver_radius=0.5 if np.prod(dims) < 1000 else 1.0, energy_thres=1e-5,
                           time_thres=min(3.0, 1.2 * float(eyring_rt60(dims, room["absorption"]).max()) + 0.3))
    else:
        order = settings.max_order if "absorption" in room else int(min(max_order, settings.max_order))
        pr = pra.ShoeBox(dims, fs=sr, materials=materials, max_order=order, air_absorption=True, use_rand_ism=True,
                         max_rand_disp=0.05)
    pr.add_source(room["src"], directivity=src_dir)
    pr.add_microphone(room["mic"], directivity=mic_dir)
    pra.random.seed(int(rng.integers(2 ** 31)))  # its randomised image sources: reproducible per RIR
    pr.compute_rir()
    # the octave-band filtering leaves a slow drift (DC) under the response: high-pass at 30 Hz
    h = sosfiltfilt(butter(2, 30.0, "highpass", fs=sr, output="sos"), np.asarray(pr.rir[0][0], dtype=np.float64))
    expect = int(round(room["distance"] / pr.c * sr)) + pra.constants.get("frac_delay_length") // 2
    direct = expect - 4 + int(np.argmax(np.abs(h[max(0, expect - 4):expect + 5])))  # the filters shift it a little
    if align:
        h = h[direct - DIRECT_INDEX:]
        h[:DIRECT_INDEX - 8] *= np.hanning(2 * (DIRECT_INDEX - 8))[:DIRECT_INDEX - 8]  # fade in the pre-ringing
        direct = DIRECT_INDEX
    if "absorption" in room:  # material rooms decay slower at low frequencies: keep down to -60 dB
        edc = np.cumsum(h[direct:][::-1] ** 2)[::-1]
        n = int(np.argmax(edc < edc[0] * 1e-6)) or len(edc)
        n = min(int(sr * 2.5), n) + direct
    else:
        n = int(sr * min(2.5, 1.2 * room["rt60"] + 0.1)) + direct
    h = h[:n]
    return (h / max(np.abs(h[direct]), 1e-9)).astype(np.float32)


#: The room-kind hint a person may give: ``auto`` (unknown) or the room's volume class.
ROOM_KINDS = ("auto", "small", "medium", "large")
#: Volume bounds (m³) between small (booth, bathroom, car-sized), medium (office, living room,
#: classroom, stairwell) and large (hall, church, atrium).
KIND_BOUNDS_M3 = (50.0, 1000.0)


def room_kind(volume_m3) -> np.ndarray:
    """The kind (``"small"``, ``"medium"``, ``"large"``) of each room volume in m³."""
    v = np.asarray(volume_m3, float)
    return np.array(ROOM_KINDS[1:])[np.searchsorted(KIND_BOUNDS_M3, v, side="right")]


def kind_one_hot(kinds) -> np.ndarray:
    """``(n, 4)`` float32 one-hot over :data:`ROOM_KINDS` (the model's room-hint input)."""
    idx = np.array([ROOM_KINDS.index(k) for k in np.atleast_1d(kinds)])
    return np.eye(len(ROOM_KINDS), dtype=np.float32)[idx]


@dataclass
class RirBank:
    """Aligned RIRs and what they are: ``distance`` (m), ``rt60`` (s), ``room`` id, room
    ``volume`` (m³)."""

    rirs: list[np.ndarray]
    distance: np.ndarray
    rt60: np.ndarray
    room: np.ndarray
    settings: SimSettings = field(default=TRAIN)
    volume: np.ndarray | None = None

    def __len__(self):
        return len(self.rirs)

    def subset(self, idx) -> "RirBank":
        idx = np.asarray(idx)
        return RirBank([self.rirs[i] for i in idx], self.distance[idx], self.rt60[idx], self.room[idx],
                       self.settings, None if self.volume is None else self.volume[idx])

    @property
    def kind(self) -> np.ndarray:
        return room_kind(self.volume)


def _runs_jax() -> bool:
    """Whether this process computes with JAX: Keras on its JAX backend. (Importing Keras
    imports jax too where it is installed, whatever the backend, without starting it.)"""
    keras = sys.modules.get("keras")
    return keras is not None and keras.backend.backend() == "jax"


def make_bank(settings: SimSettings, n_rooms: int, pairs_per_room: int = 4, *, seed: int, sr: int = 16000,
              cache_dir: Path | None = None, progress: bool = True) -> RirBank:
    """Simulate ``n_rooms`` rooms with ``pairs_per_room`` source–mic pairs each (cached)."""
    cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
    path = cache_dir / f"rirs-{settings.name}-{settings.key()}-{n_rooms}x{pairs_per_room}-s{seed}-{sr}.npz"
    if path.exists():
        with np.load(path) as z:  # read each array once: z["flat"] re-reads the file every time
            flat, off = z["flat"], z["offsets"]
            bank = RirBank([flat[off[i]:off[i + 1]] for i in range(len(off) - 1)], z["distance"], z["rt60"],
                           z["room"], settings, z["volume"] if "volume" in z.files else None)
        if bank.volume is None:  # a bank cached before volumes were kept: replay its rooms
            rooms = list(_rooms(settings, n_rooms, pairs_per_room, seed))
            if not np.allclose([room["distance"] for _, room, _ in rooms], bank.distance):
                raise RuntimeError(f"{path} does not match its settings; delete it to simulate it again")
            bank.volume = np.array([float(np.prod(room["dims"])) for _, room, _ in rooms])
            _save_bank(bank, path)
        return bank
    rirs, dist, rt, room_id, volume = [], [], [], [], []
    rooms = list(_rooms(settings, n_rooms, pairs_per_room, seed))
    # each RIR has its own seed: simulated in parallel, the bank is the same
    workers = min(os.cpu_count() or 1, 16) if len(rooms) >= 64 else 1
    # a process that runs JAX (Keras on JAX, train/device_train.sh) must not fork: its threads
    # can deadlock the children; a fork server starts them from a process that never ran JAX
    ctx = multiprocessing.get_context("forkserver") if _runs_jax() else None
    with (concurrent.futures.ProcessPoolExecutor(workers, mp_context=ctx) if workers > 1
          else contextlib.nullcontext()) as pool:
        jobs = [(room, settings, sr, rir_seed) for _, room, rir_seed in rooms]
        simulated = pool.map(_simulate_job, jobs, chunksize=4) if pool else map(_simulate_job, jobs)
        if progress:
            from tqdm import tqdm  # a training extra

            simulated = tqdm(simulated, desc=f"simulating {settings.name} rooms", unit="RIR", total=len(jobs),
                             mininterval=2)
        rirs = list(simulated)
    for r, room, _ in rooms:
        dist.append(room["distance"])
        rt.append(room["rt60"])
        room_id.append(r)
        volume.append(float(np.prod(room["dims"])))
    bank = RirBank(rirs, np.array(dist), np.array(rt), np.array(room_id), settings, np.array(volume))
    cache_dir.mkdir(parents=True, exist_ok=True)
    _save_bank(bank, path)
    return bank


def _simulate_job(job) -> np.ndarray:
    room, settings, sr, rir_seed = job
    with warnings.catch_warnings():  # pyroomacoustics warns of its own ray count in large rooms
        warnings.simplefilter("ignore", UserWarning)
        return simulate_rir(room, settings, sr=sr, rng=np.random.default_rng(rir_seed))


def _rooms(settings: SimSettings, n_rooms: int, pairs_per_room: int, seed: int):
    """The seeded sequence of ``(room id, room, RIR seed)`` a bank is simulated from (cheap: the
    simulation itself draws from its own generator, seeded by the third item)."""
    rng = np.random.default_rng(seed)
    for r in range(n_rooms):
        base = sample_room(settings, rng)
        for p in range(pairs_per_room):
            # the same room (size, RT60), new positions and distance
            room = base if p == 0 else _replace_positions(base, settings, rng)
            if room is None:
                continue
            yield r, room, rng.integers(2 ** 32)


def _save_bank(bank: RirBank, path: Path) -> None:
    off = np.cumsum([0] + [len(h) for h in bank.rirs])
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, flat=np.concatenate(bank.rirs), offsets=off, distance=bank.distance, rt60=bank.rt60,
             room=bank.room, volume=bank.volume)
    os.replace(tmp, path)


def _replace_positions(room: dict, settings: SimSettings, rng: np.random.Generator) -> dict | None:
    """New mic and source positions inside ``room['dims']`` at a freshly sampled distance."""
    dims = np.array(room["dims"])
    hi = float(np.linalg.norm(dims)) - 0.8
    # many placements per drawn distance, few distances: redrawing the distance at every failed
    # placement would favour short distances (they fit more often) and skew the bank towards them
    for _ in range(5):
        d = draw_distance(settings, rng, hi, dims)
        for _ in range(100):
            mic = _random_mic(dims, rng)
            src = _source_at(mic, d, dims, rng)
            if src is not None:
                return {**room, "mic": mic.tolist(), "src": src.tolist(), "distance": d}
    return None


def coloured_noise(n: int, colour: float, rng: np.random.Generator) -> np.ndarray:
    """Gaussian noise with power falling as ``f ** -colour`` (0 white, 1 pink, 2 brown)."""
    spec = np.fft.rfft(rng.standard_normal(n))
    spec /= np.maximum(np.arange(len(spec)), 1) ** (colour / 2)
    return np.fft.irfft(spec, n=n)


def _noise(kind: str, n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    if kind in ("white", "pink", "brown"):
        return coloured_noise(n, {"white": 0.0, "pink": 1.0, "brown": 2.0}[kind], rng)
    t = np.arange(n) / sr
    if kind == "hum":  # mains hum with harmonics plus a little hiss
        f0 = rng.choice([50.0, 60.0])
        y = sum(rng.uniform(0.2, 1.0) / k * np.sin(2 * np.pi * f0 * k * t + rng.uniform(0, 6.3)) for k in range(1, 8))
        return y + 0.05 * rng.standard_normal(n)
    if kind == "babble":  # speech-shaped noise with syllable-rate modulation
        spec = np.fft.rfft(rng.standard_normal(n))
        f = np.fft.rfftfreq(n, 1 / sr)
        spec *= 1.0 / (1.0 + (f / 500.0) ** 2) * (f > 80)
        y = np.fft.irfft(spec, n=n)
        env = 1 + 0.8 * np.sin(2 * np.pi * rng.uniform(3, 6) * t + rng.uniform(0, 6.3))
        return y * env
    raise ValueError(kind)


def _colour(y: np.ndarray, sr: int, max_db: float, rng: np.random.Generator | np.ndarray) -> np.ndarray:
    """A random smooth EQ (microphone colouration) of up to about ``max_db``; ``rng`` may instead
    be the EQ's three weights (:func:`_colour_weights`), to give other sound the same EQ."""
    weights = _colour_weights(rng) if isinstance(rng, np.random.Generator) else rng
    spec = np.fft.rfft(y)  # over the last axis: rows of a 2-D ``y`` get one EQ
    logf = np.log(np.maximum(np.fft.rfftfreq(y.shape[-1], 1 / sr), 20.0) / 20.0) / np.log(sr / 40.0)
    gain_db = sum(w * max_db / 2 * np.cos(np.pi * k * logf) for k, w in enumerate(weights, start=1))
    return np.fft.irfft(spec * 10 ** (gain_db / 20), n=y.shape[-1])


def _colour_weights(rng: np.random.Generator) -> np.ndarray:
    """The three random weights of :func:`_colour`'s EQ."""
    return rng.uniform(-1, 1, 3)


def synthesize(dry: np.ndarray, rir: np.ndarray, settings: SimSettings, *, n: int, sr: int,
               rng: np.random.Generator, direct: bool = False, pauses: tuple[int, int] = (0, 0),
               pause_rng: np.random.Generator | None = None):
    """One ``n``-sample example: a random stretch of ``dry`` through ``rir``, random leading
    silence, noise at a random SNR, colouration and level.

    Returns ``(example, onset)`` where ``onset`` is the sample at which the source starts
    in the example (recorded for tests; never given to a model). With ``direct``, also the
    example's direct sound alone: the same stretch of ``dry`` through the response's
    :data:`DIRECT_HALF_SECONDS` either side of its direct sound, with the example's onset,
    colouration and level and no noise (a training target; the random draws, and so the
    example, are the same either way). ``pauses``, samples before and after: the example
    within a longer recording, the source silent there (its reverberation dying away after it) but
    the noise going on (the same kind, level, colouration and gain, drawn afresh from
    ``pause_rng``: a hum's pitch or a babble's rhythm may change at the joins). The example in the
    middle is the one ``pauses=(0, 0)`` gives, sample for sample; ``onset`` counts from the
    recording's start.
    """
    paused = any(pauses)
    if direct and paused:
        raise ValueError("direct and pauses do not go together")
    lead = int(rng.integers(0, n // 2)) if rng.random() < 0.5 else 0
    take = n - lead + len(rir)
    if len(dry) > take:
        s = int(rng.integers(0, len(dry) - take + 1))
        dry = dry[s:s + take]
    wet = fftconvolve(dry, rir)[: n - lead]
    y = np.zeros(n)
    y[lead:lead + len(wet)] = wet
    onset = lead + DIRECT_INDEX
    active = y[lead:lead + len(wet)]
    p_sig = np.mean(active ** 2) + 1e-12
    kind = str(rng.choice(settings.noises))
    noise = _noise(kind, n, sr, rng)
    snr = rng.uniform(*settings.snr_db)
    scale = np.sqrt(p_sig / (np.mean(noise ** 2) + 1e-12) / 10 ** (snr / 10))
    y = y + noise * scale
    gap = np.zeros(sum(pauses))
    if paused:
        pause_rng = pause_rng or np.random.default_rng()
        gap = _noise(kind, len(gap), sr, pause_rng)
        gap *= scale * np.sqrt(np.mean(noise ** 2) / (np.mean(gap ** 2) + 1e-12))  # the example's noise level
        tail = fftconvolve(dry[:n - lead], rir)[n - lead:][:pauses[1]]  # the room rings on after the sound stops
        gap[pauses[0]:pauses[0] + len(tail)] += tail
    if settings.self_noise_db is not None:
        hiss = rng.standard_normal(n)  # drawn before its level, as it always was
        level = np.sqrt(p_sig / 10 ** (rng.uniform(*settings.self_noise_db) / 10))
        y = y + hiss * level
        gap = gap + (pause_rng.standard_normal(len(gap)) if paused else 0.0) * level
    if direct:
        w = int(DIRECT_HALF_SECONDS * sr)
        first = DIRECT_INDEX - w  # dry through rir[first:first + 2w] alone, from sample lead + first on
        d = np.zeros(n)
        part = fftconvolve(dry[:max(0, len(wet) - first)], rir[first:DIRECT_INDEX + w])[:max(0, len(wet) - first)]
        d[lead + first:lead + first + len(part)] = part
        y, d = _colour(np.stack([y, d]), sr, settings.colouration_db, rng)  # one EQ for both
    else:
        weights = _colour_weights(rng)
        y = _colour(y, sr, settings.colouration_db, weights)
        gap = _colour(gap, sr, settings.colouration_db, weights) if paused else gap
    gain = 10 ** (rng.uniform(-40, -3) / 20) / (np.abs(y).max() + 1e-9)
    y *= gain
    if paused:
        y = np.concatenate([gap[:pauses[0]] * gain, y, gap[pauses[0]:] * gain])
        onset += pauses[0]
    if direct:
        return y.astype(np.float32), onset, (d * gain).astype(np.float32)
    return y.astype(np.float32), onset
