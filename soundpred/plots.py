"""Figures with matplotlib's object API (no pyplot state: safe in a server)."""
from __future__ import annotations

import io
import queue

import librosa
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.ticker import NullLocator
from PIL import Image

from .distance import RANGE_M
from .labels import display_name

__all__ = ["spectrogram_figure", "timeline_figure", "distance_gauge", "curves_figure", "confusion_figure",
           "SpectrogramPainter", "GaugePainter", "TimelinePainter", "THEMES", "leading"]

#: The app's figures in each of the page's themes: background, text, and axes and ticks. Light is
#: matplotlib's own look; dark takes Gradio 6's default dark theme (the block background
#: ``--block-background-fill``, ``--body-text-color`` and ``--body-text-color-subdued``), so a
#: figure sits in its box as the rest of the page does instead of a white panel.
THEMES = {"light": None, "dark": dict(face="#27272a", text="#f4f4f5", edge="#bbbbc2", grid="#71717a")}


def _themed(fig: Figure, theme: str) -> Figure:
    """``fig`` in ``theme``'s colours (a key of :data:`THEMES`); colour maps and data colours stay."""
    if theme not in THEMES:
        raise ValueError(f"theme must be one of {', '.join(THEMES)}, not {theme!r}")
    colours = THEMES[theme]
    if colours is None:
        return fig
    fig.set_facecolor(colours["face"])
    for ax in fig.axes:
        ax.set_facecolor(colours["face"])
        # ticks made later (a new time range) take these too
        ax.tick_params(which="both", colors=colours["edge"], labelcolor=colours["text"],
                       grid_color=colours["grid"])
        for spine in ax.spines.values():
            spine.set_edgecolor(colours["edge"])
    for text in fig.findobj(Text):  # titles, axis labels, legends, the colour bar's label
        text.set_color(colours["text"])
    return fig


def _mel_ticks(n_mels: int, fmin: float, fmax: float):
    freqs = librosa.mel_frequencies(n_mels + 2, fmin=fmin, fmax=fmax)[1:-1]
    wanted = [f for f in (100, 250, 500, 1000, 2000, 4000, 8000, 16000) if fmin <= f <= fmax]
    pos = [int(np.argmin(np.abs(freqs - f))) for f in wanted]
    names = [f"{f // 1000}k" if f >= 1000 else str(f) for f in wanted]
    return pos, names


def spectrogram_figure(spec: np.ndarray, *, hop_s: float, fmin: float = 50.0, fmax: float = 8000.0,
                       top_db: float = 80.0, title: str = "Log-mel spectrogram (model input)",
                       theme: str = "light") -> Figure:
    """``spec``: (frames, n_mels) in [-1, 0] as :class:`~soundpred.features.LogMel` gives; ``theme``:
    a key of :data:`THEMES`."""
    # fixed margins: the constrained layout engine doubles the time to draw (a per-request cost)
    # 800 x 432 px with large type (small inches, high dpi): legible when a phone shows it 360 px wide
    fig = Figure(figsize=(5.0, 2.7), dpi=160)
    fig.subplots_adjust(left=0.13, right=1.0, bottom=0.19, top=0.88)
    ax = fig.add_subplot()
    n_frames, n_mels = spec.shape
    im = ax.imshow(spec.T * top_db, origin="lower", aspect="auto", cmap="magma", vmin=-top_db, vmax=0,
                   extent=(0, n_frames * hop_s, -0.5, n_mels - 0.5), interpolation="nearest")
    pos, names = _mel_ticks(n_mels, fmin, fmax)
    ax.set_yticks(pos, names)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("frequency (Hz, mel scale)")
    ax.set_title(title, fontsize=10, loc="left")  # left: the app's image buttons sit top right
    # a colour bar shorter than the axes, from the bottom: at phone width the image buttons of the
    # app (top right) would cover its top and its "0"
    fig.colorbar(im, ax=ax, label="dB re max", pad=0.01, shrink=0.8, anchor=(0.0, 0.0))
    return _themed(fig, theme)


