"""Benchmarks: prints figures (medians and ratios), asserts nothing.

    python -m bench.bench [--clips 60] [--runs 20]

1. feature throughput, x real time: the seed pipeline (librosa.load at 44.1 kHz + 40 MFCC) vs
   soundpred (decode + resample to 16 kHz + the model's LogMel layer), same starter clips;
2. model-only latency for 1, 5 and 30 s of audio, classifier + distance, p50 / p95;
3. end-to-end /predict latency through `python app.py` with gradio_client (spectrogram included
   in /analyze, which is timed too);
4. cold start: launching `python app.py` to its first /predict answer;
5. peak resident memory of the app process (VmHWM) after all of the above.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
STARTER = ROOT.parent / "shared" / "data" / "fsd-starter"


def pct(xs, q):
    return float(np.percentile(np.asarray(xs), q))


def feature_throughput(n_clips: int):
    import librosa

    from soundpred import audio
    from soundpred.features import LogMel
    from soundpred.params import FrontEnd

    clips = sorted((STARTER / "audio_train").glob("*.flac"))[:n_clips]
    seconds = sum(librosa.get_duration(path=str(c)) for c in clips)
    t = time.perf_counter()
    for c in clips:
        y, sr = librosa.load(str(c), sr=44100)
        librosa.feature.mfcc(y=y, sr=sr, n_mfcc=40)
    seed = time.perf_counter() - t
    layer = LogMel(FrontEnd().to_dict())
    layer(np.zeros((1, 16000), np.float32))  # build once
    t = time.perf_counter()
    for c in clips:
        y = audio.load(c, sr=16000)
        layer(y[None])
    ours = time.perf_counter() - t
    print(f"1. features on {len(clips)} starter clips ({seconds:.0f} s of audio): seed {seconds / seed:.0f}x real "
          f"time, soundpred {seconds / ours:.0f}x real time, ratio {seed / ours:.1f}")


def model_latency(runs: int):
    from soundpred.predict import Predictor

    p = Predictor.from_specs()
    rng = np.random.default_rng(0)
    for secs in (1, 5, 30):
        y = (0.1 * rng.standard_normal(16000 * secs)).astype(np.float32)
        p.scores_for_waveform(y)
        p.distance_for_waveform(y)  # warm up (tracing)
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            p.scores_for_waveform(y)
            p.distance_for_waveform(y)
            times.append(1000 * (time.perf_counter() - t))
        print(f"2. model only, {secs:2d} s clip: p50 {pct(times, 50):.0f} ms, p95 {pct(times, 95):.0f} ms")


def app_figures(runs: int):
    from gradio_client import Client, handle_file

    from tests.conftest import running_app  # the same launcher the tests use (run from the repo root)

    clip = ROOT / "examples" / "speech_1m_meeting_room.wav"
    t0 = time.perf_counter()
    with running_app(Path("/tmp/soundpred-bench-app.log")) as url:
        client = Client(url, verbose=False)
        client.predict(handle_file(str(clip)), api_name="/predict")
        cold = time.perf_counter() - t0
        lat = {}
        for api in ("/predict", "/analyze"):
            times = []
            for _ in range(runs):
                t = time.perf_counter()
                client.predict(handle_file(str(clip)), api_name=api)
                times.append(1000 * (time.perf_counter() - t))
            lat[api] = times
        pid = [int(p) for p in os.listdir("/proc") if p.isdigit() and _is_app(p, url)]
        hwm = max((_vmhwm(p) for p in pid), default=float("nan"))
    print(f"3. end to end (5.9 s clip): /predict p50 {statistics.median(lat['/predict']):.0f} ms, "
          f"p95 {pct(lat['/predict'], 95):.0f} ms; /analyze with spectrogram p50 {statistics.median(lat['/analyze']):.0f} ms")
    print(f"4. cold start to first /predict answer: {cold:.1f} s")
    print(f"5. peak resident memory of the app: {hwm:.0f} MB")


def _is_app(pid: str, url: str) -> bool:
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        env = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return False
    port = url.rstrip("/").rsplit(":", 1)[1]
    return b"app.py" in cmd and f"GRADIO_SERVER_PORT={port}".encode() in env


def _vmhwm(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clips", type=int, default=60)
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args(argv)
    feature_throughput(args.clips)
    model_latency(args.runs)
    app_figures(args.runs)


if __name__ == "__main__":
    main()
