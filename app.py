"""soundpred web app (Gradio Blocks): what made a sound, and how far away was it?

    python app.py            # http://127.0.0.1:7860

Presentation only: decoding, models and figures live in the ``soundpred`` package.
"""
from __future__ import annotations

import base64
import logging
import os
import sys
import threading
import time
from pathlib import Path

if __name__ == "__main__" and "MALLOC_ARENA_MAX" not in os.environ:
    # glibc gives each thread a malloc arena of its own (up to 8 per core) and Gradio runs requests
    # on a pool of threads: freed memory stays spread over the arenas and resident memory crept
    # up by about 60 MB over 800 requests (soak in tests/test_robustness.py); with two arenas it
    # stays flat. The variable is read when the process starts, hence the re-exec (same PID).
    os.environ["MALLOC_ARENA_MAX"] = "2"
    os.execv(sys.executable, [sys.executable, *sys.argv])

import gradio as gr
import numpy as np
from gradio.components.plot import PlotData

from soundpred import audio
from soundpred.audio import AudioError
from soundpred.plots import GaugePainter, SpectrogramPainter, TimelinePainter
from soundpred.predict import Prediction, Predictor

log = logging.getLogger("soundpred.app")

#: Longest input analysed (uploads and recordings), seconds.
MAX_SECONDS = float(os.environ.get("SOUNDPRED_MAX_SECONDS", 600))
#: Largest upload accepted by the server.
MAX_FILE_SIZE = os.environ.get("SOUNDPRED_MAX_FILE_SIZE", "100mb")
#: Requests waiting beyond this many get Gradio's "queue is full" message at once.
QUEUE_SIZE = int(os.environ.get("SOUNDPRED_QUEUE_SIZE", 64))
#: Uploads are deleted from Gradio's cache this many seconds after they arrive.
CACHE_SECONDS = int(os.environ.get("SOUNDPRED_CACHE_SECONDS", 3600))
#: Analyses (uploads, recordings, /predict, live updates) that run at once, all endpoints
#: together: each holds at most one decoded input (600 s at 16 kHz mono: 38 MB) and its windows.
CONCURRENCY = int(os.environ.get("SOUNDPRED_CONCURRENCY", 2))
#: Live mode: seconds between updates, the most recent audio analysed each time, and how long
#: one live session may last.
LIVE_EVERY, LIVE_SECONDS, LIVE_LIMIT = 1.0, 4.0, 300
EXAMPLES = Path(__file__).resolve().parent / "examples"
MIC_NOTE = ("Browsers process microphone audio (automatic gain, echo and noise suppression); that "
            "changes the reverberation cues the distance model listens to. Uploads of plain "
            "recordings give the most faithful distances.")


def load_predictor() -> Predictor:
    return Predictor.from_specs(top_k=5, max_seconds=MAX_SECONDS)


def _models_md(pred: Prediction) -> str:
    lines = []
    for key, m in pred.models.items():
        where = m["source"] + (f" @ `{m['revision'][:12]}`" if m.get("revision") else "")
        lines.append(f"**{key.capitalize()}:** `{m['name']}` ({where})")
    lines.append(f"Analysed {pred.duration_s:.1f} s of audio in {pred.elapsed_s * 1000:.0f} ms.")
    lines += [f"⚠️ {w}" for w in pred.warnings]
    return "\n\n".join(lines)


def _known_md(pred: Prediction) -> str:
    """The open-set verdict above the top-5: empty when the sound is one of the labels."""
    if pred.known is not False:
        return ""
    like = pred.audioset[0][0] if pred.audioset else "something else"
    return (f"### None of the {len(pred.labels)} labels fits well — it sounds like: {like}\n"
            "The five closest labels are still shown below.")


def _distance_md(pred: Prediction) -> str:
    if pred.distance_m is None:
        return "*No distance model loaded.*"
    lo, hi = pred.distance_interval_m
    return (f"### Distance ≈ {pred.distance_m:.1f} m\n90 % interval {lo:.1f} – {hi:.1f} m "
            "(experimental: one microphone, trained on simulated rooms only)")


def _plot(png: bytes) -> PlotData:
    """A rendered PNG as gr.Plot's value (what it makes of a matplotlib figure itself)."""
    return PlotData(type="matplotlib", plot="data:image/png;base64," + base64.b64encode(png).decode())


