"""Predictor: audio in; top-k labels, per-window timeline, spectrogram (and distance) out."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from . import audio
from .bundle import Bundle
from .distance import COVERAGE, clip_log_sigma, interval, point_estimate, point_shrink
from .features import display_db
from .hub import EMBEDDED, resolve
from .models import takes_room_hint
from .rooms import ROOM_KINDS, kind_one_hot
from .labels import display_name
from .open_set import OpenSet

__all__ = ["Predictor", "Prediction", "window_starts"]

#: Below this RMS (about -66 dBFS) in the loudest 100 ms, the input counts as silence.
SILENCE_RMS = 5e-4
#: Windows more than this many dB below the loudest window are left out of the average.
WINDOW_GATE_DB = 40.0
POOLS = ("mean", "precision")  # how the distance windows' beliefs are combined (Predictor.pool_distance)
#: Input that costs the distance enough to say so (``python -m train.probe_codecs``, on the card's
#: simulated rooms; docs/distance.md, session 54): MP3 under this mean bit rate (kbit/s), and files
#: at this sample rate or less (a telephone band). MP3 at 128 kbit/s, AAC at 64 and Opus at 16-32
#: cost less (relative error, not MAE or the ordering within rooms), so they go without a word.
LOW_MP3_KBPS = 48.0
PHONE_RATE = 8000
#: Clipping that costs the distance (``python -m train.probe_clipping``, docs/distance.md, session
#: 57): each example's peak driven 12 dB over full scale (7-8 % of its samples flat there) costs MAE
#: or the ordering within rooms on all four card sets, and reads farther; 3 and 6 dB (0.1 % and
#: 0.8 %) on one. At least this share of samples at full scale says so, the least median of the
#: 12-dB examples over the four sets, rounded down.
CLIPPED_DISTANCE_SHARE = 0.07


def clipped_before_coding(decoded: audio.Decoded) -> bool:
    """A lossy file whose decoded samples pass full scale: a coder smears a clipped recording's
    flat runs (nothing is left at full scale to count or rebuild) and overshoots where they were.
    Of the 677 FSD starter clips (``python -m train.probe_coded_clipping``; docs/reliability.md),
    those with 0.1-1 % of their samples flat pass full scale in 78-99 % of cases as MP3 128, AAC 64
    or Opus 32 kbit/s, with more flat in 90-100 %; of the 433 with no flat sample, 0, 6 and 11 %
    do (loud ones, most peaking over 0.95), so the warning says "may have been"."""
    return decoded.codec is not None and decoded.peak > audio.OVER_FULL_SCALE


def clipping_warnings(decoded: audio.Decoded, *, distance: bool) -> list[str]:
    """What a person should know about a clipped recording: the labels may suffer; with a
    ``distance`` model, where at least :data:`CLIPPED_DISTANCE_SHARE` of it is flat at full scale,
    the distance too (the peaks are the onsets, where the direct sound is strongest). A lossy file
    clipped before it was coded (:func:`clipped_before_coding`) is said to be so."""
    if clipped_before_coding(decoded):
        also = " and distances come out farther (coded peaks cannot be rebuilt)" if distance else ""
        return [f"The recording may have been clipped (too loud for the microphone) before it was coded: its "
                f"samples reach {decoded.peak:.3g} × full scale, which is what coding makes of flattened peaks "
                f"(and, less often, of a recording just under full scale). If so, labels may suffer{also}; a "
                f"lower recording level gives more faithful ones."]
    if decoded.clipped <= audio.CLIPPED_SHARE:
        return []
    if not distance or decoded.clipped < CLIPPED_DISTANCE_SHARE:
        return ["The recording is clipped (too loud for the microphone); labels may suffer."]
    return [f"The recording is clipped hard (too loud for the microphone): {100 * decoded.clipped:.0f} % of its "
            "samples are flat at full scale. Clipping cuts the onsets, where the direct sound is strongest, so "
            "labels may suffer and distances come out farther and less reliable, even with the flattened peaks "
            "rebuilt; a lower recording level gives more faithful ones."]


def coding_warnings(decoded: audio.Decoded) -> list[str]:
    """What a person should know about how the recording was made, for the distance."""
    out = []
    if decoded.codec == "MP3" and decoded.kbps is not None and decoded.kbps < LOW_MP3_KBPS:
        out.append(f"The recording is an MP3 of about {decoded.kbps:.0f} kbit/s. Coding that tight blurs the quiet "
                   "reverberation the distance model listens to, so distances come out farther and less reliable; "
                   "the original recording, or an MP3 of 64 kbit/s or more, gives more faithful ones.")
    if decoded.source_rate <= PHONE_RATE:
        out.append(f"The recording was made at {decoded.source_rate / 1000:g} kHz (a telephone band: nothing above "
                   f"{decoded.source_rate / 2000:g} kHz), while the distance model listens up to 8 kHz, so distances "
                   "come out a little farther and less reliable.")
    return out


#: How a recording shorter than the distance model's window fills it (``Predictor.distance_windows``):
#: ``"zeros"`` pads its end with silence, ``"loop"`` repeats it, ``"own"`` gives the network the
#: recording at its own length (it pools over time, so any length runs).
FILLS = ("zeros", "loop", "own")
#: how far above a recording's noise floor a block must stand to be part of its sound (``sounding_span``)
SPAN_RISE_DB = 6.0
#: a recording longer than one distance window whose sound (its ``sounding_span`` above the noise
#: floor) fills at most this share of it gets a warning (``pause_warnings``)
PAUSE_SHARE = 0.5


def sounding_span(y: np.ndarray, sr: int, *, gate_db: float = WINDOW_GATE_DB, rise_db: float | None = None,
                  at_least: int = 0, block_s: float = 0.1) -> slice:
    """From the first to the last ``block_s`` block of ``y`` within ``gate_db`` of its loudest
    block (one block to spare either side): the recording without the silence or near-silence
    around it. With ``rise_db``, a block must also stand that far above the recording's noise
    floor (its 10th-percentile block; :data:`SPAN_RISE_DB`): pauses that hold only the room's noise
    go too, however loud the noise. A recording with less range than that keeps every block.
    ``at_least`` (samples): a shorter span grows evenly on both sides to that length, as far as
    the recording goes (a short sound keeps the room's noise around it rather than silence)."""
    block = max(1, int(round(block_s * sr)))
    m = len(y) // block
    whole = y[:m * block].reshape(m, block)
    energy = np.einsum("ij,ij->i", whole, whole)  # no copy of the recording (every prediction runs this)
    if len(y) > m * block:  # the last block, as if padded with silence
        energy = np.append(energy, np.dot(y[m * block:], y[m * block:]))
    level = 10 * np.log10(energy.astype(np.float64) / block + 1e-20)
    threshold = level.max() - gate_db
    if rise_db is not None:
        above_floor = np.percentile(level[:max(1, m)], 10) + rise_db  # whole blocks only
        threshold = max(threshold, above_floor) if above_floor <= level.max() else threshold
    loud = np.flatnonzero(level >= threshold)
    start, stop = max(0, (loud[0] - 1) * block), min(len(y), (loud[-1] + 2) * block)
    length = max(stop - start, min(at_least, len(y)))
    start = min(max(0, start - (length - (stop - start)) // 2), len(y) - length)
    return slice(int(start), int(start + length))


def pause_warnings(y: np.ndarray, sr: int, window: int) -> list[str]:
    """What a person should know about pauses around the sound, for the distance. Windows of the
    room's noise alone read near the middle of the range, so pauses squeeze the estimates: on
    simulated rooms (``python -m train.probe_pauses``, docs/distance.md, session 55) 4 s of pause
    after 4 s of sound cost MAE or the ordering within rooms on all four of the card's sets, 3 s
    either side on three. None for a recording of at most one ``window`` (samples), or whose
    sound fills more than :data:`PAUSE_SHARE` of it."""
    if len(y) <= window:
        return []
    span = sounding_span(y, sr, rise_db=SPAN_RISE_DB)
    sound_s, total_s = (span.stop - span.start) / sr, len(y) / sr
    if sound_s > PAUSE_SHARE * total_s:
        return []
    return [f"Only {sound_s:.1f} s of the {total_s:.1f} s stand out from the room's noise; the rest is pause. "
            "Pauses pull the distance toward the middle of its range (about 2–3 m), so near sources read farther "
            "and far ones nearer; a recording cut to the sound, or sound that goes on, gives a truer distance."]


def window_starts(n: int, win: int, hop: int) -> list[int]:
    """Start indices of windows of ``win`` samples every ``hop`` covering ``n`` samples;
    the last window ends at ``n`` (``[0]`` when ``n <= win``)."""
    if n <= win:
        return [0]
    starts = list(range(0, n - win + 1, hop))
    if starts[-1] != n - win:
        starts.append(n - win)
    return starts


def frame_windows(y: np.ndarray, win: int, hop: int) -> tuple[np.ndarray, np.ndarray]:
    """Cut ``y`` into windows ``(n_windows, win)`` (short input zero-padded at the end);
    also return each window's start in samples."""
    starts = np.asarray(window_starts(len(y), win, hop))
    if len(y) < win:
        y = np.pad(y, (0, win - len(y)))
    return np.stack([y[s:s + win] for s in starts]), starts


def loudest_rms(y: np.ndarray, sr: int, seconds: float = 0.1) -> float:
    """RMS of the loudest ``seconds``-long block, each block's mean (DC offset) removed:
    a constant signal is silence, however far from zero it sits."""
    n = max(1, int(sr * seconds))
    m = len(y) // n
    blocks = y[None, :] if m == 0 else y[:m * n].reshape(m, n)
    blocks = blocks - blocks.mean(axis=1, keepdims=True)
    return float(np.sqrt((blocks ** 2).mean(axis=1).max()))


@dataclass
class Prediction:
    """What one input gives. Scores are averaged over the non-quiet windows."""

    top: list[tuple[str, float]]
    labels: list[str]
    scores: np.ndarray  # (n_labels,)
    window_times: np.ndarray  # (n_windows,) centre of each window, seconds
    window_scores: np.ndarray  # (n_windows, n_labels)
    spectrogram: np.ndarray | None  # (frames, n_mels) in [-1, 0], dB re max / top_db; None if not asked for
    spectrogram_hop_s: float
    spectrogram_fmax: float
    duration_s: float
    warnings: list[str] = field(default_factory=list)
    distance_m: float | None = None
    distance_interval_m: tuple[float, float] | None = None
    elapsed_s: float = 0.0
    models: dict = field(default_factory=dict)
    #: False when the sound is none of the model's labels (open-set decision); None when the
    #: classifier has no AudioSet head to decide with.
    known: bool | None = None
    #: The best AudioSet classes, ``[(name, score), ...]`` (empty without an AudioSet head).
    audioset: list[tuple[str, float]] = field(default_factory=list)
    #: The room kind the distance was estimated for (``"auto"`` unless the person gave one and
    #: the distance model takes it).
    room: str = "auto"

    def to_json(self) -> dict:
        """The CLI/API contract (see README)."""
        return {
            "known": self.known,
            "audioset": [{"label": lab, "score": round(float(s), 6)} for lab, s in self.audioset],
            "top": [{"label": lab, "score": round(float(s), 6)} for lab, s in self.top],
            "distance_m": None if self.distance_m is None else round(float(self.distance_m), 3),
            "distance_interval_m": None if self.distance_interval_m is None
            else [round(float(v), 3) for v in self.distance_interval_m],
            "room": self.room,
            "warnings": self.warnings,
            "duration_s": round(self.duration_s, 3),
            "models": self.models,
        }

    def label_dict(self) -> dict[str, float]:
        """``{display name: score}`` of the top-k, for ``gr.Label``."""
        return {display_name(lab): float(s) for lab, s in self.top}


class Predictor:
    """Loads bundles once, then predicts for any number of inputs.

    Parameters
    ----------
    classifier : Bundle
        A classification bundle (see :mod:`soundpred.bundle` / :mod:`soundpred.hub`).
    distance : Bundle or None
        A distance bundle; without one the distance fields stay None.
    top_k : int
        Number of labels returned.
    overlap : float
        Fraction of overlap between consecutive windows on long audio.
    max_seconds : float or None
        Longer inputs are refused with an :class:`~soundpred.audio.AudioError`.
    batch_size : int
        Classifier windows run at once; other models' batches hold as much audio.
    """

    def __init__(self, classifier: Bundle, distance: Bundle | None = None, *, top_k: int = 5,
                 overlap: float = 0.5, max_seconds: float | None = None, batch_size: int = 16):
        if classifier.task != "classification":
            raise ValueError("classifier bundle has task " + classifier.task)
        if distance is not None and distance.task != "distance":
            raise ValueError("distance bundle has task " + distance.task)
        self.classifier = classifier
        self.distance = distance
        self._shrink = point_shrink(distance.meta) if distance is not None else 0.0
        self.top_k = top_k
        self.overlap = overlap
        self.max_seconds = max_seconds
        self.batch_size = batch_size
        self.warnings: list[str] = []
        fe = classifier.frontend
        self._logmel = classifier.model.get_layer("logmel")
        self._win = fe.window_samples
        self._hop = max(1, int(round(self._win * (1.0 - overlap))))
        self.audioset_labels: list[str] = list(classifier.meta.get("audioset_labels") or [])
        self.open_set = OpenSet.from_meta(classifier.meta.get("open_set"), len(self.audioset_labels))

    @classmethod
    def from_specs(cls, classifier: str | None = None, distance: str | None = None, **kwargs) -> "Predictor":
        """Load models by spec (see :func:`soundpred.hub.resolve`): unset means the embedded
        default. A Hub model that cannot be fetched is replaced by the embedded default and the
        reason is kept in ``predictor.warnings``."""
        c, w1 = resolve(classifier, "classification")
        d = w2 = None
        if distance or EMBEDDED["distance"].is_dir():
            d, w2 = resolve(distance, "distance")
        predictor = cls(c, d, **kwargs)
        predictor.warnings += [w for w in (w1, w2) if w]
        return predictor

    def models_info(self) -> dict:
        info = {}
        for key, b in (("classifier", self.classifier), ("distance", self.distance)):
            if b is not None:
                info[key] = {"name": b.name, "source": b.source, "revision": b.meta.get("revision")}
        return info

    def _run_windows(self, model, y: np.ndarray, win: int, hop: int, extra: np.ndarray | None = None,
                     fill: str = "zeros"):
        """Model outputs for each window of ``y`` (a list: one array per model output, each
        ``(n_windows, ...)``), the windows' starts and which windows are loud enough. Windows are
        cut one batch at a time (600 s of audio would be 77 MB of overlapping windows), and a
        batch holds as much audio as ``batch_size`` classifier windows, whatever ``win``: 16 of
        the distance model's 4 s windows at once took the CLI's peak memory on a 10-minute file
        over its 300 MB bound on CI (319 MB), and 3 at a time run as fast. ``extra``, a ``(k,)``
        vector, is a second input given with every window (the room hint). ``fill``: how input
        shorter than a window fills it (:data:`FILLS`)."""
        if fill not in FILLS:
            raise ValueError(f"fill is one of {FILLS}, not {fill!r}")
        starts = np.asarray(window_starts(len(y), win, hop))
        if len(y) < win:
            y = np.pad(y, (0, win - len(y))) if fill == "zeros" else np.resize(y, win) if fill == "loop" else y
            win = len(y)
        per_batch = max(1, self.batch_size * self._win // win)
        outs, rms = [], []
        for i in range(0, len(starts), per_batch):
            windows = np.stack([y[s:s + win] for s in starts[i:i + per_batch]])
            out = model.predict_on_batch(windows if extra is None else [windows, np.tile(extra, (len(windows), 1))])
            outs.append([np.asarray(o) for o in (out if isinstance(out, (list, tuple)) else [out])])
            rms.append(np.sqrt(np.mean(windows ** 2, axis=1)) + 1e-12)
        rms = np.concatenate(rms)
        kept = 20 * np.log10(rms / rms.max()) > -WINDOW_GATE_DB
        return [np.concatenate(parts) for parts in zip(*outs)], starts, kept

    def outputs_for_waveform(self, y: np.ndarray):
        """Per-window outputs of the classifier for a waveform at its rate.

        Returns ``(window_scores (n, n_labels), window_audioset (n, 521) or None,
        window_starts (n,), kept (n,) bool)``.
        """
        outs, starts, kept = self._run_windows(self.classifier.model, y, self._win, self._hop)
        return outs[0], (outs[1] if len(outs) > 1 else None), starts, kept

    def scores_for_waveform(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per-window label scores of a waveform at the classifier's rate.

        Returns ``(window_scores (n, n_labels), window_starts (n,), kept (n,) bool)``.
        """
        scores, _, starts, kept = self.outputs_for_waveform(y)
        return scores, starts, kept

    @property
    def takes_room_hint(self) -> bool:
        """Whether the distance model takes a room kind (``soundpred.rooms.ROOM_KINDS``)."""
        return self.distance is not None and takes_room_hint(self.distance.model)

    def distance_windows(self, y: np.ndarray, *, room: str = "auto", window: int | None = None,
                         hop: int | None = None, trim: bool = False, rise_db: float | None = None,
                         whole_window: bool = False, fill: str = "zeros") -> tuple[np.ndarray, np.ndarray]:
        """Each loud-enough window's belief over log-distance: ``(mu, sigma)``, two ``(k,)``
        arrays, for a waveform at the distance model's rate. ``window`` and ``hop`` (samples)
        default to the bundle's window and half of it; the networks pool over time, so any window
        length runs (``train.probe_input_length`` measures what other choices cost). ``trim``:
        the :func:`sounding_span` only, with ``rise_db`` above the noise floor if given, and with
        ``whole_window`` at least a window long; ``fill``: how a recording shorter than a window
        fills it (:data:`FILLS`; ``python -m train.probe_padding`` and ``train.probe_pauses``
        measure them)."""
        win = window or self.distance.frontend.window_samples
        hint = kind_one_hot([room])[0] if self.takes_room_hint else None
        if trim:
            y = y[sounding_span(y, self.distance.frontend.sample_rate, rise_db=rise_db,
                                at_least=win if whole_window else 0)]
        (out, *_), _, kept = self._run_windows(self.distance.model, y, win, hop or max(1, win // 2), hint, fill)
        return out[kept, 0].astype(np.float64), np.exp(clip_log_sigma(out[kept, 1])).astype(np.float64)

    def pool_distance(self, mu: np.ndarray, sigma: np.ndarray, *, coverage: float = COVERAGE,
                      pool: str = "mean") -> tuple[float, tuple[float, float]]:
        """Distance estimate (m) and its ``coverage`` interval from the windows' beliefs
        (:meth:`distance_windows`). Their variances are averaged, not shrunk: neighbouring
        windows share the same room, so more of them does not make the room better known. The
        log-distance means are averaged with equal weights (``pool="mean"``, the app's) or with
        weights ``1 / sigma²`` (``"precision"``: a window the network is unsure of counts less).
        The estimate is :func:`soundpred.distance.point_estimate` with the bundle's
        ``point_shrink``."""
        if pool not in POOLS:
            raise ValueError(f"pool is one of {POOLS}, not {pool!r}")
        weights = np.ones_like(mu) if pool == "mean" else sigma ** -2.0
        m = float(np.sum(weights * mu) / np.sum(weights))
        s = float(np.sqrt(np.mean(sigma ** 2)))
        lo, hi = interval(m, s, coverage)
        return float(point_estimate(m, s, self._shrink)), (float(lo), float(hi))

    def distance_for_waveform(self, y: np.ndarray, *, coverage: float = COVERAGE, room: str = "auto",
                              window: int | None = None, hop: int | None = None, pool: str = "mean",
                              trim: bool = False, rise_db: float | None = None, whole_window: bool = False,
                              fill: str = "zeros") -> tuple[float, tuple[float, float]]:
        """Distance estimate (m) and its ``coverage`` interval for a waveform at the distance
        model's rate: :meth:`distance_windows`, then :meth:`pool_distance`."""
        mu, sigma = self.distance_windows(y, room=room, window=window, hop=hop, trim=trim, rise_db=rise_db,
                                          whole_window=whole_window, fill=fill)
        return self.pool_distance(mu, sigma, coverage=coverage, pool=pool)

    def display_spectrogram(self, y: np.ndarray) -> np.ndarray:
        """The log-mel the classifier sees, ``(frames, n_mels)`` in [-1, 0], of at most the first
        minute of a waveform at its rate (what the app draws)."""
        fe = self.classifier.frontend
        spec_len = min(len(y), int(fe.sample_rate * 60))  # display at most a minute
        return display_db(np.asarray(self._logmel(y[None, :max(spec_len, fe.n_fft)]))[0, :, :, 0], fe)

    def clip_scores(self, y: np.ndarray) -> np.ndarray:
        """Scores of a whole waveform (at the classifier's rate): mean over non-quiet windows."""
        window_scores, _, kept = self.scores_for_waveform(y)
        return window_scores[kept].mean(axis=0)

    def clip_outputs(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Label scores and AudioSet scores (None without that head) of a whole waveform."""
        scores, audioset, _, kept = self.outputs_for_waveform(y)
        return scores[kept].mean(axis=0), (None if audioset is None else audioset[kept].mean(axis=0))

    def warm_up(self) -> Prediction:
        """Run the models on two generated clips of different lengths, so the first real request
        is as fast as the next ones: Keras traces a model once per batch size until it has seen
        two, then once for all sizes. Returns the last prediction (for drawing its figures)."""
        sr = self.classifier.frontend.sample_rate
        rng = np.random.default_rng(0)
        pred = None
        for seconds in (3.0, 7.0):
            t = np.arange(int(sr * seconds)) / sr
            y = 0.2 * np.sin(2 * np.pi * 440 * t) + 0.02 * rng.standard_normal(t.size)
            y[:: sr // 4] += 0.8  # clicks
            pred = self.predict((sr, y.astype(np.float32)), spectrogram=True)
        return pred

    def predict(self, source, *, spectrogram: bool = True, room: str = "auto",
                label_seconds: float | None = None) -> Prediction:
        """Predict for a path, bytes, file object or ``(sr, array)``; raises ``AudioError``.

        ``spectrogram=False`` skips the display spectrogram (``Prediction.spectrogram`` is then
        None) where nothing shows it: the JSON API, the CLI, the live tab. ``room`` is the room
        kind (``auto``, ``small``, ``medium``, ``large``) for a distance model that takes it.
        ``label_seconds`` takes the labels, the open-set verdict, the timeline and the
        spectrogram from the last that many seconds only, while the distance hears all of it
        (the live tab: labels follow the sound, and more sound at one place orders near and far
        better, ``python -m train.probe_input_length``)."""
        if room not in ROOM_KINDS:
            raise audio.AudioError(f"Unknown room kind {room!r}; choose one of {', '.join(ROOM_KINDS)}.")
        if label_seconds is not None and not label_seconds > 0:
            raise ValueError(f"label_seconds must be positive, not {label_seconds!r}")
        t0 = time.perf_counter()
        fe = self.classifier.frontend
        # a clipped recording (over audio.CLIPPED_SHARE at full scale) is read a second time with its
        # peaks restored at its own rate, for the distance model alone: where one recording level
        # serves a room, the near sources clip, and restored they read nearer the truth on the
        # card's sets and on fresh draws (train.probe_clipping --declip, docs/distance.md, session 60)
        decoded = audio.read(source, sr=fe.sample_rate, max_seconds=self.max_seconds,
                             restore=self.distance is not None)
        # without a DC offset: the STFT window spreads one into the lowest mel bands as a steady
        # floor, which the distance model reads as more reverberation (a quiet recording at -45
        # dBFS RMS with a 2 % offset read 1.63 m instead of 1.40 m)
        heard = decoded.samples  # decoded here, so ours to change in place (no copy of a long file)
        heard -= np.float32(heard.mean())
        for_distance = heard
        if decoded.restored is not None:
            for_distance = decoded.restored
            for_distance -= np.float32(for_distance.mean())
        if label_seconds is None:
            y = heard
        else:  # the last seconds, their own offset taken off: as if they were all there was
            y = heard[-max(1, int(round(label_seconds * fe.sample_rate))):]
            y = y - np.float32(y.mean())
        if loudest_rms(y, fe.sample_rate) < SILENCE_RMS:
            raise audio.AudioError("No sound detected: the recording is silent or nearly so "
                                   f"(below {20 * np.log10(SILENCE_RMS):.0f} dBFS).")
        # a coded file clipped before coding: its clipping warning says what the decoder's overs one would
        overs = audio.overs_warning(decoded.peak) if clipped_before_coding(decoded) else None
        warnings = [w for w in decoded.warnings if w != overs]
        warnings += clipping_warnings(decoded, distance=self.distance is not None)

        window_scores, window_audioset, starts, kept = self.outputs_for_waveform(y)
        scores = window_scores[kept].mean(axis=0)
        labels = self.classifier.labels
        order = np.argsort(scores)[::-1][: self.top_k]
        top = [(labels[i], float(scores[i])) for i in order]
        known, audioset_top = None, []
        if window_audioset is not None:
            audioset_scores = window_audioset[kept].mean(axis=0)
            audioset_top = [(self.audioset_labels[i], float(audioset_scores[i]))
                            for i in np.argsort(audioset_scores)[::-1][:3]]
            if self.open_set is not None:
                known = self.open_set.known(scores, audioset_scores)

        distance = interval = None
        if self.distance is not None:
            dfe = self.distance.frontend
            y_d = (for_distance if dfe.sample_rate == fe.sample_rate
                   else audio.resample(for_distance, fe.sample_rate, dfe.sample_rate))
            distance, interval = self.distance_for_waveform(y_d, room=room)
            if room != "auto" and not self.takes_room_hint:
                warnings.append("This distance model takes no room kind; the hint was ignored.")
            warnings += coding_warnings(decoded) + pause_warnings(y_d, dfe.sample_rate, dfe.window_samples)

        if not np.isfinite(scores).all() or (distance is not None and not np.isfinite([distance, *interval]).all()):
            raise RuntimeError("the model gave non-finite output")  # a bug: inputs are checked above

        spec = self.display_spectrogram(y) if spectrogram else None
        centres = (starts + min(self._win, len(y)) / 2) / fe.sample_rate
        return Prediction(
            top=top, labels=list(labels), scores=scores, window_times=centres,
            window_scores=window_scores, spectrogram=spec,
            spectrogram_hop_s=fe.hop_length / fe.sample_rate, spectrogram_fmax=fe.fmax,
            duration_s=decoded.duration_s, warnings=warnings, distance_m=distance,
            distance_interval_m=interval, known=known, audioset=audioset_top,
            room=room if self.takes_room_hint else "auto",
            elapsed_s=time.perf_counter() - t0, models=self.models_info())
