"""The app in Debian's Chromium, driven by Playwright: upload, microphone (fake capture device)
and live mode. Screenshots go to tests/artifacts/ for inspection."""
from __future__ import annotations

import contextlib
import re
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from .conftest import ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
EXAMPLE_1M = ROOT / "examples" / "speech_1m_meeting_room.wav"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]

#: What the page's getUserMedia gives: echo cancellation, noise suppression, automatic gain, device.
ASKS = """async (audio) => {
  const stream = await navigator.mediaDevices.getUserMedia({audio});
  const s = stream.getAudioTracks()[0].getSettings();
  stream.getTracks().forEach(t => t.stop());
  return [s.echoCancellation, s.noiseSuppression, s.autoGainControl, s.deviceId];
}"""

pytestmark = [pytest.mark.browser, pytest.mark.slow,
              pytest.mark.skipif(shutil.which("chromium") is None, reason="needs Debian's chromium")]


@pytest.fixture(scope="module")
def fake_mic_wav(tmp_path_factory):
    """The 1 m example as 48 kHz 16-bit stereo, which Chromium's fake capture device plays in a loop."""
    import soxr

    y, sr = sf.read(EXAMPLE_1M, dtype="float32")
    y = soxr.resample(y, sr, 48000)
    path = tmp_path_factory.mktemp("mic") / "mic.wav"
    sf.write(path, np.stack([y, y], axis=1), 48000, subtype="PCM_16")
    return path


@pytest.fixture()
def browser_page(fake_mic_wav):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS + [
            "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-audio-capture={fake_mic_wav}"])
        context = browser.new_context(viewport={"width": 1280, "height": 1100}, permissions=["microphone"])
        page = context.new_page()
        yield page
        browser.close()


def test_upload_is_analysed_at_once(app_url, browser_page, artifacts):
    """An upload is analysed without pressing anything; "Analyze again" re-runs it. No "Share"
    button off Spaces (there it only shows an error); the figures have words for screen readers.
    The browser keeps no run history (Gradio's would keep that button's runs, link them in the
    footer and replay them without their labels)."""
    from playwright.sync_api import expect

    page = browser_page
    page.goto(app_url)
    page.locator("input[type=file]").first.set_input_files(str(EXAMPLE_1M))
    expect(page.locator("#distance")).to_contain_text("Distance ≈", timeout=90_000)
    expect(page.locator("#distance")).to_contain_text(re.compile(r"90 % interval \d+\.\d – \d+\.\d m"))
    expect(page.locator("#info")).to_contain_text("Classifier")
    expect(page.locator(".confidence-set")).to_have_count(5)
    expect(page.locator("#spectrogram img")).to_be_visible()
    expect(page.locator("#spectrogram").get_by_label("Download")).to_be_visible()
    # words for screen readers (Gradio's images are decorative without them)
    expect(page.locator("#spectrogram img")).to_have_attribute("alt", re.compile("^Log-mel spectrogram of the sound"))
    expect(page.locator("#gauge img")).to_have_attribute("alt", re.compile("90 % interval"))
    expect(page.locator("#timeline img")).to_have_attribute(
        "alt", re.compile(r"five leading labels over the 10\.\d s of sound, window by window: \w"))
    expect(page.get_by_role("button", name="Share")).to_have_count(0)  # it works on Spaces only
    page.wait_for_timeout(1000)
    page.screenshot(path=str(artifacts / "app_upload.png"), full_page=True)
    first = page.locator("#info").inner_text()
    page.get_by_role("button", name="Analyze again").click()
    expect(page.locator("#info")).not_to_have_text(first, timeout=60_000)  # a new run, a new time
    page.reload()
    expect(page.locator("footer")).to_contain_text("Settings")
    expect(page.locator("footer")).not_to_contain_text("Runs")
    assert page.request.get(f"{app_url}gradio_api/runs").status == 404


