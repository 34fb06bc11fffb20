"""Benchmarks: prints figures (medians and ratios), asserts nothing.

    python -m bench.bench [--clips 60] [--runs 20] [--only features models app training stages soak]

1. feature throughput, x real time: the seed pipeline (librosa.load at 44.1 kHz + 40 MFCC) vs
   soundpred (decode + resample to 16 kHz + the model's LogMel layer), same starter clips, and
   the speed of decoding alone, which bounds both;
2. model-only latency for 1, 5 and 30 s of audio, classifier + distance, p50 / p95, and one
   Live-tab update (labels from 4 s, distance from 8 s) beside one with the distance from 4 s;
3. end-to-end /predict latency through `python app.py` with gradio_client (spectrogram included
   in /analyze, which is timed too);
4. cold start: launching `python app.py` to its first /analyze answer, and that first answer's
   time beside the second's (the app warms its models and figures before serving);
5. peak resident memory of the app process (VmHWM) after all of the above;
   (``--only stages``) where /analyze's time goes, in process on the same clip: decoding, the
   classifier, the distance, the display spectrogram, painting each figure and Gradio's PNG
   encoding of it, p50 of each and their sum;
6. training throughput of both trainers (examples/s), measured and from the last full runs;
7. soak (``--only soak``, not in the default run: about 10 minutes): ``--soak`` /analyze requests,
   two at a time, after 100 of warm-up; the app's resident memory after every 100, and its
   least-squares growth per 100 requests over the second half (a leak keeps growing; caches
   and the allocator settle).
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

from soundpred.paths import STARTER

ROOT = Path(__file__).resolve().parent.parent


def pct(xs, q):
    return float(np.percentile(np.asarray(xs), q))


def timings_ms(fn, runs: int) -> list[float]:
    """Wall time of each of ``runs`` calls of ``fn``, in milliseconds."""
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(1000 * (time.perf_counter() - t))
    return times


def feature_throughput(n_clips: int):
    import keras
    import librosa
    import soundfile as sf

    from soundpred import audio
    from soundpred.features import LogMel
    from soundpred.params import FrontEnd

    clips = sorted((STARTER / "audio_train").glob("*.flac"))[:n_clips]
    seconds = sum(sf.info(str(c)).duration for c in clips)

    def best_of(fn, n=3):  # seconds of the least disturbed of n runs (the machine is shared)
        return min(timings_ms(fn, n)) / 1000

    def seed_pipeline():
        for c in clips:
            y, sr = librosa.load(str(c), sr=44100)
            librosa.feature.mfcc(y=y, sr=sr, n_mfcc=40)

    # the model's own LogMel layer, compiled once (as inside the models), not called eagerly
    wave = keras.Input(shape=(None,))
    logmel = keras.Model(wave, LogMel(FrontEnd().to_dict())(wave))
    for n in (16000, 32000, 48000):
        logmel.predict_on_batch(np.zeros((1, n), np.float32))

    def ours():
        for c in clips:
            logmel.predict_on_batch(audio.load(c, sr=16000)[None])

    decode = best_of(lambda: [sf.read(str(c), dtype="float32") for c in clips])
    seed, mine = best_of(seed_pipeline), best_of(ours)
    print(f"1. features on {len(clips)} starter clips ({seconds:.0f} s of audio): seed {seconds / seed:.0f}x real "
          f"time, soundpred {seconds / mine:.0f}x real time, ratio {seed / mine:.1f}; decoding the FLAC alone "
          f"(libsndfile, which both use) runs at {seconds / decode:.0f}x, so no pipeline that reads these "
          f"files can beat the seed by more than {seed / decode:.1f}x here")


def model_latency(runs: int, others: list[Path] = ()):
    """Classifier + distance latency of the embedded defaults, and the distance model alone for
    the default and each of ``others`` (distance bundles), in the same run (ratios hold)."""
    from soundpred.bundle import load_bundle
    from soundpred.predict import Predictor

    p = Predictor.from_specs()
    extra = {str(o): Predictor(p.classifier, load_bundle(o)) for o in others}
    rng = np.random.default_rng(0)
    for secs in (1, 5, 30):
        y = (0.1 * rng.standard_normal(16000 * secs)).astype(np.float32)

        def both(y=y):
            p.scores_for_waveform(y)
            p.distance_for_waveform(y)

        both()  # warm up (tracing)
        times = timings_ms(both, runs)
        cls = timings_ms(lambda y=y: p.scores_for_waveform(y), runs)
        dist = timings_ms(lambda y=y: p.distance_for_waveform(y), runs)
        print(f"2. model only (classifier + distance), {secs:2d} s clip: p50 {pct(times, 50):.0f} ms, "
              f"p95 {pct(times, 95):.0f} ms; classifier alone p50 {pct(cls, 50):.0f} ms, "
              f"distance alone p50 {pct(dist, 50):.1f} ms")
        for name, q in extra.items():
            q.distance_for_waveform(y)
            t = timings_ms(lambda y=y, q=q: q.distance_for_waveform(y), runs)
            print(f"   distance {name} alone, {secs:2d} s clip: p50 {pct(t, 50):.1f} ms "
                  f"({pct(t, 50) / pct(dist, 50):.2f}x the default)")
        if secs == 5:
            tflite_reference(y, runs)
    live_update(p, runs)


def live_update(p, runs: int):
    """One Live-tab update as the app runs it (app.live: labels from the last 4 s, distance from
    the last 8 s, no spectrogram), beside the same update with the distance from the last 4 s."""
    rng = np.random.default_rng(1)
    y = (0.1 * rng.standard_normal(16000 * 8)).astype(np.float32)
    eight = lambda: p.predict((16000, y), spectrogram=False, label_seconds=4.0)  # noqa: E731
    four = lambda: p.predict((16000, y[-4 * 16000:]), spectrogram=False)  # noqa: E731
    eight(), four()
    t8, t4 = timings_ms(eight, runs), timings_ms(four, runs)
    print(f"   live update (labels 4 s, distance 8 s): p50 {pct(t8, 50):.0f} ms, p95 {pct(t8, 95):.0f} ms; "
          f"distance from 4 s instead: p50 {pct(t4, 50):.0f} ms ({pct(t8, 50) / pct(t4, 50):.2f}x)")


def tflite_reference(y: np.ndarray, runs: int):
    """YAMNet's int8 TFLite file on the same clip (0.975 s windows every 0.48 s, as YAMNet
    frames it), for reference beside the Keras model."""
    from soundpred.paths import YAMNET_DIR
    from soundpred.predict import frame_windows
    from train.import_yamnet import interpreter

    if not (YAMNET_DIR / "yamnet.tflite").is_file():
        print("   (no ../shared/pretrained/yamnet: TFLite reference skipped)")
        return
    it = interpreter(YAMNET_DIR / "yamnet.tflite")
    inp = it.get_input_details()[0]["index"]
    windows, _ = frame_windows(y, 15600, 7680)

    def run():
        for w in windows:
            it.set_tensor(inp, w[None])
            it.invoke()

    run()
    times = timings_ms(run, runs)
    print(f"   reference: YAMNet TFLite (int8) on the same 5 s clip, {len(windows)} windows: "
          f"p50 {pct(times, 50):.1f} ms")


def app_figures(runs: int):
    import soundfile as sf
    from gradio_client import Client, handle_file

    from tests.conftest import running_app  # the same launcher the tests use (run from the repo root)

    clip = ROOT / "examples" / "speech_1m_meeting_room.wav"
    firsts, seconds, colds = [], [], []
    for start in range(3):  # fresh servers: is the first answer after start as fast as the next?
        t0 = time.perf_counter()
        with running_app(Path("/tmp/soundpred-bench-app.log")) as app:
            client = Client(app.url, verbose=False)
            t1 = time.perf_counter()
            client.predict(handle_file(str(clip)), api_name="/analyze")
            firsts.append(1000 * (time.perf_counter() - t1))
            colds.append(time.perf_counter() - t0)
            seconds.append(timings_ms(lambda: client.predict(handle_file(str(clip)), api_name="/analyze"), 1)[0])
            if start < 2:
                continue
            lat = {api: timings_ms(lambda api=api: client.predict(handle_file(str(clip)), api_name=api), runs)
                   for api in ("/predict", "/analyze")}
            hwm = app.peak_rss_mb()
    print(f"3. end to end ({sf.info(str(clip)).duration:.1f} s clip): /predict p50 {statistics.median(lat['/predict']):.0f} ms, "
          f"p95 {pct(lat['/predict'], 95):.0f} ms; /analyze with spectrogram, gauge and timeline "
          f"p50 {statistics.median(lat['/analyze']):.0f} ms, p95 {pct(lat['/analyze'], 95):.0f} ms")
    print(f"4. cold start to the first /analyze answer: median {statistics.median(colds):.1f} s over 3 starts; "
          f"first /analyze after start {statistics.median(firsts):.0f} ms, the second "
          f"{statistics.median(seconds):.0f} ms (medians; each start: {', '.join(f'{a:.0f}/{b:.0f}' for a, b in zip(firsts, seconds))})")
    print(f"5. peak resident memory of the app: {hwm:.0f} MB")


def analyze_stages(runs: int):
    """/analyze's steps one by one, in process, as app.analyze runs them on the example clip:
    what the end-to-end figure of part 3 is made of (the rest is Gradio: upload, queue, JSON)."""
    from gradio.processing_utils import encode_pil_to_bytes
    from PIL import Image

    from soundpred import audio
    from soundpred.plots import GaugePainter, SpectrogramPainter, TimelinePainter
    from soundpred.predict import Predictor

    clip = ROOT / "examples" / "speech_1m_meeting_room.wav"
    p = Predictor.from_specs()
    fe = p.classifier.frontend
    spectrogram = SpectrogramPainter(n_mels=fe.n_mels, fmin=fe.fmin, fmax=fe.fmax, top_db=fe.top_db)
    gauge, timeline = GaugePainter(), TimelinePainter()
    y = audio.read(clip, sr=fe.sample_rate).samples
    pred = p.predict(clip)
    images = {"spectrogram": lambda: spectrogram.rgb(pred.spectrogram, hop_s=pred.spectrogram_hop_s),
              "gauge": lambda: gauge.rgb(pred.distance_m, pred.distance_interval_m),
              "timeline": lambda: timeline.rgb(pred.window_times, pred.window_scores, pred.labels)}
    stages = {"decode + resample": lambda: audio.read(clip, sr=fe.sample_rate),
              "classifier (+ AudioSet, open set)": lambda: p.outputs_for_waveform(y),
              "distance": lambda: p.distance_for_waveform(y),
              "display spectrogram": lambda: p.display_spectrogram(y)}
    for name, paint in images.items():
        pixels = paint()
        stages[f"paint {name}"] = paint
        stages[f"PNG {name} {pixels.shape[1]}x{pixels.shape[0]}"] = \
            lambda pixels=pixels: encode_pil_to_bytes(Image.fromarray(pixels), "png")
    for fn in stages.values():
        fn()  # warm up
    whole = timings_ms(lambda: p.predict(clip), runs)
    medians = {name: statistics.median(timings_ms(fn, runs)) for name, fn in stages.items()}
    total = sum(medians.values())
    print(f"3b. /analyze in process, {pred.duration_s:.1f} s clip, p50 of {runs} runs each:")
    for name, ms in medians.items():
        print(f"   {name:<34} {ms:7.1f} ms  {100 * ms / total:4.1f} %")
    print(f"   sum {total:.0f} ms; Predictor.predict alone (the first four and the window bookkeeping) "
          f"p50 {statistics.median(whole):.0f} ms")
    clipped_cost(p, clip, runs)


def clipped_cost(p, clip: Path, runs: int):
    """What restoring a clipped recording's peaks (for the distance: a second, restoring read)
    adds to Predictor.predict: the example at 48 kHz, and 60 s of it, as they are and with 15 % of
    their samples pushed past full scale."""
    import soundfile as sf

    from soundpred import audio

    y, sr = sf.read(str(clip), dtype="float32")
    y48 = audio.resample(y, sr, 48000)
    print(f"3c. Predictor.predict on 48-kHz audio, clipped (15 % of the samples flat, peaks restored for the "
          f"distance) against unclipped, p50 of {runs} runs each:")
    for seconds in (len(y48) / 48000, 60.0):
        plain = np.resize(y48, int(seconds * 48000)) * np.float32(0.5 / np.abs(y48).max())
        flat = np.clip(plain / np.quantile(np.abs(plain), 0.85), -1, 1).astype(np.float32)
        decoded = audio.read((48000, flat), sr=16000, restore=True)
        t = {name: statistics.median(timings_ms(lambda x=x: p.predict((48000, x), spectrogram=False), runs))
             for name, x in (("unclipped", plain), ("clipped", flat))}
        print(f"   {seconds:4.1f} s: unclipped {t['unclipped']:.0f} ms, clipped {t['clipped']:.0f} ms "
              f"({t['clipped'] / t['unclipped']:.2f}x; {100 * decoded.clipped:.0f} % flat, "
              f"{'restored' if decoded.restored is not None else 'NOT restored'})")


def training_throughput(steps: int):
    """Examples per second of one optimizer step (batch 32, the trainers' models, losses and
    optimizer) and of the distance trainer's on-the-fly room synthesis; and what the last full
    runs recorded in the embedded bundles' soundpred.json."""
    import json

    import keras

    from soundpred.labels import FSD_LABELS
    from soundpred.models import DISTANCE_FRONTEND, build_classifier, build_distance, gaussian_nll
    from soundpred.params import FrontEnd
    from soundpred.rooms import TRAIN, make_bank, synthesize
    from train.common import adamw_cosine

    rng = np.random.default_rng(0)
    fe = FrontEnd()
    specs = {"classifier": (build_classifier(fe, len(FSD_LABELS)), "categorical_crossentropy", fe,
                            lambda n: keras.utils.to_categorical(rng.integers(0, 41, n), 41)),
             "distance": (build_distance(DISTANCE_FRONTEND), gaussian_nll, DISTANCE_FRONTEND,
                          lambda n: rng.uniform(-1, 3, (n, 1)).astype(np.float32))}
    for name, (model, loss, f, target) in specs.items():
        model.compile(optimizer=adamw_cosine(1e-3, 1000, 10), loss=loss)
        x = (0.1 * rng.standard_normal((32, f.window_samples))).astype(np.float32)
        y = target(32)
        for _ in range(2):
            model.train_on_batch(x, y)
        t = time.perf_counter()
        for _ in range(steps):
            model.train_on_batch(x, y)
        rate = 32 * steps / (time.perf_counter() - t)
        print(f"6. training step, {name}: {rate:.0f} examples/s (batch 32, {f.window_seconds:g} s windows)")
    bank = make_bank(TRAIN, 4, seed=1, progress=False, cache_dir=Path("/tmp/soundpred-bench-rirs"))
    dry = (0.1 * rng.standard_normal(16000 * 8)).astype(np.float32)
    t = time.perf_counter()
    for i in range(64):
        synthesize(dry, bank.rirs[i % len(bank)], TRAIN, n=DISTANCE_FRONTEND.window_samples, sr=16000, rng=rng)
    print(f"6. distance examples synthesized on the fly: {64 / (time.perf_counter() - t):.0f} examples/s")
    for name in ("classifier", "distance"):
        tr = json.loads((ROOT / "models" / name / "soundpred.json").read_text())["training"]
        per_epoch = tr.get("n_train") or tr["steps_per_epoch"] * tr["batch_size"]
        print(f"6. last full {name} run (embedded bundle): {tr['epochs']} epochs x {per_epoch} examples in "
              f"{tr['train_seconds']:.0f} s = {tr['epochs'] * per_epoch / tr['train_seconds']:.0f} examples/s "
              f"({tr['machine']})")


