"""Probe: what do lossy codecs and a telephone band cost the distance estimates?

    python -m train.probe_codecs                      # the embedded default, every card set and variant
    python -m train.probe_codecs runs/m3 --sets "held-out rooms" --variants opus-16 8k

People upload what their phones and apps make: voice memos in AAC, voice messages in Opus at
16-32 kbit/s, MP3s, calls recorded at 8 kHz. The simulation never codes its examples, and a
codec removes what it judges inaudible, which is often the quiet reverberant tail the distance
model listens to.

Each set's examples (:func:`train.distance_eval.held_out_sets`: the card's rooms, sources and
examples) are set to -25 dBFS RMS, joined into one recording with 0.5 s of silence between
them (so the codec runs on as in a long recording), written at 16 kHz and coded by ffmpeg as
the variant says (:data:`VARIANTS`; the compressed ones at 48 or 44.1 kHz, as phones record),
then read back by the app's own decoder (:func:`soundpred.audio.read`, 16 kHz mono), and each
example is cut back out. ffmpeg takes the codecs' own delays off (the lag found is 0 for every
variant with Debian 12's ffmpeg 5.1); a cross-correlation checks that and would take off any that remains.
``none`` takes the same path through a 16-bit WAV and reproduces the card.

Per set and variant: MAE, relative error, rank correlation over all examples and the mean within
rooms, the slope within rooms and the 10th-90th percentile of the estimates, as
``train.probe_mic_processing`` prints them; then each variant against ``none`` paired over rooms
(:func:`soundpred.metrics.paired_bootstrap`).
"""
from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from soundpred import audio
from soundpred.bundle import load_bundle
from train.distance_compare import estimates
from train.mic_processing import LEVEL_DBFS  # every example's RMS before coding, as before the processing
from train.probe_common import card_parser, card_sets, print_paired, score_set, summary_head

#: variant: (file suffix, ffmpeg output options). The rate is the file's (telephone: 8 kHz;
#: compressed: what phones record at); the app resamples whatever comes to 16 kHz.
VARIANTS = {
    "none": (".wav", ["-c:a", "pcm_s16le", "-ar", "16000"]),
    "8k": (".wav", ["-c:a", "pcm_s16le", "-ar", "8000"]),  # a telephone band: the rate alone
    "mp3-128": (".mp3", ["-c:a", "libmp3lame", "-b:a", "128k", "-ar", "44100"]),
    "mp3-64": (".mp3", ["-c:a", "libmp3lame", "-b:a", "64k", "-ar", "44100"]),
    "mp3-48": (".mp3", ["-c:a", "libmp3lame", "-b:a", "48k", "-ar", "44100"]),
    "mp3-32": (".mp3", ["-c:a", "libmp3lame", "-b:a", "32k", "-ar", "44100"]),
    "aac-64": (".m4a", ["-c:a", "aac", "-b:a", "64k", "-ar", "48000"]),  # a phone's voice memo
    "opus-32": (".ogg", ["-c:a", "libopus", "-b:a", "32k", "-ar", "48000"]),
    "opus-16": (".ogg", ["-c:a", "libopus", "-b:a", "16k", "-ar", "48000"]),  # a voice message
}
GAP_S = 0.5
SR = 16000


def _lag(reference: np.ndarray, decoded: np.ndarray, max_lag: int) -> int:
    """The delay (samples, >= -max_lag) at which ``decoded`` best matches ``reference``, from
    their first minute."""
    n = min(len(reference), len(decoded), 60 * SR)
    a, b = reference[:n], decoded[:n + max_lag]
    size = 1 << int(np.ceil(np.log2(len(a) + len(b))))
    corr = np.fft.irfft(np.fft.rfft(b, size) * np.conj(np.fft.rfft(a, size)), size)
    lags = np.r_[np.arange(0, max_lag + 1), np.arange(-max_lag, 0)]
    return int(lags[np.argmax(corr[lags])])


def coded(x: np.ndarray, variant: str, *, sr: int = SR) -> np.ndarray:
    """The examples ``x`` (``(n_examples, n)`` at ``sr`` = 16 kHz), each at :data:`LEVEL_DBFS`
    RMS (at most 0.99 peak), joined with :data:`GAP_S` of silence, coded by ``variant`` and read
    back by :func:`soundpred.audio.read` at ``sr``: ``(n_examples, n)`` float32, aligned."""
    if sr != SR:
        raise ValueError(f"the probe codes {SR} Hz examples, not {sr}")
    suffix, options = VARIANTS[variant]
    x = np.asarray(x, np.float64)
    rms = np.sqrt(np.mean(x ** 2, axis=1, keepdims=True))
    peak = np.abs(x).max(axis=1, keepdims=True)
    gain = np.minimum(10 ** (LEVEL_DBFS / 20) / np.maximum(rms, 1e-12), 0.99 / np.maximum(peak, 1e-12))
    gap = int(GAP_S * sr)
    step = x.shape[1] + gap
    joined = np.zeros(gap + len(x) * step, np.float32)
    for i, e in enumerate(x * gain):
        joined[gap + i * step:gap + i * step + x.shape[1]] = e
    with tempfile.TemporaryDirectory(prefix="soundpred-codec-") as tmp:
        src, out = Path(tmp) / "plain.wav", Path(tmp) / f"coded{suffix}"
        sf.write(src, joined, sr, subtype="FLOAT")
        subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(src), "-ac", "1", *options,
                        str(out)], check=True)
        y = audio.read(out, sr=sr).samples
    lag = _lag(joined, y, max_lag=int(0.2 * sr))
    y = np.pad(y, (max(0, -lag), len(joined) + abs(lag)))[max(0, lag):][:len(joined)]
    return np.stack([y[gap + i * step:gap + i * step + x.shape[1]] for i in range(len(x))]).astype(np.float32)


def main(argv=None):
    p = card_parser(__doc__)
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    args = p.parse_args(argv)
    bundle = load_bundle(args.bundle)
    fe = bundle.frontend
    if fe.sample_rate != SR:
        p.error(f"{args.bundle} hears {fe.sample_rate} Hz; the probe codes {SR} Hz examples")
    variants = ["none"] + [v for v in args.variants if v != "none"]
    print(summary_head("coding"))
    results, paired = {}, {}
    for s, x in card_sets(fe, args.sets):
        est = {v: estimates(bundle, coded(x, v)) for v in variants}
        score_set(s, est, [(v, "none") for v in variants[1:]], results, paired)
    print_paired(paired, ("coding", "against"))
    return results, paired


if __name__ == "__main__":
    main()
