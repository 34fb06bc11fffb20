"""Figures: the reused figures draw exactly what a fresh figure draws, in each of the page's themes."""
from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from matplotlib.image import imread

from soundpred.plots import THEMES, SpectrogramPainter, spectrogram_figure

SETTINGS = dict(fmin=50.0, fmax=8000.0, top_db=80.0)
themes = pytest.mark.parametrize("theme", list(THEMES))


def fresh_png(spec, hop_s=0.01, theme="light") -> bytes:
    out = io.BytesIO()
    spectrogram_figure(spec, hop_s=hop_s, theme=theme, **SETTINGS).savefig(out, format="png")
    return out.getvalue()


def pixels(png: bytes) -> np.ndarray:
    return imread(io.BytesIO(png), format="png")


def spec_of(frames: int, seed: int) -> np.ndarray:
    return -np.random.default_rng(seed).random((frames, 64)).astype(np.float32)


@themes
def test_reused_figure_matches_a_fresh_one_whatever_came_before(theme):
    painter = SpectrogramPainter(n_mels=64, theme=theme, **SETTINGS)
    long, short = spec_of(1200, 0), spec_of(150, 1)
    first = painter.png(long, hop_s=0.01)
    second = painter.png(short, hop_s=0.01)  # the same pooled figure, shorter clip: new ticks
    assert first.startswith(b"\x89PNG")
    np.testing.assert_array_equal(pixels(first), pixels(fresh_png(long, theme=theme)))
    np.testing.assert_array_equal(pixels(second), pixels(fresh_png(short, theme=theme)))
    assert not np.array_equal(pixels(first), pixels(second))


def test_concurrent_callers_get_their_own_picture():
    painter = SpectrogramPainter(n_mels=64, **SETTINGS)
    specs = [spec_of(200 + 100 * i, i) for i in range(6)]
    with ThreadPoolExecutor(3) as pool:
        pngs = list(pool.map(lambda s: painter.png(s, hop_s=0.01), specs * 2))
    for spec, png in zip(specs * 2, pngs):
        np.testing.assert_array_equal(pixels(png), pixels(fresh_png(spec)))


def test_wrong_shape_refused():
    with pytest.raises(ValueError, match="expected"):
        SpectrogramPainter(n_mels=64, **SETTINGS).png(np.zeros((10, 40), np.float32), hop_s=0.01)


@themes
def test_reused_gauge_matches_a_fresh_one(theme):
    from soundpred.plots import GaugePainter, distance_gauge

    painter = GaugePainter(theme=theme)
    for distance, interval in [(12.5, (6.0, 30.0)), (0.4, (0.1, 0.9)), (2.3, (1.1, 5.2))]:
        out = io.BytesIO()
        distance_gauge(distance, interval, theme=theme).savefig(out, format="png")
        np.testing.assert_array_equal(pixels(painter.png(distance, interval)), pixels(out.getvalue()))


@themes
def test_reused_timeline_matches_a_fresh_one(theme):
    from soundpred.labels import FSD_LABELS
    from soundpred.plots import TimelinePainter, timeline_figure

    painter = TimelinePainter(theme=theme)
    rng = np.random.default_rng(0)
    for n_windows in (12, 2, 5):
        times = 1.5 + 1.5 * np.arange(n_windows)
        scores = rng.dirichlet(np.ones(41) * 0.3, n_windows)
        out = io.BytesIO()
        timeline_figure(times, scores, FSD_LABELS, theme=theme).savefig(out, format="png")
        np.testing.assert_array_equal(pixels(painter.png(times, scores, FSD_LABELS)), pixels(out.getvalue()))


def test_dark_figures_are_drawn_in_the_dark_colours():
    """The dark theme paints the background in its colour and the words in its text colour; the
    light one is matplotlib's white and black."""
    from matplotlib.colors import to_rgb

    spec = spec_of(300, 2)
    light = pixels(SpectrogramPainter(n_mels=64, **SETTINGS).png(spec, hop_s=0.01))[..., :3]
    dark = pixels(SpectrogramPainter(n_mels=64, theme="dark", **SETTINGS).png(spec, hop_s=0.01))[..., :3]
    face, text = (np.array(to_rgb(THEMES["dark"][k]), np.float32) for k in ("face", "text"))
    np.testing.assert_allclose(light[2, 2], 1.0)
    np.testing.assert_allclose(dark[2, 2], face, atol=1 / 255)
    # the title row: black words on white in light, words in the text colour on the face in dark
    assert np.abs(light[5:60] - 0.0).sum(axis=-1).min() < 0.05
    assert np.abs(dark[5:60] - text).sum(axis=-1).min() < 0.05
    assert np.abs(dark[5:60] - 1.0).sum(axis=-1).min() > 0.05  # nothing white is left


def test_unknown_theme_refused_at_once():
    from soundpred.plots import GaugePainter

    with pytest.raises(ValueError, match="theme must be one of light, dark"):
        GaugePainter(theme="purple")