class _Painter:
    """Pixels of a figure kind, fast enough per request. Building a figure and laying out its
    axes and tick labels costs as much as drawing it, and drawing text costs most of the rest,
    so figures are kept in a pool (one per concurrent caller, created on demand), only their
    data change between calls, and only the artists that change are drawn: each figure keeps a
    picture of everything else (the titles, the axes that stay put), drawn once, and draws its
    :meth:`_dynamic` artists over it (matplotlib's blitting). Thread-safe; the pixels equal a
    fresh figure's (tests/test_plots.py). ``theme``: a key of :data:`THEMES`."""

    def __init__(self, *, theme: str = "light"):
        _themed(Figure(), theme)  # an unknown theme fails here, not at the first request
        self.theme = theme
        self._pool: queue.SimpleQueue = queue.SimpleQueue()

    def _new(self) -> Figure:
        raise NotImplementedError

    def _update(self, fig: Figure, *args, **kwargs) -> None:
        raise NotImplementedError

    def _dynamic(self, fig: Figure) -> list:
        """The artists :meth:`_update` changes, in the order a full draw paints them (by zorder);
        they must not overlap the rest of the figure, which is painted before them."""
        raise NotImplementedError

    def _ready(self) -> tuple[Figure, list, object]:
        fig = self._new()
        FigureCanvasAgg(fig)
        dynamic = self._dynamic(fig)
        for artist in dynamic:
            artist.set_animated(True)  # left out of the full draw below
        fig.canvas.draw()
        return fig, dynamic, fig.canvas.copy_from_bbox(fig.bbox)

    def _pixels(self, channels: int, *args, **kwargs) -> np.ndarray:
        """The first ``channels`` of the figure's RGBA pixels, copied out of the canvas before the
        figure goes back to the pool."""
        try:
            fig, dynamic, background = self._pool.get_nowait()
        except queue.Empty:
            fig, dynamic, background = self._ready()
        try:
            self._update(fig, *args, **kwargs)
            for ax in fig.axes:
                ax.viewLim  # noqa: B018 -- applies a pending autoscale, as a full draw would
            fig.canvas.restore_region(background)
            for artist in dynamic:
                fig.draw_artist(artist)
            return np.asarray(fig.canvas.buffer_rgba())[..., :channels].copy()
        finally:
            self._pool.put((fig, dynamic, background))

    def rgba(self, *args, **kwargs) -> np.ndarray:
        """The figure's pixels, ``(height, width, 4)`` uint8."""
        return self._pixels(4, *args, **kwargs)

    def rgb(self, *args, **kwargs) -> np.ndarray:
        """The figure's pixels, ``(height, width, 3)`` uint8 (what ``gr.Image`` takes)."""
        return self._pixels(3, *args, **kwargs)

    def png(self, *args, **kwargs) -> bytes:
        """The figure as PNG bytes (RGBA, as ``savefig`` writes it)."""
        out = io.BytesIO()
        Image.fromarray(self.rgba(*args, **kwargs)).save(out, format="png")
        return out.getvalue()


class SpectrogramPainter(_Painter):
    """:func:`spectrogram_figure` as PNG: ``painter.png(spec, hop_s=...)``."""

    def __init__(self, *, n_mels: int, fmin: float, fmax: float, top_db: float, theme: str = "light"):
        super().__init__(theme=theme)
        self.n_mels, self.fmin, self.fmax, self.top_db = n_mels, fmin, fmax, top_db

    def _new(self) -> Figure:
        return spectrogram_figure(np.zeros((2, self.n_mels), np.float32) - 1, hop_s=0.01, fmin=self.fmin,
                                  fmax=self.fmax, top_db=self.top_db, theme=self.theme)

    def _update(self, fig: Figure, spec: np.ndarray, *, hop_s: float) -> None:
        if spec.ndim != 2 or spec.shape[1] != self.n_mels:
            raise ValueError(f"expected (frames, {self.n_mels}), got {spec.shape}")
        ax = fig.axes[0]
        seconds = len(spec) * hop_s
        ax.images[0].set_data(spec.T * self.top_db)
        ax.images[0].set_extent((0, seconds, -0.5, self.n_mels - 0.5))
        ax.set_xlim(0, seconds)

    def _dynamic(self, fig: Figure) -> list:
        ax = fig.axes[0]  # the y axis, the title and the colour bar stay put
        return [ax.images[0], ax.xaxis, *ax.spines.values()]