def test_phone_layout(app_url, fake_mic_wav, artifacts):
    """At 390 x 844 (a phone), the page does not scroll sideways, the figures fill the width
    and the results of an upload show without a press; the image buttons cover no scale."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                is_mobile=True, has_touch=True)
        page.goto(app_url)
        page.locator("input[type=file]").first.set_input_files(str(ROOT / "examples" / "speech_8m_meeting_room.wav"))
        expect(page.locator("#distance")).to_contain_text("Distance ≈", timeout=90_000)
        expect(page.locator("#timeline img")).to_be_visible(timeout=30_000)
        page.wait_for_timeout(1000)
        page.screenshot(path=str(artifacts / "app_phone.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        for fig in ("#spectrogram img", "#timeline img"):
            box = page.locator(fig).bounding_box()
            assert box["width"] >= 300, (fig, box)  # the figure spans the screen, not a thumbnail
        # the image buttons (top right) leave the top of the spectrogram's colour bar and its "0" in sight
        img = page.locator("#spectrogram img")
        box = img.bounding_box()
        natural_w, natural_h = img.evaluate("img => [img.naturalWidth, img.naturalHeight]")
        shown_h = min(box["height"], box["width"] * natural_h / natural_w)  # object-fit: contain
        bar_top = box["y"] + (box["height"] - shown_h) / 2 + (1 - _colour_bar_top()) * shown_h
        buttons = max(b["y"] + b["height"] for b in (
            page.locator("#spectrogram").get_by_label(name).bounding_box() for name in ("Fullscreen", "Download")))
        assert bar_top > buttons + 8, (bar_top, buttons)  # 8 px: half the "0" above the bar's top
        browser.close()


def _colour_bar_top() -> float:
    """Where the app's spectrogram figure puts the top of its colour bar (0: bottom, 1: top)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from soundpred.plots import spectrogram_figure

    fig = spectrogram_figure(np.zeros((10, 64), np.float32) - 1, hop_s=0.01)
    FigureCanvasAgg(fig).draw()  # the colour bar's place is settled when it is drawn
    return fig.axes[1].get_position().y1


def test_microphone_records_and_predicts(app_url, browser_page, artifacts):
    from playwright.sync_api import expect

    page = browser_page
    page.goto(app_url)
    _record(page, seconds=4)
    # the finished recording is analysed at once
    expect(page.locator("#distance")).to_contain_text("Distance ≈", timeout=90_000)
    expect(page.locator(".confidence-set")).to_have_count(5)
    page.screenshot(path=str(artifacts / "app_microphone.png"), full_page=True)


