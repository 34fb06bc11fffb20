"""soundpred web app (Gradio Blocks): what made a sound, and how far away was it?

    python app.py            # http://127.0.0.1:7860

Presentation only: decoding, models and figures live in the ``soundpred`` package. Settings
come from the environment once (:class:`soundpred.settings.Settings`, table in the README).
"""
from __future__ import annotations

import itertools
import logging
import os
import signal
import threading
import time
import uuid
import weakref
from pathlib import Path

import gradio as gr
import numpy as np
from gradio.data_classes import FileData
from gradio.utils import get_space
from PIL import Image

from soundpred import audio
from soundpred.audio import AudioError
from soundpred.labels import display_name
from soundpred.plots import THEMES, GaugePainter, SpectrogramPainter, TimelinePainter, leading
from soundpred.predict import Prediction, Predictor
from soundpred.rooms import ROOM_KINDS
from soundpred.settings import Settings, limit_malloc_arenas, trim_malloc

log = logging.getLogger("soundpred.app")

#: Live mode: seconds between updates, the most recent audio the labels come from, the most
#: recent audio the distance hears (more sound at one place orders near and far better:
#: ``python -m train.probe_input_length``, docs/distance.md), and how long one live session may last.
LIVE_EVERY, LIVE_SECONDS, LIVE_DISTANCE_SECONDS, LIVE_LIMIT = 1.0, 4.0, 8.0, 300
#: every this many analyses, glibc's free heap memory goes back to the system (soundpred.settings.trim_malloc)
TRIM_EVERY = 10
EXAMPLES = Path(__file__).resolve().parent / "examples"
#: (a limiter, as phones' recorders have, squeezes the distances: ``python -m train.probe_clipping
#: --rate 48000 --variants limit-12``, docs/distance.md, session 58)
MIC_NOTE = ("The page asks the browser for plain microphone audio: its echo cancellation, noise "
            "suppression and automatic gain would change the reverberation the distance model listens "
            "to. Some browsers and devices process it anyway: uploads of plain recordings, with no "
            "automatic gain or limiter, give the most faithful distances.")
