"""The app's microphone path in Chromium: what the browser's own processing does to the sound the
models hear. Prints figures, asserts nothing.

    python -m bench.microphone [--seconds 10.5] [EXAMPLE.wav ...]

For each example (default: the two speech examples, 1 m and 8 m from the microphone in one
room), Chromium's fake capture device plays it in a loop (48 kHz stereo, 16-bit) and the first tab
of ``python app.py`` records ``--seconds`` of it, twice: as the page asks (plain audio: no echo
cancellation, noise suppression or automatic gain, ``app.MIC_HEAD``) and with Chromium's
defaults (an init script marks getUserMedia as already handled, so the page's request is not
made). Printed for each: the processing the browser reports for the track, the distance the app
shows, and the recording the app received: its RMS and the 10th, 50th and 90th percentiles of its
20-ms levels, beside the example file's own and the models' distance on the file itself.
Needs Debian's chromium and Playwright (the browser tests' setup); a few minutes in all.
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = [ROOT / "examples" / f"speech_{d}m_meeting_room.wav" for d in (1, 8)]
#: what the page reports for a fresh microphone track (the same call Gradio makes)
TRACK_SETTINGS = """async () => {
  const stream = await navigator.mediaDevices.getUserMedia({audio: true});
  const s = stream.getAudioTracks()[0].getSettings();
  stream.getTracks().forEach(t => t.stop());
  return {echoCancellation: s.echoCancellation, noiseSuppression: s.noiseSuppression, autoGainControl: s.autoGainControl};
}"""


def levels(y: np.ndarray, sr: int) -> str:
    """RMS and percentiles of the 20-ms levels, dBFS."""
    from train.mic_processing import levels_db

    p10, p50, p90 = levels_db(y, sr)
    return (f"RMS {10 * np.log10(np.mean(y ** 2) + 1e-12):6.1f} dBFS, 20-ms levels p10 {p10:6.1f} "
            f"p50 {p50:6.1f} p90 {p90:6.1f}")


def record(page, url: str, seconds: float, uploads: Path) -> tuple[dict, str, Path]:
    """Record ``seconds`` on the first tab; the track settings, the distance line shown, and the
    recording the app received (the newest audio file in its upload folder)."""
    from playwright.sync_api import expect

    from tests.test_browser import _record, _wait_for_quiet_network

    page.goto(url)
    _wait_for_quiet_network(page)
    settings = page.evaluate(TRACK_SETTINGS)
    _record(page, seconds)
    distance = page.locator("#distance")
    expect(distance).to_contain_text("90 % interval", timeout=120_000)
    shown = next(line for line in distance.inner_text().splitlines() if "Distance ≈" in line)
    newest = max((f for f in uploads.rglob("*.wav") if f.is_file()), key=lambda f: f.stat().st_mtime)
    return settings, shown, newest


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("examples", nargs="*", type=Path, default=EXAMPLES)
    ap.add_argument("--seconds", type=float, default=10.5, help="recording length (default 10.5)")
    args = ap.parse_args(argv)

    import soundfile as sf
    import soxr
    from playwright.sync_api import sync_playwright

    from soundpred.audio import load
    from soundpred.predict import Predictor
    from tests.conftest import running_app
    from tests.test_browser import ARGS, CHROMIUM

    predictor = Predictor.from_specs()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        uploads = tmp / "gradio"
        with running_app(tmp / "app.log", GRADIO_TEMP_DIR=str(uploads)) as app, sync_playwright() as p:
            for example in args.examples:
                y = load(example, sr=16000)
                pred = predictor.predict((16000, y), spectrogram=False)
                print(f"{example.name}: the file itself, distance {pred.distance_m:.2f} m; {levels(y, 16000)}")
                y48, sr = sf.read(example, dtype="float32")
                y48 = soxr.resample(y48 if y48.ndim == 1 else y48.mean(axis=1), sr, 48000)
                mic = tmp / "mic.wav"
                sf.write(mic, np.stack([y48, y48], axis=1), 48000, subtype="PCM_16")
                browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS + [
                    "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                    f"--use-file-for-fake-audio-capture={mic}"])
                for mode in ("as the page asks", "Chromium's defaults"):
                    context = browser.new_context(permissions=["microphone"], viewport={"width": 1280, "height": 1100})
                    if mode == "Chromium's defaults":
                        context.add_init_script("navigator.mediaDevices.soundpredPlainAudio = true;")
                    settings, shown, recording = record(context.new_page(), app.url, args.seconds, uploads)
                    got = load(recording, sr=16000)
                    processing = ", ".join(k for k, v in settings.items() if v) or "none"
                    print(f"  recorded, {mode:20s} (processing: {processing}): app shows {shown.strip('# ')}; "
                          f"{levels(got, 16000)}; {len(got) / 16000:.1f} s")
                    context.close()
                browser.close()


if __name__ == "__main__":
    main()