def test_the_page_asks_for_plain_microphone_audio(app_url, fake_mic_wav):
    """The page asks for microphone audio without the browser's echo cancellation, noise
    suppression and automatic gain (bench/microphone.py: in Chromium they moved the 1 m example's
    reading from 1.5 to 2.0 m), for Gradio's plain ``{audio: true}`` and for the microphone it names,
    which it keeps; without the page's script (an init script marks the call as handled)
    Chromium applies all three, so the test can tell. Gradio adds the script once the page has
    its config, long before anyone can press Record."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS + [
            "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-audio-capture={fake_mic_wav}"])
        plain = browser.new_context(permissions=["microphone"]).new_page()
        plain.goto(app_url)
        _wait_for_quiet_network(plain)  # Gradio puts the app's head into the page once its config has come
        assert plain.evaluate(ASKS, True)[:3] == [False, False, False]
        # Gradio's recorder names the chosen microphone: that is kept
        device = plain.evaluate(ASKS, True)[3]
        assert plain.evaluate(ASKS, {"deviceId": {"exact": device}}) == [False, False, False, device]
        default = browser.new_context(permissions=["microphone"])
        default.add_init_script("navigator.mediaDevices.soundpredPlainAudio = true;")
        page = default.new_page()
        page.goto(app_url)
        _wait_for_quiet_network(page)
        assert page.evaluate(ASKS, True)[:3] == [True, True, True]
        browser.close()


def _wait_for_quiet_network(page, quiet_s: float = 1.0, timeout_s: float = 60.0) -> None:
    """Wait until the page has had no request in flight for ``quiet_s`` (Gradio's heartbeat, an
    event stream that stays open, aside), as a person reads a tab before pressing its buttons."""
    import time

    in_flight, last = set(), [time.monotonic()]

    def started(r):
        if "heartbeat" not in r.url:
            in_flight.add(r)
            last[0] = time.monotonic()

    def ended(r):
        in_flight.discard(r)
        last[0] = time.monotonic()

    page.on("request", started)
    page.on("requestfinished", ended)
    page.on("requestfailed", ended)
    deadline = time.monotonic() + timeout_s
    try:
        while in_flight or time.monotonic() - last[0] < quiet_s:
            assert time.monotonic() < deadline, f"requests still open after {timeout_s:.0f} s: " \
                                                f"{sorted(r.url for r in in_flight)[:5]}"
            page.wait_for_timeout(100)
    finally:
        page.remove_listener("request", started)
        page.remove_listener("requestfinished", ended)
        page.remove_listener("requestfailed", ended)


def test_live_mode_updates(app_process, browser_page, artifacts):
    """Live mode updates about every second, without a progress timer over the readings; after
    Stop and Record, the readings start afresh; a room kind chosen on the tab reaches them.

    Gradio 6.31's streaming microphone loads its WAV encoder (two scripts and a worker) when the
    Live tab first opens; a Record pressed before that has finished records nothing, and the page
    only throws "ge is not a constructor" (this failed CI beside the training tests). So the test
    waits for the tab's scripts as a person would, and if the page still throws that, presses
    Stop and Record again, as a person would; any other silence fails."""
    from playwright.sync_api import expect

    page = browser_page
    console = []  # what the page logged and threw, for the message if no update comes
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
    page.goto(app_process.url)
    page.get_by_role("tab", name="Live").click()
    _wait_for_quiet_network(page)
    record = page.get_by_role("button", name="Record", exact=True).locator("visible=true").first
    record.click()
    live = page.locator("#live-distance")
    # the first update waits for the models' first call; beside the suite's training tests on 2
    # cores that took over 60 s once (alone, all five browser tests take 41 s). Speed is the
    # benchmark's to measure, not this test's
    pressed_again = False
    try:
        for _ in range(600):  # 150 s
            if "updated" in live.inner_text():
                break
            if not pressed_again and any("is not a constructor" in c for c in console):
                pressed_again = True  # Gradio's recorder was not ready: Stop, then Record again
                page.get_by_role("button", name="Stop", exact=True).locator("visible=true").first.click()
                record.click()
            page.wait_for_timeout(250)
        expect(live).to_contain_text("updated", timeout=1)
    except AssertionError as e:  # it has failed under load, never alone: keep what the page showed
        page.screenshot(path=str(artifacts / "app_live_failed.png"), full_page=True)
        raise AssertionError(f"{e}\n(pressed Record again: {pressed_again})\n--- page console (last 30) ---\n"
                             + "\n".join(console[-30:]) + f"\n--- app log (end) ---\n{app_process.log_tail()}") \
            from None
    seen, timers = set(), []
    for _ in range(80):  # up to 20 s for three updates
        text = live.inner_text()
        m = re.search(r"updated (\d\d:\d\d:\d\d)", text)
        if m:
            seen.add(m.group(1))
        # no progress timer (Gradio's "0.3s") nor dimming over the readings while each update runs:
        # their status trackers stay hidden (class "hide": Gradio keeps them in the page, transparent)
        trackers = page.locator("#live-known, #live-labels, #live-distance").locator(
            "[data-testid=status-tracker]:not(.hide)")
        timers += [t for t in trackers.all_inner_texts() if t.strip()]
        if len(seen) >= 3:
            break
        page.wait_for_timeout(250)
    page.screenshot(path=str(artifacts / "app_live.png"), full_page=True)
    assert len(seen) >= 3, f"live mode gave {len(seen)} distinct updates"
    assert not timers, f"the live readings showed a progress timer: {timers[:5]}"
    assert "live: a stream started" in app_process.log_tail(100_000)  # the app logs a page's first chunk
    text = live.inner_text()
    assert "Distance ≈" in text and "8 s or more" not in text  # no tip while live
    assert "#" not in text and "Distance from the last" in text  # markdown rendered, not shown as text
    assert live.locator("h3").inner_text().startswith("Distance ≈")
    # the fake microphone plays the speech example: the verdict sits above the labels, which
    # list the five closest without the first one's name as a heading
    expect(page.locator("#live-known")).to_contain_text("sounds like: Speech")
    assert page.locator("#live-labels h2").count() == 0

    # Stop, then Record again: the new stream's readings are heard from it alone (a stream's
    # buffer once outlived it, and the next readings held 8 s of the last one)
    def heard() -> tuple[float, str]:
        text = live.inner_text()
        return (float(re.search(r"Distance from the last ([\d.]+) s", text).group(1)),
                re.search(r"updated (\S+)\*?", text).group(1))

    def starts() -> int:  # the whole log (log_tail's window could slide between two reads)
        return app_process.log.read_text(errors="replace").count("live: a stream started")

    for _ in range(120):  # until the first stream has been heard for 4 s or more
        if heard()[0] >= 4:
            break
        page.wait_for_timeout(250)
    assert heard()[0] >= 4, live.inner_text()
    page.get_by_role("button", name="Stop", exact=True).locator("visible=true").first.click()
    page.wait_for_timeout(1500)  # the stopped stream's last reading, if any, lands first
    before, started = heard()[1], starts()
    record.click()
    for _ in range(240):  # 60 s
        if heard()[1] != before:
            break
        page.wait_for_timeout(250)
    seconds, stamp = heard()
    assert stamp != before, "no reading after Record was pressed again"
    assert seconds < 3, f"the new stream's first reading was heard from {seconds} s: {live.inner_text()}"
    assert starts() == started + 1  # one new stream, and a log line for it

    # the Live tab's Room menu reaches the stream's next readings, and the first tab's menu shows it
    page.locator("#live-room input").click()
    page.get_by_role("option", name="large").click()
    expect(live).to_contain_text("for a large room", timeout=30_000)
    page.get_by_role("tab", name="Record or upload").click()
    expect(page.locator("#room input")).to_have_value("large")


FIGURES = ("#spectrogram", "#gauge", "#timeline")


def _figure_backgrounds(page, before: dict | None = None) -> dict:
    """Each figure's background (the top-left pixel of the picture the app serves) and its box's,
    as ``rgb(r, g, b)`` (given ``before``, the sources :func:`_figure_sources` gave, once each has a
    new one: the page swaps the pictures in a little after the text)."""
    import io
    import urllib.request

    from PIL import Image
    from playwright.sync_api import expect

    out = {}
    for fig in FIGURES:
        img = page.locator(f"{fig} img")
        if before:
            expect(img).not_to_have_attribute("src", before[fig], timeout=30_000)
        with urllib.request.urlopen(img.evaluate("img => img.src"), timeout=30) as response:
            corner = Image.open(io.BytesIO(response.read())).convert("RGB").getpixel((2, 2))
        out[fig] = ("rgb({}, {}, {})".format(*corner),
                    page.locator(fig).evaluate("el => getComputedStyle(el).backgroundColor"))
    return out


def _figure_sources(page) -> dict:
    return {fig: page.locator(f"{fig} img").get_attribute("src") for fig in FIGURES}


def test_figures_follow_the_page_theme(app_url, artifacts):
    """The figures are drawn in the page's theme as each analysis starts, so that each one's
    background is its box's: light at first; when the system turns dark while the page is open
    (Gradio follows the system's preference), the figures shown are drawn anew in dark, and so
    are those of "Analyze again" and of an example."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1100}, color_scheme="light")
        page.goto(app_url)
        page.locator("input[type=file]").first.set_input_files(str(EXAMPLE_1M))
        expect(page.locator("#distance")).to_contain_text("Distance ≈", timeout=90_000)
        expect(page.locator("#timeline img")).to_be_visible(timeout=30_000)
        light = _figure_backgrounds(page)
        assert all(fig == box == "rgb(255, 255, 255)" for fig, box in light.values()), light

        before = _figure_sources(page)
        page.emulate_media(color_scheme="dark")  # the figures shown are drawn anew, unasked
        expect(page.locator("body")).to_have_class(re.compile(r"\bdark\b"))
        dark = _figure_backgrounds(page, before)
        assert all(fig == box != "rgb(255, 255, 255)" for fig, box in dark.values()), dark

        before = _figure_sources(page)
        page.get_by_role("button", name="Analyze again").click()
        assert _figure_backgrounds(page, before) == dark

        before = _figure_sources(page)
        page.get_by_text("speech_8m_meeting_room.wav").click()  # an example
        assert _figure_backgrounds(page, before) == dark
        page.wait_for_timeout(500)
        page.screenshot(path=str(artifacts / "app_dark.png"), full_page=True)
        browser.close()


def test_room_menu_with_a_model_that_takes_it(tmp_path, fake_mic_wav, artifacts):
    """With a distance model trained with room kinds (here a tiny one whose hint matters), the
    page shows the Room menu; choosing a kind re-runs the analysis of the sound already there and
    the distance changes. An example is analysed in the kind chosen, as an upload is. The Live
    tab's menu shows the same kind, and a kind chosen there re-runs the first tab's analysis."""
    import keras
    from playwright.sync_api import expect, sync_playwright

    from soundpred.bundle import save_bundle
    from soundpred.models import DISTANCE_FRONTEND, build_distance

    from .conftest import running_app

    keras.utils.set_random_seed(0)
    model = build_distance(DISTANCE_FRONTEND, width=4, room_hint=True)
    model.get_layer("hint_embedding").set_weights([np.eye(4, 16, dtype=np.float32) * 5, np.zeros(16, np.float32)])
    folder = save_bundle(model, tmp_path / "hint", frontend=DISTANCE_FRONTEND, task="distance", name="tiny-hint")
    with running_app(tmp_path / "app.log", SOUNDPRED_DISTANCE=str(folder)) as app, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1100})
        page.goto(app.url)
        page.locator("input[type=file]").first.set_input_files(str(EXAMPLE_1M))
        distance = page.locator("#distance")
        expect(distance).to_contain_text("Distance ≈", timeout=90_000)
        before = distance.inner_text()
        page.locator("#room input").click()
        page.get_by_role("option", name="large").click()
        expect(distance).not_to_have_text(before, timeout=60_000)
        expect(page.locator(".progress-text")).to_have_count(0, timeout=30_000)  # every output settled
        large = distance.inner_text()
        assert "for a large room" in large and "room (" not in before
        page.get_by_text("speech_8m_meeting_room.wav").click()
        expect(distance).not_to_have_text(large, timeout=60_000)
        page.get_by_text(EXAMPLE_1M.name).click()  # the same sound as the upload above, as an example
        expect(distance).to_have_text(large, timeout=60_000)
        # a kind chosen on the Live tab is the first tab's too, and its analysis follows
        page.get_by_role("tab", name="Live").click()
        expect(page.locator("#live-room input")).to_have_value("large")
        page.locator("#live-room input").click()
        page.get_by_role("option", name="small").click()
        page.get_by_role("tab", name="Record or upload").click()
        expect(page.locator("#room input")).to_have_value("small")
        expect(distance).to_contain_text("for a small room", timeout=60_000)
        page.screenshot(path=str(artifacts / "app_room.png"), full_page=True)
        browser.close()