#: The page's microphone script (Gradio adds the launch's ``head`` to the page once the page has
#: its config, before anyone can press Record; in a ``<gradio-app>`` web component, to the host
#: page). Two jobs:
#:
#: - Browsers clean microphone audio for calls (echo cancellation, noise suppression, automatic
#:   gain) unless asked not to; that processing changes the reverberation and level the models
#:   hear (``python -m bench.microphone``). Every getUserMedia call of the page asks for the plain
#:   signal; a browser may still process it: the constraints are requests, not orders.
#: - When the microphone cannot be had, Gradio's Record button does nothing visible. The script
#:   says why, beside where the person pressed, and that an upload still works: the browser or the
#:   person refused it, an embedding iframe lacks ``allow="microphone"`` (with a link to the app in
#:   its own tab), there is no microphone or another program holds it, or the page is plain http
#:   on a network address (browsers lend the microphone only to https and localhost pages; there
#:   ``navigator.mediaDevices`` does not exist, and the script puts one in its place that refuses
#:   with that message). A successful call takes the message away.
MIC_HEAD = """<script>
(() => {
  const BOX = "soundpred-mic-message";
  const UPLOAD = " Uploading a recording still works.";
  let lastY = null;
  addEventListener("pointerdown", (e) => { lastY = e.clientY; }, true);
  addEventListener("keydown", (e) => {  // Record pressed with the keyboard: where the focus is
    const at = (e.key === "Enter" || e.key === " ") && document.activeElement;
    if (at && at !== document.body) lastY = at.getBoundingClientRect().top + 10;
  }, true);
  const say = (text, link) => {
    let box = document.getElementById(BOX);
    if (!box) {
      box = document.createElement("div");
      box.id = BOX;
      box.setAttribute("role", "alert");
      box.style.cssText = "position:fixed;z-index:1000;left:50%;transform:translateX(-50%);" +
        "width:max-content;max-width:min(560px,calc(100vw - 24px));box-sizing:border-box;" +
        "padding:10px 36px 10px 14px;border-radius:8px;background:#fff4e5;color:#5c3500;" +
        "border:1px solid #e8a33d;box-shadow:0 2px 10px rgba(0,0,0,.2);font:14px/1.45 system-ui,sans-serif;";
      document.body.appendChild(box);
    }
    const words = document.createElement("span");
    words.textContent = text;
    const close = document.createElement("button");
    close.type = "button";
    close.textContent = "\\u00d7";
    close.setAttribute("aria-label", "Close");
    close.style.cssText = "position:absolute;top:4px;right:8px;border:0;background:none;color:inherit;font-size:20px;cursor:pointer;";
    close.onclick = () => box.remove();
    box.replaceChildren(words, close);
    if (link) {
      const a = document.createElement("a");
      a.href = link;
      a.target = "_blank";
      a.rel = "noopener";
      a.textContent = "Open soundpred in its own tab.";
      a.style.cssText = "color:inherit;text-decoration:underline;";
      box.insertBefore(a, close);
      words.after(" ");
    }
    // above where the person pressed (Record), so that the upload button below stays in sight
    const above = lastY === null ? 8 : lastY - 20 - box.offsetHeight;
    box.style.top = (above >= 8 ? above : Math.min(lastY + 28, innerHeight - box.offsetHeight - 8)) + "px";
  };
  const framedWithout = () => {
    const policy = document.permissionsPolicy || document.featurePolicy;
    return window.self !== window.top && !!policy && !policy.allowsFeature("microphone");
  };
  const why = (err) => {
    const name = err && err.name;
    if (framedWithout())
      return ["The page around soundpred does not let it use the microphone: its iframe needs " +
              'allow="microphone".' + UPLOAD, location.href];
    if (name === "NotAllowedError" || name === "SecurityError")
      return ["The browser did not let soundpred use the microphone. Allow it for this site (the " +
              "icon beside the address) and press Record again." + UPLOAD];
    if (name === "NotFoundError" || name === "OverconstrainedError")
      return ["No microphone was found. Connect one and press Record again." + UPLOAD];
    if (name === "NotReadableError" || name === "AbortError")
      return ["The microphone could not be opened: another program may be using it. Close it and " +
              "press Record again." + UPLOAD];
    return ["The microphone could not be opened (" + name + ": " + (err && err.message) + ")." + UPLOAD];
  };
  const devices = navigator.mediaDevices;
  if (!devices) {
    const text = "Browsers lend the microphone only to pages served over https:// or from this " +
                 "computer (localhost); this page is " + location.origin + "." + UPLOAD;
    const refuse = () => { say(text); return Promise.reject(new DOMException(text, "NotAllowedError")); };
    Object.defineProperty(navigator, "mediaDevices", {configurable: true, value: {
      getUserMedia: refuse, enumerateDevices: () => Promise.resolve([]),
      addEventListener() {}, removeEventListener() {}, soundpredPlainAudio: true}});  // once only
    return;
  }
  if (!devices.getUserMedia || devices.soundpredPlainAudio) return;
  const plain = {echoCancellation: false, noiseSuppression: false, autoGainControl: false};
  const getUserMedia = devices.getUserMedia.bind(devices);
  devices.getUserMedia = (constraints) => {
    const audio = constraints && constraints.audio;
    if (audio) constraints = {...constraints, audio: {...(audio === true ? {} : audio), ...plain}};
    return getUserMedia(constraints).then(
      (stream) => { if (audio) document.getElementById(BOX)?.remove(); return stream; },
      (err) => { if (audio) say(...why(err)); throw err; });
  };
  devices.soundpredPlainAudio = true;
})();
</script>"""
#: The page's theme, as a JavaScript expression: Gradio marks dark mode with a ``dark`` class on
#: the page's body, or on the element around a ``<gradio-app>`` web component, from the
#: ``?__theme=`` parameter, its settings panel or the system's preference (which can change while
#: the page is open).
PAGE_THEME = 'document.querySelector(".gradio-container")?.closest(".dark") ? "dark" : "light"'
#: The page's theme when an analysis starts, read in the browser (an event's ``js`` runs before
#: its Python function and returns its inputs). The figures are drawn in that theme.
THEME_JS = f"(path, room) => [path, room, {PAGE_THEME}]"
#: When the page's theme changes while figures are shown (Gradio's settings panel, or the system
#: turning dark at dusk), the page presses "Analyze again" for the sound already there, so the
#: figures are drawn anew in the new theme (an analysis takes under a second; nothing else redraws
#: them). Any class change in the page may be Gradio's theme switch; only a change of the theme
#: itself acts.
THEME_HEAD = """<script>
(() => {
  if (window.soundpredTheme) return;  // once only
  const theme = () => PAGE_THEME;
  let last = theme();
  window.soundpredTheme = new MutationObserver(() => {
    const now = theme();
    if (now !== last && document.querySelector("#spectrogram img")) {
      [...document.querySelectorAll("button")].find((b) => b.textContent.trim() === "Analyze again")?.click();
    }
    last = now;
  });
  window.soundpredTheme.observe(document.documentElement, {attributes: true, attributeFilter: ["class"], subtree: true});
})();
</script>""".replace("PAGE_THEME", PAGE_THEME)
CSS = """
#known h3 { margin: 0.2em 0; }
@media (max-width: 640px) { .gradio-container { padding: 4px !important; } }
"""


