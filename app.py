"""soundpred web app (Gradio Blocks): what made a sound, and how far away was it?

    python app.py            # http://127.0.0.1:7860

Presentation only: decoding, models and figures live in the ``soundpred`` package.
"""
from __future__ import annotations

import os

import gradio as gr

from soundpred.audio import AudioError
from soundpred.hub import resolve
from soundpred.plots import spectrogram_figure
from soundpred.predict import Prediction, Predictor

#: Longest input analysed (uploads and recordings), seconds.
MAX_SECONDS = float(os.environ.get("SOUNDPRED_MAX_SECONDS", 600))
#: Largest upload accepted by the server.
MAX_FILE_SIZE = os.environ.get("SOUNDPRED_MAX_FILE_SIZE", "100mb")


def load_predictor() -> Predictor:
    bundle, warning = resolve(None, "classification")
    predictor = Predictor(bundle, top_k=5, max_seconds=MAX_SECONDS)
    if warning:
        predictor.warnings.append(warning)
    return predictor


def _models_md(pred: Prediction) -> str:
    c = pred.models["classifier"]
    where = c["source"] + (f" @ `{c['revision'][:12]}`" if c.get("revision") else "")
    lines = [f"**Classifier:** `{c['name']}` ({where}) · analysed {pred.duration_s:.1f} s of audio "
             f"in {pred.elapsed_s * 1000:.0f} ms"]
    lines += [f"⚠️ {w}" for w in pred.warnings]
    return "\n\n".join(lines)


def build_app(predictor: Predictor) -> gr.Blocks:
    fe = predictor.classifier.frontend

    def run(path):
        if not path:
            raise gr.Error("Record or upload a sound first.")
        try:
            return predictor.predict(path)
        except AudioError as e:
            raise gr.Error(str(e)) from None

    def analyze(path):
        pred = run(path)
        pred.warnings[:0] = predictor.warnings
        fig = spectrogram_figure(pred.spectrogram, hop_s=pred.spectrogram_hop_s, fmin=fe.fmin,
                                 fmax=pred.spectrogram_fmax, top_db=fe.top_db)
        return fig, pred.label_dict(), _models_md(pred)

    def predict_api(path) -> dict:
        """Top-5 labels (and distance) of an audio file, as JSON."""
        pred = run(path)
        pred.warnings[:0] = predictor.warnings
        return pred.to_json()

    with gr.Blocks(title="soundpred") as demo:
        gr.Markdown("# soundpred\nRecord or upload a sound: see the spectrogram the model saw and "
                    "the five most likely of the Freesound (FSDKaggle2018) labels.")
        for w in predictor.warnings:
            gr.Markdown(f"⚠️ {w}")
        with gr.Row():
            with gr.Column(scale=1):
                audio_in = gr.Audio(sources=["upload", "microphone"], type="filepath", label="Sound")
                button = gr.Button("Analyze", variant="primary")
            with gr.Column(scale=1):
                labels_out = gr.Label(num_top_classes=5, label="Top-5 labels")
        spec_out = gr.Plot(label="Spectrogram")
        info_out = gr.Markdown()
        button.click(analyze, audio_in, [spec_out, labels_out, info_out], api_name="analyze")
        # API-only endpoint: file in, JSON out (hidden components, visible in the API page).
        api_in = gr.Audio(type="filepath", visible=False)
        api_out = gr.JSON(visible=False)
        api_button = gr.Button(visible=False)
        api_button.click(predict_api, api_in, api_out, api_name="predict")
    return demo


if __name__ == "__main__":
    demo = build_app(load_predictor())
    demo.queue(default_concurrency_limit=2, max_size=64).launch(
        server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"), max_file_size=MAX_FILE_SIZE)