def test_the_app_embedded_in_a_blog_post(app_url, fake_mic_wav, tmp_path, artifacts):
    """The README's two ways to put the app into a web page, on a page that another real HTTP
    server serves from another site (``localhost``; the app is on ``127.0.0.1``):

    - an iframe with ``allow="microphone"``: the microphone records and the recording is
      analysed, with the plain audio the app asks for;
    - the ``<gradio-app>`` web component: the README's script is Gradio's CDN copy of the
      installed Gradio's ``gradio.js``, which imports the bundle next to it; the installed
      package's own copy of those files stands in for the CDN (no network here). An upload is
      analysed, in the component's dark theme, and the app's microphone script reaches the host page;
    - an iframe without ``allow="microphone"``: Record says why nothing records (Gradio alone
      shows nothing), with a link to the app in its own tab, and an upload still works."""
    import gradio
    from playwright.sync_api import expect, sync_playwright

    readme = (ROOT / "README.md").read_text()
    assert f"https://gradio.s3-us-west-2.amazonaws.com/{gradio.__version__}/gradio.js" in readme
    assert 'allow="microphone"' in readme
    site = tmp_path / "site"
    site.mkdir()
    (site / "cdn").symlink_to(Path(gradio.__file__).parent / "templates" / "frontend")

    def post(name, body, head=""):
        (site / name).write_text(f"<!doctype html><html><head><meta charset='utf-8'><title>A post</title>{head}"
                                 f"</head><body><h1>A post</h1><p>Some words first.</p>{body}"
                                 "<p>Some words after.</p></body></html>")

    post("iframe.html", f'<iframe id="app" src="{app_url}" allow="microphone" width="100%" height="1200"></iframe>')
    post("no-microphone.html", f'<iframe id="app" src="{app_url}" width="100%" height="1200"></iframe>')
    post("component.html", f'<gradio-app src="{app_url}" theme_mode="dark"></gradio-app>',
         head='<script type="module" src="cdn/gradio.js"></script>')
    with _site(site) as blog, sync_playwright() as p:
        assert not blog.startswith(app_url.rsplit(":", 1)[0])  # another site than the app's
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS + [
            "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-audio-capture={fake_mic_wav}"])
        context = browser.new_context(viewport={"width": 1280, "height": 1000}, permissions=["microphone"])

        page = context.new_page()
        page.goto(f"{blog}/iframe.html")
        app = page.frame_locator("#app")
        _record(app, seconds=4)
        expect(app.locator("#distance")).to_contain_text("Distance ≈", timeout=90_000)
        frame = next(f for f in page.frames if f.url.startswith(app_url))
        assert frame.evaluate(ASKS, True)[:3] == [False, False, False]
        page.screenshot(path=str(artifacts / "embed_iframe.png"), full_page=True)

        page = context.new_page()
        page.goto(f"{blog}/component.html")
        page.locator("gradio-app input[type=file]").first.set_input_files(str(EXAMPLE_1M))
        expect(page.locator("#distance")).to_contain_text("Distance ≈", timeout=90_000)
        expect(page.locator(".confidence-set")).to_have_count(5)
        expect(page.locator("#timeline img")).to_be_visible(timeout=30_000)
        dark = _figure_backgrounds(page)  # in the component's theme, as the page around them
        assert all(fig == box != "rgb(255, 255, 255)" for fig, box in dark.values()), dark
        assert page.evaluate(ASKS, True)[:3] == [False, False, False]
        page.screenshot(path=str(artifacts / "embed_component.png"), full_page=True)

        page = context.new_page()
        page.goto(f"{blog}/no-microphone.html")
        app = page.frame_locator("#app")
        _record(app, seconds=0)
        message = app.locator("#soundpred-mic-message")
        expect(message).to_contain_text('its iframe needs allow="microphone"', timeout=30_000)
        expect(message).to_contain_text("Uploading a recording still works")
        assert message.get_by_role("link").get_attribute("href").startswith(app_url)
        expect(message).to_be_in_viewport()
        page.screenshot(path=str(artifacts / "embed_no_microphone.png"))
        _upload(app, EXAMPLE_1M)
        expect(app.locator("#distance")).to_contain_text("Distance ≈", timeout=90_000)
        browser.close()


