"""Memory: the app's resident memory over a soak of requests, and the peak that the worst files
add to the CLI and to the app (the bound stated in the README).

Everything runs for real: `python -m soundpred` and `python app.py` as subprocesses, driven
with gradio_client over HTTP. The slow trend of the app's memory is measured by the benchmark
(``python -m bench.bench --only soak``), not here.
"""
from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import soundfile as sf

from .conftest import ROOT, needs_ffmpeg, tone, two_clips
from .corpus import memory_bomb, unknown_length_flac

pytestmark = [pytest.mark.slow, needs_ffmpeg]


def test_soak_memory(app_process, tmp_path):
    """/analyze requests (all three figures each), two at a time: after a warm-up of 100, the
    app's resident memory, read every 20 requests over 200, grows by a median of under 2 MB per
    20 requests (100 kB a request). A leaked figure, upload or decoded clip per request (a few
    hundred kB to MBs) grows every block by more; a step of tens of MB that the heap takes once
    (seen at any point under CI load) moves one block, not the median. Blocks are a multiple of
    ``app.TRIM_EVERY``, so every reading comes at the same point of the app's heap trims
    (between two trims its memory grows by MBs and falls again). The slow trend (about 20 kB a request
    before the app trimmed glibc's heap, none since) is measured by the benchmark's longer soak
    (``python -m bench.bench --only soak``)."""
    from gradio_client import Client, handle_file

    from app import TRIM_EVERY

    clips = two_clips(tmp_path)
    per_block = 2 * TRIM_EVERY

    def run(n, offset):
        # the server renders and stores every figure; the client need not download them each time
        client = Client(app_process.url, verbose=False, download_files=False)
        for k in range(n):
            out = client.predict(handle_file(str(clips[(offset + k) % 2])), api_name="/analyze")
            assert out[1]["path"].endswith(".png")

    def block(n):
        with ThreadPoolExecutor(2) as pool:  # two at a time: the app's concurrency limit
            list(pool.map(run, [n // 2, n // 2], [0, 1]))
        return app_process.rss_mb()

    block(100)  # warm-up: font caches, first traces
    rss = [app_process.rss_mb()] + [block(per_block) for _ in range(200 // per_block)]
    steps = np.diff(rss)
    print(f"soak: RSS every {per_block} requests {[round(r) for r in rss]} MB; median step {np.median(steps):+.2f} MB")
    assert np.median(steps) < 0.1 * per_block, rss  # 100 kB a request


def _cli_peak_mb(path) -> float:
    """Peak resident memory (MB) of ``python -m soundpred predict PATH``, from the process itself."""
    code = ("import resource, runpy, sys\n"
            "sys.argv = ['soundpred', 'predict', '--json', sys.argv[1]]\n"
            "try:\n    runpy.run_module('soundpred', run_name='__main__')\n"
            "except SystemExit:\n    pass\n"
            "print('PEAK', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
    r = subprocess.run([sys.executable, "-c", code, str(path)], cwd=ROOT, env=env, capture_output=True,
                       text=True, timeout=300)
    line = [x for x in r.stderr.splitlines() if x.startswith("PEAK")][-1]
    return int(line.split()[1]) / 1024


#: The bound stated in the README: one request adds at most this much to the process's peak
#: resident memory, whatever the file.
REQUEST_BOUND_MB = 300


@pytest.fixture(scope="module")
def worst_files(tmp_path_factory):
    """The corpus's worst memory bomb and longest unknown-length file (ffmpeg's path), plus the
    longest file that is analysed in full (600 s, 8 kHz 8-bit, 4.8 MB)."""
    d = tmp_path_factory.mktemp("worst")
    full = d / "ten_minutes.wav"
    sf.write(full, tone(8000, 600.0, freq=300, amp=0.3), 8000, subtype="PCM_U8")
    return [full, memory_bomb(d / "bomb_600s_8ch_192kHz.flac"), unknown_length_flac(d / "unknown_length_11_minutes.flac", 660)]


def test_cli_memory_bound(worst_files, tmp_path):
    """Peak resident memory of the CLI on each worst file stays within REQUEST_BOUND_MB of its
    peak on a one-second clip (before block decoding, the same bomb at 48 kHz took the app from 1.0
    to 3.9 GB)."""
    small = tmp_path / "one_second.wav"
    sf.write(small, tone(16000, 1.0), 16000)
    base = _cli_peak_mb(small)
    peaks = {p.name: _cli_peak_mb(p) - base for p in worst_files}
    print(f"CLI peak RSS {base:.0f} MB on a 1 s clip; over it: " +
          ", ".join(f"{k} +{v:.0f} MB" for k, v in peaks.items()))
    assert max(peaks.values()) < REQUEST_BOUND_MB, peaks


def test_app_memory_bound(app_process, worst_files):
    """The worst files sent to /predict and /analyze at once, twice over: the app's peak
    resident memory grows by less than REQUEST_BOUND_MB per analysis it runs at once (2)."""
    from gradio_client import Client, handle_file

    warm = Client(app_process.url, verbose=False)
    warm.predict(handle_file(str(ROOT / "examples" / "speech_1m_meeting_room.wav")), api_name="/analyze")
    before = app_process.peak_rss_mb()

    def send(job):
        path, api = job
        try:
            Client(app_process.url, verbose=False).predict(handle_file(str(path)), api_name=api)
        except Exception as e:  # refused files are expected to be refused
            return str(e)
        return "answered"

    jobs = [(p, api) for p in worst_files for api in ("/predict", "/analyze")]
    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(send, jobs))
    grown = app_process.peak_rss_mb() - before
    print(f"app peak RSS {before:.0f} MB after warm-up, +{grown:.0f} MB after the worst files; {outcomes}")
    assert outcomes[0] == "answered" and outcomes[1] == "answered"
    assert grown < 2 * REQUEST_BOUND_MB, grown