class GaugePainter(_Painter):
    """:func:`distance_gauge` as PNG: ``painter.png(distance, interval)``."""

    def __init__(self, *, lo: float = RANGE_M[0], hi: float = RANGE_M[1], theme: str = "light"):
        super().__init__(theme=theme)
        self.lo, self.hi = lo, hi

    def _new(self) -> Figure:
        return distance_gauge(1.0, (0.5, 2.0), lo=self.lo, hi=self.hi, theme=self.theme)

    def _update(self, fig: Figure, distance: float, interval: tuple[float, float]) -> None:
        ax = fig.axes[0]
        (span,), (line,) = ax.patches, ax.lines
        a, b = (min(max(v, self.lo), self.hi) for v in interval)
        span.set_x(a)
        span.set_width(b - a)
        x = min(max(distance, self.lo), self.hi)
        line.set_xdata([x, x])
        ax.get_legend().get_texts()[1].set_text(f"{distance:.1f} m")

    def _dynamic(self, fig: Figure) -> list:
        ax = fig.axes[0]  # the x axis (fixed range) stays put
        return [*ax.patches, *ax.lines, *ax.spines.values(), ax.get_legend()]


class TimelinePainter(_Painter):
    """:func:`timeline_figure` as PNG: ``painter.png(times, window_scores, labels)``."""

    def __init__(self, *, n: int = 5, theme: str = "light"):
        super().__init__(theme=theme)
        self.n = n

    def _new(self) -> Figure:
        dummy = np.tile(np.linspace(1, 0.5, self.n), (2, 1))  # n lines, ranked
        return timeline_figure(np.array([0.0, 1.0]), dummy, [f"label{i}" for i in range(self.n)], n=self.n,
                               theme=self.theme)

    def _update(self, fig: Figure, times: np.ndarray, window_scores: np.ndarray, labels) -> None:
        ax = fig.axes[0]
        best = leading(window_scores, self.n)
        if len(best) != len(ax.lines):
            raise ValueError(f"expected at least {self.n} labels")
        for line, text, i in zip(ax.lines, ax.get_legend().get_texts(), best):
            line.set_data(times, window_scores[:, i])
            line.set_label(display_name(labels[i]))
            text.set_text(display_name(labels[i]))
        ax.relim()
        ax.autoscale_view(scalex=True, scaley=False)

    def _dynamic(self, fig: Figure) -> list:
        ax = fig.axes[0]  # the y axis and its grid (0 to 1) and the title stay put
        return [ax.xaxis, *ax.lines, *ax.spines.values(), ax.get_legend()]


def leading(window_scores: np.ndarray, n: int) -> np.ndarray:
    """The indices of the ``n`` labels with the highest mean score over the windows, best first
    (the labels :func:`timeline_figure` draws)."""
    return np.argsort(window_scores.mean(axis=0))[::-1][:n]