def share_button() -> list[str]:
    """Gradio's "share" button of the audio and the figures, where it works: it posts to the
    Hugging Face Space's discussions, and on any other host (a server of one's own, a laptop) it
    only shows "Must be on Spaces to share." as an error."""
    return ["share"] if get_space() else []


def load_predictor(settings: Settings) -> Predictor:
    return Predictor.from_specs(settings.classifier, settings.distance, top_k=5,
                                max_seconds=settings.max_seconds or None)


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


#: Under this many seconds the distance comes with a tip to record longer: on simulated rooms,
#: 8–12 s at one place order near and far positions in a room better than 4 s do
#: (``python -m train.probe_input_length``, docs/distance.md).
LONGER_S = 8.0


#: AudioSet classes that count as speech for the distance note: the distance model orders the
#: positions of a simulated room at 0.50–0.61 (rank correlation within rooms) when it hears
#: speech, at 0.09–0.24 when it hears the starter clips and at 0.03–0.21 for dry instrument notes,
#: a new sound at each position (``python -m train.probe_conditions [--clips FOLDER]``, session 22);
#: one sound at every position, 0.37–0.46 for those, but its estimate moves less than half as far
#: as for speech (``--one-source-per-room``, session 23; docs/distance.md).
SPEECH_CLASSES = frozenset({"Speech", "Child speech, kid speaking", "Conversation", "Narration, monologue",
                            "Babbling", "Speech synthesizer", "Whispering"})


def _heard_speech(pred: Prediction) -> bool | None:
    """Whether the best AudioSet class is speech; None without an AudioSet head to tell."""
    return pred.audioset[0][0] in SPEECH_CLASSES if pred.audioset else None


def _distance_md(pred: Prediction, *, tip: bool = True) -> str:
    if pred.distance_m is None:
        return "*No distance model loaded.*"
    lo, hi = pred.distance_interval_m
    room = "" if pred.room == "auto" else f" for a {pred.room} room"
    text = (f"### Distance ≈ {pred.distance_m:.1f} m\n90 % interval {lo:.1f} – {hi:.1f} m{room} "
            "(experimental: one microphone, trained on simulated rooms only)")
    if tip and _heard_speech(pred) is False:
        text += ("\n\n*Not speech: the distance model hears speech best. For other sounds its estimate follows "
                 "near and far much less, on simulated rooms.*")
    if tip and pred.duration_s < LONGER_S:
        text += (f"\n\n*Comparing places? {LONGER_S:.0f} s or more of sound at each place tells near from "
                 "far more reliably.*")
    return text


def _labels(pred: Prediction):
    """The top-5 output: without the big name of the first label when the sound is none of them
    (the verdict above says so; the closest labels are still listed)."""
    return gr.update(value=pred.label_dict(), show_heading=pred.known is not False)


def _live_known(pred: Prediction) -> str:
    """The live tab's open-set verdict, in one line above its labels (empty for a known sound)."""
    known = _known_md(pred).split("\n")[0].lstrip("# ")
    return f"**{known}**" if known else ""


def _live_md(pred: Prediction, stamp: str) -> str:
    """The live tab's distance text: as on the first tab (no tip to record longer), what the
    labels and the distance were heard from, and the warnings (a pause that pulls the distance
    toward the middle, a clipped microphone)."""
    def secs(s: float) -> str:  # a stream's first reading comes after a fraction of a second
        return f"{s:.1f}" if s < 0.95 else f"{s:.0f}"

    return (_distance_md(pred, tip=False) + f"\n\n*Distance from the last {secs(pred.duration_s)} s, labels from "
            f"the last {secs(min(pred.duration_s, LIVE_SECONDS))} s · updated {stamp}*"
            + "".join(f"\n\n⚠️ {w}" for w in pred.warnings))