def test_a_microphone_the_page_cannot_have_is_explained(app_url, tmp_path, artifacts):
    """Where the browser gives the page no microphone, Gradio's Record does nothing visible; the
    page says why, on both tabs, and the person can close the message and upload instead, or
    allow the microphone and record (the message goes):

    - the person (here headless Chromium, which refuses the prompt) did not allow it;
    - the page is plain http on a name other than localhost, as a network address is
      (``--host-resolver-rules`` sends ``soundpred.test`` to the app): browsers give such pages no
      ``navigator.mediaDevices`` at all."""
    from playwright.sync_api import expect, sync_playwright

    from app import MIC_HEAD

    port = app_url.rsplit(":", 1)[1].strip("/")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS + [
            "--use-fake-device-for-media-stream", "--host-resolver-rules=MAP soundpred.test 127.0.0.1"])
        refused = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
        refused.goto(app_url)
        _record(refused, seconds=0)
        message = refused.locator("#soundpred-mic-message")
        expect(message).to_contain_text("The browser did not let soundpred use the microphone", timeout=30_000)
        expect(message).to_be_in_viewport()
        refused.screenshot(path=str(artifacts / "microphone_refused.png"))
        message.get_by_role("button", name="Close").click()
        expect(message).to_have_count(0)
        refused.get_by_role("tab", name="Live").click()
        _wait_for_quiet_network(refused)  # the tab's recorder loads its encoder late (test_live_mode_updates)
        refused.get_by_role("button", name="Record", exact=True).locator("visible=true").first.click()
        expect(message).to_contain_text("The browser did not let soundpred use the microphone", timeout=30_000)
        # allowed now, Record records, and the message goes
        refused.context.grant_permissions(["microphone"], origin=app_url)
        refused.get_by_role("tab", name="Record or upload").click()
        refused.get_by_role("button", name="Record", exact=True).locator("visible=true").first.click()
        expect(message).to_have_count(0, timeout=30_000)
        time.sleep(2)
        refused.get_by_role("button", name="Stop", exact=True).locator("visible=true").first.click()
        expect(refused.locator("#distance")).to_contain_text("Distance ≈", timeout=90_000)

        insecure = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
        insecure.goto(f"http://soundpred.test:{port}/")
        assert insecure.evaluate("window.isSecureContext") is False
        _wait_for_quiet_network(insecure)  # the app's script is in; a second copy changes nothing
        insecure.add_script_tag(content=MIC_HEAD.removeprefix("<script>").removesuffix("</script>"))
        _record(insecure, seconds=0)
        message = insecure.locator("#soundpred-mic-message")
        expect(message).to_contain_text("only to pages served over https://", timeout=30_000)
        expect(message).to_contain_text(f"this page is http://soundpred.test:{port}.")
        expect(message).to_be_in_viewport()
        insecure.screenshot(path=str(artifacts / "microphone_insecure_phone.png"))
        _upload(insecure, EXAMPLE_1M)
        expect(insecure.locator("#distance")).to_contain_text("Distance ≈", timeout=90_000)
        browser.close()


def _record(where, seconds: float) -> None:
    """Switch the input from upload to the microphone and press Record; after ``seconds`` (if
    any), Stop. ``where``: a page or an iframe's locator (which has no ``wait_for_timeout``)."""
    where.get_by_label("Record audio").first.click()
    where.get_by_role("button", name="Record", exact=True).first.click()
    if seconds:
        time.sleep(seconds)
        where.get_by_role("button", name="Stop", exact=True).first.click()


def _upload(where, path: Path) -> None:
    """Switch the input back to upload, as a person would after the microphone failed, and upload."""
    where.get_by_label("Upload file").first.click()
    where.locator("input[type=file]").first.set_input_files(str(path))


@contextlib.contextmanager
def _site(folder: Path):
    """A real HTTP server for the files in ``folder``, reached as ``localhost`` (another site than
    the app's ``127.0.0.1``); yields its address."""
    import functools
    import http.server
    import threading

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