def build_app(predictor: Predictor) -> gr.Blocks:
    fe = predictor.classifier.frontend
    # figures reused across requests (the per-request cost was mostly building them)
    spectrogram = SpectrogramPainter(n_mels=fe.n_mels, fmin=fe.fmin, fmax=fe.fmax, top_db=fe.top_db)
    gauge_painter = GaugePainter()
    timeline_painter = TimelinePainter()
    # One limit for every endpoint: Gradio's queue bounds the events it starts per concurrency
    # id, but live streams must not hold a slot while they wait for the browser's next chunk (a
    # dropped client would keep it until LIVE_LIMIT): they take this semaphore only to compute.
    slots = threading.BoundedSemaphore(CONCURRENCY)

    def run(path, spectrogram: bool):
        if not path:
            raise gr.Error("Record or upload a sound first.")
        try:
            with slots:
                pred = predictor.predict(path, spectrogram=spectrogram)
        except AudioError as e:
            raise gr.Error(str(e)) from None
        except Exception as e:  # a bug, not the person's fault: say so, log it, keep serving
            log.exception("analysis failed")
            raise gr.Error(f"Something went wrong analysing this sound ({type(e).__name__}). "
                           "Please try another file.") from None
        pred.warnings[:0] = predictor.warnings  # e.g. a Hub model replaced by the embedded default
        return pred

    def analyze(path):
        pred = run(path, spectrogram=True)
        fig = _plot(spectrogram.png(pred.spectrogram, hop_s=pred.spectrogram_hop_s))
        gauge = None if pred.distance_m is None else _plot(gauge_painter.png(pred.distance_m, pred.distance_interval_m))
        many = len(pred.window_times) > 1
        timeline = _plot(timeline_painter.png(pred.window_times, pred.window_scores, pred.labels)) if many else None
        return (_known_md(pred), fig, pred.label_dict(), _distance_md(pred), gauge,
                gr.update(value=timeline, visible=many), _models_md(pred))

    def live(chunk, buffer):
        """Streaming microphone: keep the last LIVE_SECONDS at the model's rate, analyse them
        at most once every LIVE_EVERY s (a client that sends faster gets no more of the CPU)."""
        if chunk is None:
            return gr.update(), gr.update(), buffer
        stamp = time.strftime("%H:%M:%S")
        y, last = buffer if buffer is not None else (np.zeros(0, np.float32), 0.0)
        try:
            new = audio.read(chunk, sr=fe.sample_rate, max_seconds=MAX_SECONDS).samples
            y = np.concatenate([y, new])[-int(LIVE_SECONDS * fe.sample_rate):]
            if time.monotonic() - last < 0.8 * LIVE_EVERY:
                return gr.update(), gr.update(), (y, last)
            with slots:
                pred = predictor.predict((fe.sample_rate, y), spectrogram=False)
        except AudioError as e:
            return {}, f"*{e}* · updated {stamp}", (y, time.monotonic())
        known = _known_md(pred).split("\n")[0].lstrip("# ")
        return (pred.label_dict(), " · ".join(x for x in (known, _distance_md(pred), f"updated {stamp}") if x),
                (y, time.monotonic()))

    def predict_api(path) -> dict:
        """Top-5 labels (and distance) of an audio file, as JSON."""
        return run(path, spectrogram=False).to_json()

    with gr.Blocks(title="soundpred", delete_cache=(min(600, CACHE_SECONDS), CACHE_SECONDS)) as demo:
        gr.Markdown("# soundpred\nRecord or upload a sound: see the spectrogram the model saw, the five most "
                    "likely of the 41 Freesound (FSDKaggle2018) labels the model knows, and how far the "
                    "source was from the microphone.")
        for w in predictor.warnings:
            gr.Markdown(f"⚠️ {w}", elem_classes="model-warning")
        with gr.Tab("Record or upload"):
            with gr.Row():
                with gr.Column(scale=1):
                    audio_in = gr.Audio(sources=["upload", "microphone"], type="filepath", label="Sound")
                    button = gr.Button("Analyze", variant="primary")
                    examples = sorted(EXAMPLES.glob("*.wav"))
                    if examples:
                        gr.Examples([[str(p)] for p in examples], inputs=audio_in,
                                    label="Examples: the same speech simulated 1 m and 8 m from the "
                                          "microphone in one room (generated by soundpred, MIT)")
                with gr.Column(scale=1):
                    known_out = gr.Markdown(elem_id="known")
                    labels_out = gr.Label(num_top_classes=5, label="Top-5 labels")
                    distance_out = gr.Markdown(elem_id="distance")
                    gauge_out = gr.Plot(label="Distance", show_label=False)
            spec_out = gr.Plot(label="Spectrogram")
            timeline_out = gr.Plot(label="Timeline of the leading labels", visible=False)
            info_out = gr.Markdown(elem_id="info")
            button.click(analyze, audio_in,
                         [known_out, spec_out, labels_out, distance_out, gauge_out, timeline_out, info_out],
                         api_name="analyze", concurrency_id="analysis", concurrency_limit=CONCURRENCY)
        with gr.Tab("Live"):
            gr.Markdown(f"Listens to the microphone and updates about every {LIVE_EVERY:g} s from the last "
                        f"{LIVE_SECONDS:g} s of sound. {MIC_NOTE}")
            with gr.Row():
                live_in = gr.Audio(sources=["microphone"], streaming=True, type="filepath", label="Microphone")
                with gr.Column():
                    live_labels = gr.Label(num_top_classes=5, label="Top-5 labels (live)", elem_id="live-labels")
                    live_distance = gr.Markdown(elem_id="live-distance")
            live_state = gr.State()
            live_in.stream(live, [live_in, live_state], [live_labels, live_distance, live_state],
                           stream_every=LIVE_EVERY, time_limit=LIVE_LIMIT, concurrency_limit=None,
                           api_visibility="private")
        gr.Markdown(f"<small>{MIC_NOTE} Limits: {MAX_SECONDS:.0f} s of audio, {MAX_FILE_SIZE} per upload.</small>")
        # API-only endpoint: file in, JSON out (hidden components, visible in the API page).
        api_in = gr.Audio(type="filepath", visible=False)
        api_out = gr.JSON(visible=False)
        api_button = gr.Button(visible=False)
        api_button.click(predict_api, api_in, api_out, api_name="predict", concurrency_id="analysis",
                         concurrency_limit=CONCURRENCY)
    return demo


if __name__ == "__main__":
    demo = build_app(load_predictor())
    demo.queue(default_concurrency_limit=2, max_size=QUEUE_SIZE).launch(
        server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"), max_file_size=MAX_FILE_SIZE)