def _timeline_alt(pred: Prediction) -> str:
    """What the timeline shows, for screen readers (the other figures' words are fixed)."""
    best = [display_name(pred.labels[i]) for i in leading(pred.window_scores, 5)]
    return (f"The scores (0 to 1) of the five leading labels over the {pred.duration_s:.1f} s of sound, "
            f"window by window: {', '.join(best)}.")


def _image(rgb: np.ndarray, request: str) -> Image.Image:
    """A figure's pixels as a PIL image carrying the request's id in its PNG metadata. Gradio
    stores each output image under a hash of its bytes and rewrites the file when the same bytes
    come again: two requests with the same answer (the same example, at once) would share one
    file, and one of them could download it while the other truncates it. The id keeps every
    request's file its own."""
    img = Image.fromarray(rgb)
    img.info["soundpred-request"] = request
    return img


def build_app(predictor: Predictor, settings: Settings = Settings(), *, warm: bool = True) -> gr.Blocks:
    """The Blocks app. ``warm`` runs :meth:`Predictor.warm_up` and draws each figure before
    serving, so the first person's answer is as fast as the next one's (Keras traces the models
    and matplotlib loads its fonts on first use). Whoever launches it deletes what it keeps:
    :func:`main` runs a :class:`CacheCleaner`."""
    fe = predictor.classifier.frontend
    # figures reused across requests (the per-request cost was mostly building them), in each of
    # the page's themes
    painters = {theme: (SpectrogramPainter(n_mels=fe.n_mels, fmin=fe.fmin, fmax=fe.fmax, top_db=fe.top_db, theme=theme),
                        GaugePainter(theme=theme), TimelinePainter(theme=theme)) for theme in THEMES}
    # One limit for every endpoint: Gradio's queue bounds the events it starts per concurrency
    # id, but live streams must not hold a slot while they wait for the browser's next chunk (a
    # dropped client would keep it until LIVE_LIMIT): they take this semaphore only to compute.
    slots = threading.BoundedSemaphore(settings.concurrency)
    analyses = itertools.count(1)

    def analysed():
        if next(analyses) % TRIM_EVERY == 0:
            trim_malloc()  # what the last analyses freed, or the app's memory creeps up

    def run(source, spectrogram: bool, room: str = "auto"):
        if source is None or source == "":
            raise gr.Error("Record or upload a sound first.")
        try:
            with slots:
                pred = predictor.predict(source, spectrogram=spectrogram, room=room or "auto")
        except AudioError as e:
            raise gr.Error(str(e)) from None
        except Exception as e:  # a bug, not the person's fault: say so, log it, keep serving
            log.exception("analysis failed")
            raise gr.Error(f"Something went wrong analysing this sound ({type(e).__name__}). "
                           "Please try another file.") from None
        finally:
            analysed()  # refused files count too: decoding them can take as much memory
        pred.warnings[:0] = predictor.warnings  # e.g. a Hub model replaced by the embedded default
        return pred

    def figures(pred: Prediction, theme: str = "light"):
        spectrogram, gauge_painter, timeline_painter = painters.get(theme, painters["light"])
        request = uuid.uuid4().hex
        spec = _image(spectrogram.rgb(pred.spectrogram, hop_s=pred.spectrogram_hop_s), request)
        gauge = None if pred.distance_m is None else _image(
            gauge_painter.rgb(pred.distance_m, pred.distance_interval_m), request)
        many = len(pred.window_times) > 1
        timeline = _image(timeline_painter.rgb(pred.window_times, pred.window_scores, pred.labels), request) \
            if many else None
        return spec, gauge, timeline, many

    def analyze(path, room="auto", theme="light"):
        pred = run(path, spectrogram=True, room=room)
        spec, gauge, timeline, many = figures(pred, theme)
        return (_known_md(pred), spec, _labels(pred), _distance_md(pred), gauge,
                gr.update(value=timeline, visible=many, alt_text=_timeline_alt(pred) if many else None),
                _models_md(pred))

    # each press of Record is one streaming event, and Gradio hands every call of that event the
    # same gr.Request: its token tells a new stream from the last one's leftover buffer
    streams, stream_ids, stream_lock = weakref.WeakKeyDictionary(), itertools.count(1), threading.Lock()

    def stream_token(request: gr.Request | None) -> int | None:
        if request is None:
            return None
        with stream_lock:
            token = streams.get(request)
            if token is None:
                token = streams[request] = next(stream_ids)
                log.info("live: a stream started")  # the log says that the browser's audio arrives
        return token

    def live(chunk, buffer, room, request: gr.Request):
        """Streaming microphone: keep the last LIVE_DISTANCE_SECONDS of this stream at the
        microphone's own rate (so that the Predictor counts a clipped microphone's flat runs and
        restores them for the distance, as for an upload: resampled first, they are smeared) and
        analyse them at most once every LIVE_EVERY s (a client that sends faster gets no more of
        the CPU): the labels from the last LIVE_SECONDS, the distance from all of it. The page's
        state outlives a stream: a new press of Record starts from silence, not from the audio of
        the last one, and so does a change of rate. ``room``: the Live tab's Room menu, read with
        every chunk."""
        if chunk is None:
            return gr.update(), gr.update(), gr.update(), buffer
        stamp = time.strftime("%H:%M:%S")
        token = stream_token(request)
        y, rate, last = (np.zeros(0, np.float32), None, 0.0) if buffer is None or buffer[0] != token else buffer[1:]
        try:
            d = audio.read(chunk, max_seconds=settings.max_seconds or None)  # at the microphone's rate
            y = (np.concatenate([y, d.samples]) if rate == d.rate else d.samples)[-int(LIVE_DISTANCE_SECONDS * d.rate):]
            rate = d.rate
            if time.monotonic() - last < 0.8 * LIVE_EVERY:
                return gr.update(), gr.update(), gr.update(), (token, y, rate, last)
            with slots:
                pred = predictor.predict((rate, y), spectrogram=False, label_seconds=LIVE_SECONDS, room=room or "auto")
            analysed()
        except AudioError as e:
            return "", {}, f"*{e}* · updated {stamp}", (token, y, rate, time.monotonic())
        return _live_known(pred), _labels(pred), _live_md(pred, stamp), (token, y, rate, time.monotonic())

    def predict(audio: FileData, room: str = "auto") -> dict:
        """Top-5 labels, open-set verdict, AudioSet classes and distance of an audio file, as JSON
        (the CLI's fields). Send the file with ``gradio_client.handle_file``; ``room`` (auto,
        small, medium, large) is the kind of room, for a distance model that takes it."""
        # gr.api hands over the request's JSON as is: only an uploaded file (which Gradio has
        # checked lies in its upload folder) is accepted, never a path string naming a server file
        if not (isinstance(audio, dict) and (audio.get("meta") or {}).get("_type") == "gradio.FileData"
                and isinstance(audio.get("path"), str)):
            raise gr.Error("Send the audio as a file (gradio_client.handle_file(path)).")
        return run(audio["path"], spectrogram=False, room=room).to_json()

    if warm:
        t0 = time.perf_counter()
        warm_pred = predictor.warm_up()
        for theme in THEMES:
            figures(warm_pred, theme)
        log.info("warmed up in %.1f s", time.perf_counter() - t0)

    # no delete_cache: Gradio 6.31's schedule dies on a request that adds a file during its pass;
    # main() runs a CacheCleaner instead
    def room_menu(elem_id: str) -> gr.Dropdown:
        """The Room menu (one per tab); only a distance model trained with room kinds can use one."""
        return gr.Dropdown(list(ROOM_KINDS), value="auto", label="Room", elem_id=elem_id,
                           visible=predictor.takes_room_hint,
                           info="small: booth, bathroom, car (< 50 m³) · medium: office, living room, "
                                "classroom · large: hall, church, atrium (> 1000 m³)")

    with gr.Blocks(title="soundpred") as demo:
        gr.Markdown("# soundpred\nRecord or upload a sound: see the spectrogram the model saw, the five most "
                    "likely of the 41 Freesound (FSDKaggle2018) labels, and how far the source was from "
                    "the microphone.")
        for w in predictor.warnings:
            gr.Markdown(f"⚠️ {w}", elem_classes="model-warning")
        with gr.Tab("Record or upload"):
            with gr.Row():
                with gr.Column(scale=1, min_width=300):
                    audio_in = gr.Audio(sources=["upload", "microphone"], type="filepath", label="Sound",
                                        buttons=["download", *share_button()])
                    room_in = room_menu("room")
                    button = gr.Button("Analyze again", variant="secondary")
                    # the page's theme, which THEME_JS reads as each analysis starts
                    theme_in = gr.Dropdown(list(THEMES), value="light", visible=False, label="theme")
                with gr.Column(scale=1, min_width=300):
                    known_out = gr.Markdown(elem_id="known")
                    labels_out = gr.Label(num_top_classes=5, label="Top-5 labels", elem_id="labels")
                    distance_out = gr.Markdown(elem_id="distance")
                    gauge_out = gr.Image(label="Distance", show_label=False, format="png", interactive=False,
                                         elem_id="gauge", buttons=[], height=150,
                                         alt_text="The distance above and its 90 % interval, on a scale from "
                                                  "0.3 to 20 m.")
            # the figures carry their own titles: Gradio's label box would cover their top left
            figure_buttons = ["download", *share_button(), "fullscreen"]  # Gradio's, where share works
            spec_out = gr.Image(label="Spectrogram (model input)", show_label=False, format="png",
                                interactive=False, elem_id="spectrogram", buttons=figure_buttons,
                                alt_text="Log-mel spectrogram of the sound, as the classifier hears it: time "
                                         "across, frequency up, loudness as colour.")
            timeline_out = gr.Image(label="Timeline of the leading labels", show_label=False, format="png",
                                    interactive=False, visible=False, elem_id="timeline", buttons=figure_buttons)
            info_out = gr.Markdown(elem_id="info")
            outputs = [known_out, spec_out, labels_out, distance_out, gauge_out, timeline_out, info_out]
            analysis = dict(fn=analyze, inputs=[audio_in, room_in, theme_in], outputs=outputs, js=THEME_JS,
                            concurrency_id="analysis", concurrency_limit=settings.concurrency)
            # an upload or a finished recording is analysed at once; the button re-runs
            button.click(**analysis, api_name="analyze")
            # a new room kind re-runs the analysis of the sound already there (nothing without one)
            again = dict(analysis, fn=lambda path, *rest: analyze(path, *rest) if path else tuple(
                gr.skip() for _ in outputs), api_visibility="private")
            room_in.input(**again)
            audio_in.upload(**analysis, api_name="analyze_upload", api_visibility="private")
            audio_in.stop_recording(**analysis, api_name="analyze_recording", api_visibility="private")
            examples = sorted(EXAMPLES.glob("*.wav"))
            if examples:
                shown = gr.Examples([[str(p)] for p in examples], inputs=[audio_in], cache_examples=False,
                                    label="Examples: the same speech simulated 1 m and 8 m from the microphone "
                                          "in one room (generated by soundpred, MIT)")
                # analysed as an upload is: in the room kind chosen and the page's theme
                shown.load_input_event.then(**analysis, api_visibility="private")
        with gr.Tab("Live"):
            gr.Markdown(f"Listens to the microphone and updates about every {LIVE_EVERY:g} s, for up to "
                        f"{LIVE_LIMIT // 60} minutes per start: the labels from the last {LIVE_SECONDS:g} s of "
                        f"sound, the distance from the last {LIVE_DISTANCE_SECONDS:g} s (stay at a place that "
                        f"long to read it there).")
            with gr.Row():
                with gr.Column():
                    live_in = gr.Audio(sources=["microphone"], streaming=True, type="filepath", label="Microphone",
                                       buttons=["download", *share_button()])
                    live_room = room_menu("live-room")
                with gr.Column():
                    live_known = gr.Markdown(elem_id="live-known")
                    live_labels = gr.Label(num_top_classes=5, label="Top-5 labels (live)", elem_id="live-labels")
                    live_distance = gr.Markdown(elem_id="live-distance")
            live_state = gr.State()
            live_in.stream(live, [live_in, live_state, live_room], [live_known, live_labels, live_distance, live_state],
                           stream_every=LIVE_EVERY, time_limit=LIVE_LIMIT, concurrency_limit=None,
                           api_visibility="private", show_progress="hidden")  # no dimming or timer each second
        # the two Room menus show one choice: each moves the other in the browser, and a kind chosen
        # on the Live tab also re-runs the first tab's analysis, as a kind chosen there does
        room_in.input(None, room_in, live_room, js="(room) => room")
        live_room.input(None, live_room, room_in, js="(room) => room").then(**again)
        gr.Markdown(f"<small>{MIC_NOTE} Limits: {settings.max_seconds:.0f} s of audio, "
                    f"{settings.max_file_size} per upload.</small>")
        gr.api(predict, api_name="predict", concurrency_id="analysis", concurrency_limit=settings.concurrency)
    return demo