def soak(n_requests: int, block: int = 100):
    """Resident memory of ``python app.py`` while it answers ``n_requests`` /analyze requests
    (all three figures each) two at a time, the app's concurrency limit."""
    import tempfile

    from tests.conftest import running_app, two_clips, soak as soak_loop  # the soak test's launcher, clips, loop

    clips = two_clips(Path(tempfile.mkdtemp(prefix="soundpred-bench-")))
    with running_app(Path("/tmp/soundpred-bench-soak.log")) as app:
        rss, seconds = soak_loop(app, clips, warm_up=block, block=block, blocks=n_requests // block)
    counts = [block * i for i in range(len(rss))]
    half = len(counts) // 2
    slope = np.polyfit(counts[half:], rss[half:], 1)[0] * block if len(counts) - half >= 2 else float("nan")
    print(f"7. soak: {n_requests} /analyze requests after {block} of warm-up in {seconds:.0f} s; resident memory "
          f"(MB) every {block}: {', '.join(f'{r:.0f}' for r in rss)}; {rss[-1] - rss[0]:+.0f} MB in all, "
          f"{slope:+.1f} MB per {block} requests over the second half")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clips", type=int, default=60)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--train-steps", type=int, default=10)
    ap.add_argument("--soak", type=int, default=1000, help="requests of the soak (part 7)")
    parts = ("features", "models", "app", "training", "stages", "soak")
    ap.add_argument("--only", nargs="+", choices=parts, default=parts[:-2],
                    help="run only these parts (stages and soak only when named)")
    ap.add_argument("--distance", nargs="*", type=Path, default=[],
                    help="distance bundles to time beside the embedded default (part 2)")
    args = ap.parse_args(argv)
    if "features" in args.only:
        feature_throughput(args.clips)
    if "models" in args.only:
        model_latency(args.runs, args.distance)
    if "app" in args.only:
        app_figures(args.runs)
    if "training" in args.only:
        training_throughput(args.train_steps)
    if "stages" in args.only:
        analyze_stages(args.runs)
    if "soak" in args.only:
        soak(args.soak)


if __name__ == "__main__":
    main()
