"""The app, started as `python app.py` would be, answering real gradio_client calls over HTTP."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pytest
import soundfile as sf

from .conftest import ROOT, STARTER, needs_starter, tone


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    port = free_port()
    env = {**os.environ, "GRADIO_SERVER_PORT": str(port), "GRADIO_ANALYTICS_ENABLED": "False",
           "HF_HUB_OFFLINE": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
    env.pop("SOUNDPRED_CLASSIFIER", None)
    log = open(tmp_path_factory.mktemp("app") / "app.log", "w+")
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None:
            log.seek(0)
            pytest.fail(f"app exited: {log.read()[-3000:]}")
        try:
            urllib.request.urlopen(url, timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("app did not start in 120 s")
    yield url
    proc.terminate()
    proc.wait(timeout=30)


@pytest.fixture(scope="module")
def client(app_url):
    from gradio_client import Client

    return Client(app_url, verbose=False)


@pytest.mark.slow
@needs_starter
def test_predict_endpoint_real_clip(client):
    from gradio_client import handle_file

    import csv
    rows = [r for r in csv.DictReader(open(STARTER / "test_post_competition.csv")) if r["label"] == "Bark"]
    clip = STARTER / "audio_test" / rows[0]["fname"]
    res = client.predict(handle_file(str(clip)), api_name="/predict")
    labels = [t["label"] for t in res["top"]]
    assert len(labels) == 5 and "Bark" in labels
    assert res["models"]["classifier"]["source"] == "embedded default"
    assert "distance_m" in res


@pytest.mark.slow
def test_analyze_endpoint_returns_plot_and_labels(client, tmp_path):
    from gradio_client import handle_file

    p = tmp_path / "tone.wav"
    sf.write(p, tone(22050, 2.0, freq=500), 22050)
    plot, labels, info = client.predict(handle_file(str(p)), api_name="/analyze")
    assert plot is not None and plot.get("type") == "matplotlib" or "plot" in str(plot)[:2000]
    assert len(labels["confidences"]) == 5
    assert "Classifier" in info


@pytest.mark.slow
def test_bad_upload_gives_clear_error_and_server_keeps_serving(client, tmp_path):
    from gradio_client import handle_file

    bad = tmp_path / "bad.wav"
    bad.write_text("not audio at all\n" * 10)
    with pytest.raises(Exception, match="Could not decode"):
        client.predict(handle_file(str(bad)), api_name="/predict")
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros(16000, np.int16), 16000)
    with pytest.raises(Exception, match="No sound detected"):
        client.predict(handle_file(str(silent)), api_name="/predict")
    ok = tmp_path / "ok.wav"
    sf.write(ok, tone(16000, 1.0), 16000)
    assert len(client.predict(handle_file(str(ok)), api_name="/predict")["top"]) == 5