def delete_old_files(demo: gr.Blocks, age: float | None) -> int:
    """Delete the uploads and figures ``demo`` keeps (its ``temp_file_sets``) that are more than
    ``age`` seconds old by their ctime (Gradio touches a cached file when it hands it out again),
    or all of them if ``age`` is None; return how many went.

    Gradio's own pass (``gradio.route_utils.delete_files_created_by_app``) iterates the live
    sets while requests add to them from other threads. "Set changed size during iteration"
    then ends its ``delete_cache`` schedule for good, silently. From then on no upload left
    the disk until the app stopped. This pass works on copies taken at once (``set.copy`` holds
    the GIL), takes away only what it deleted, and counts a file already gone as deleted."""
    keep = set()
    for block in list(demo.blocks.values()):
        keep.update(set(getattr(block, "keep_in_cache", ())))
    now, deleted = time.time(), 0
    for files in list(demo.temp_file_sets):
        gone = set()
        for f in files.copy():
            if f in keep:
                continue
            try:
                if age is None or now - os.lstat(f).st_ctime > age:
                    os.remove(f)
                    gone.add(f)
            except FileNotFoundError:
                gone.add(f)
            except OSError as e:  # one file that cannot go does not keep the others
                log.warning("could not delete %s: %s", f, e)
        files.difference_update(gone)
        deleted += len(gone)
    return deleted