def timeline_figure(times: np.ndarray, window_scores: np.ndarray, labels, *, n: int = 5,
                    theme: str = "light") -> Figure:
    """Scores over time of the ``n`` labels with the highest mean score; ``theme``: a key of :data:`THEMES`."""
    # fixed margins (a per-request figure); the legend sits above the axes, never over the lines
    fig = Figure(figsize=(5.0, 3.0), dpi=160)
    fig.subplots_adjust(left=0.12, right=0.98, bottom=0.17, top=0.72)
    ax = fig.add_subplot()
    best = leading(window_scores, n)
    for i in best:
        ax.plot(times, window_scores[:, i], marker="o", ms=3, label=display_name(labels[i]))
    ax.set_ylim(0, 1)
    ax.set_xlabel("time (s, window centre)")
    ax.set_ylabel("score")
    ax.legend(fontsize=8, loc="lower left", bbox_to_anchor=(0.0, 1.02, 1.0, 0.3), ncol=3, mode="expand",
              frameon=False, borderaxespad=0.0)
    fig.suptitle("Leading labels over time", fontsize=10, x=0.12, ha="left", y=0.98)
    ax.grid(alpha=0.3)
    return _themed(fig, theme)


def curves_figure(history: dict) -> Figure:
    """Training curves from a Keras ``History.history`` dict."""
    fig = Figure(figsize=(9, 3.2), dpi=100, layout="constrained")
    keys = sorted({k.removeprefix("val_") for k in history})
    for j, k in enumerate(keys):
        ax = fig.add_subplot(1, len(keys), j + 1)
        for name in (k, f"val_{k}"):
            if name in history:
                ax.plot(np.arange(1, len(history[name]) + 1), history[name], label=name)
        ax.set_xlabel("epoch")
        ax.set_title(k, fontsize=10)
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    return fig


def confusion_figure(cm: np.ndarray, labels, title: str = "Confusion (rows: true)") -> Figure:
    n = len(labels)
    fig = Figure(figsize=(0.38 * n + 3, 0.38 * n + 2.5), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    norm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    names = [display_name(x) for x in labels]
    ax.set_xticks(range(n), names, rotation=90, fontsize=7)
    ax.set_yticks(range(n), names, fontsize=7)
    for i in range(n):
        for j in range(n):
            if cm[i, j]:
                ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=6,
                        color="white" if norm[i, j] > 0.5 else "black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=10)
    return fig


def distance_figure(true, pred, lo, hi, *, title: str = "") -> Figure:
    """Predicted vs true distance (log axes) with the intervals."""
    fig = Figure(figsize=(4.6, 4.4), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    ax.errorbar(true, pred, yerr=[pred - lo, hi - pred], fmt="o", ms=2.5, alpha=0.35, elinewidth=0.5)
    ax.plot(RANGE_M, RANGE_M, "k--", lw=1)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("true distance (m)")
    ax.set_ylabel("estimate (m), 90 % interval")
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3, which="both")
    return fig


def distance_gauge(distance: float, interval: tuple[float, float], *, lo: float = RANGE_M[0],
                   hi: float = RANGE_M[1], theme: str = "light") -> Figure:
    """A small log-scale bar from ``lo`` to ``hi`` metres with the estimate and its interval;
    ``theme``: a key of :data:`THEMES`."""
    # 576 x 176 px: the type is large for the width, so a phone that shows it 330 px wide keeps it legible
    fig = Figure(figsize=(3.6, 1.1), dpi=160)
    fig.subplots_adjust(left=0.05, right=0.95, bottom=0.42, top=0.68)
    ax = fig.add_subplot()
    a, b = (min(max(v, lo), hi) for v in interval)
    ax.axvspan(a, b, color="tab:orange", alpha=0.35, label="90 % interval")
    ax.axvline(min(max(distance, lo), hi), color="tab:red", lw=3, label=f"{distance:.1f} m")
    ax.set_xscale("log")
    ax.set_xlim(lo, hi)
    ax.xaxis.set_minor_locator(NullLocator())  # unlabelled minor ticks would still be laid out
    ax.set_yticks([])
    ticks = [t for t in (0.3, 0.5, 1, 2, 5, 10, 20) if lo <= t <= hi]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.set_xlabel("distance from the microphone (m)")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, fontsize=9, frameon=False, borderaxespad=0.2)
    return _themed(fig, theme)