class CacheCleaner:
    """Every ``every`` seconds, :func:`delete_old_files` with ``age``, on a daemon thread; a
    pass that fails is logged and the next one runs as planned. :meth:`stop` ends the schedule
    and deletes everything that is left."""

    def __init__(self, demo: gr.Blocks, every: float, age: float):
        self.demo, self.every, self.age = demo, every, age
        self.passes = self.failures = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="soundpred-cache-cleaner", daemon=True)

    def start(self) -> "CacheCleaner":
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                n = delete_old_files(self.demo, self.age)
                if n:
                    log.debug("deleted %d cached files older than %g s", n, self.age)
            except Exception:
                self.failures += 1
                log.exception("a pass of the cache cleaner failed; the next runs in %g s", self.every)
            self.passes += 1

    def stop(self) -> int:
        self._stop.set()
        self._thread.join(timeout=10)
        return delete_old_files(self.demo, None)


def stop_on_sigterm() -> None:
    """End the app on SIGTERM (how ``docker stop``, systemd and ``kill`` stop it) as on Ctrl-C:
    Gradio shuts its server down and :func:`main` deletes every upload and figure this run
    still keeps. Python's default for SIGTERM ends the process at once, leaving people's
    recordings on the disk for good."""
    def interrupt(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def main() -> None:
    stop_on_sigterm()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    settings = Settings.from_env()
    if limit_malloc_arenas(settings.malloc_arenas):
        log.info("glibc malloc arenas capped at %d (SOUNDPRED_MALLOC_ARENAS)", settings.malloc_arenas)
    demo = build_app(load_predictor(settings), settings)
    cleaner = CacheCleaner(demo, every=min(600, settings.cache_seconds), age=settings.cache_seconds).start()
    try:
        demo.queue(default_concurrency_limit=settings.concurrency, max_size=settings.queue_size).launch(
            server_name=settings.server_name, max_file_size=settings.max_file_size, css=CSS,
            head=MIC_HEAD + THEME_HEAD, run_history=settings.run_history)
    finally:
        # at once: Gradio's own shutdown would wait for every connection to close (an open
        # browser tab keeps one open) and give up after 5 s
        cleaner.stop()
        log.info("deleted the uploads and figures of this run")


if __name__ == "__main__":
    main()
