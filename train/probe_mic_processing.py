"""Probe: what does a call-style microphone processing (noise suppression, automatic gain) do to the
distance estimates?

    python -m train.probe_mic_processing                      # the embedded default, every card set
    python -m train.probe_mic_processing runs/m3 --sets held-out hybrid --variants ns3 agc

The app's page asks the browser for plain audio (``app.PLAIN_MIC_HEAD``); in Chromium the
processing it turns off read the 1 m example as 2.0 m instead of 1.5 m (``python -m
bench.microphone``). Some devices process anyway. This asks how much, over the card's sets
(:func:`train.distance_eval.held_out_sets`: the same rooms, sources and examples), the estimates
lose when every example goes through WebRTC's audio processing as the ``webrtc-noise-gain``
package builds it (noise suppression at a level of 1-4, and its automatic gain control; an older
WebRTC than Chromium's, so an approximation of a browser, not Chromium: the two examples are run
through it first, to compare with ``bench.microphone``'s figures).

Each example is set to an RMS of -25 dBFS (the examples' level; at most 0.99 peak), converted to
16-bit, and played twice in a row through a fresh processor; the second pass is kept (the
processor has adapted, as in a running call). ``none`` takes the same path without processing.
Per set and variant: MAE, relative error, rank correlation over all examples and the mean within
rooms, the within-room slope (1 = the estimate moves as far as the truth), and the 10th-90th
percentile of the estimates (how far they spread).
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from soundpred.audio import load
from soundpred.bundle import load_bundle
from soundpred.hub import EMBEDDED
from soundpred.metrics import distance_summary
from train.distance_compare import estimates
from train.distance_eval import DistanceConfig, dry_sources, held_out_sets, room_banks, set_examples

#: the processing of each variant: (noise suppression level 0-4, automatic gain target in dBFS, 0: off)
VARIANTS = {"none": (0, 0), "ns1": (1, 0), "ns3": (3, 0), "agc": (0, 3), "ns3+agc": (3, 3)}
LEVEL_DBFS = -25.0
ROOT = Path(__file__).resolve().parent.parent


def processed(y: np.ndarray, variant: str, *, passes: int = 2) -> np.ndarray:
    """``y`` (16 kHz mono float) at :data:`LEVEL_DBFS`, as 16-bit PCM through WebRTC's audio
    processing with ``variant``'s settings, ``passes`` times in a row through one fresh processor;
    the last pass, as float. ``none``: the level and the 16-bit step alone."""
    ns, agc = VARIANTS[variant]
    y = np.asarray(y, np.float32)
    rms = float(np.sqrt(np.mean(y ** 2)))
    if rms == 0:
        return y.copy()
    gain = min(10 ** (LEVEL_DBFS / 20) / rms, 0.99 / float(np.max(np.abs(y))))
    pcm = np.round(np.tile(y * gain, passes) * 32767).astype(np.int16)
    if variant != "none":
        from webrtc_noise_gain import AudioProcessor

        proc = AudioProcessor(agc, ns)
        pcm = np.concatenate([np.frombuffer(proc.Process10ms(pcm[i:i + 160].tobytes()).audio, np.int16)
                              for i in range(0, len(pcm) - 159, 160)])
    out = pcm.astype(np.float32) / 32768
    last = out[len(out) - len(y):] if len(out) >= len(y) else out
    return np.pad(last, (0, len(y) - len(last)))  # the 10-ms processor drops a last partial chunk


def levels_db(y: np.ndarray, sr: int = 16000) -> tuple[float, float, float]:
    """10th, 50th and 90th percentile of the 20-ms levels, dBFS."""
    frame = int(0.02 * sr)
    n = len(y) // frame
    lev = 10 * np.log10(np.mean(y[:n * frame].reshape(n, frame) ** 2, axis=1) + 1e-12)
    return tuple(float(v) for v in np.percentile(lev, [10, 50, 90]))


def main(argv=None):
    d = DistanceConfig()
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("bundle", nargs="?", type=Path, default=EMBEDDED["distance"])
    p.add_argument("--sets", nargs="+", default=["held-out rooms", "shifted simulation", "broad distances",
                                                 "hybrid simulation"])
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    args = p.parse_args(argv)
    bundle = load_bundle(args.bundle)
    fe = bundle.frontend
    assert fe.sample_rate == 16000, "WebRTC's processing here takes 16 kHz"
    variants = ["none"] + [v for v in args.variants if v != "none"]

    print("The two examples (bench.microphone measured Chromium's processing: 1 m read 2.0 m, 20-ms levels "
          "p10/p50/p90 -66.1/-27.5/-17.4 dBFS; 8 m read 2.6 m, -65.6/-24.9/-16.8):")
    for dist in (1, 8):
        y = load(ROOT / "examples" / f"speech_{dist}m_meeting_room.wav", sr=fe.sample_rate)
        for v in variants:
            z = processed(y, v)
            windows = np.stack([z[i:i + fe.window_samples] for i in range(0, len(z) - fe.window_samples + 1,
                                                                            fe.window_samples // 2)])
            est = float(np.exp(np.mean(np.log(estimates(bundle, windows)))))
            print(f"  {dist} m, {v:8s}: windows' geometric mean {est:.2f} m; levels "
                  + " / ".join(f"{x:.1f}" for x in levels_db(z)))

    sources = dry_sources(fe.sample_rate, n_speech=d.speech, data=d.data)
    banks = room_banks(fe.sample_rate, rooms=d.rooms, eval_rooms=d.eval_rooms, seed=d.seed)
    print("\n| set | processing | MAE m | rel. error | rank | rank within rooms | slope within rooms | "
          "estimates p10-p90 m |\n|---|---|---|---|---|---|---|---|")
    results = {}
    for s in held_out_sets(banks, sources, d.seed):
        if s.name not in args.sets:
            continue
        x = set_examples(s, fe, d.speech_share)
        for v in variants:
            est = estimates(bundle, np.stack([processed(e, v) for e in x]))
            r = distance_summary(est, s.bank.distance, room=s.bank.room)
            lo, hi = np.percentile(est, [10, 90])
            results[(s.name, v)] = r
            print(f"| {s.name} | {v} | {r['mae_m']:.3f} | {r['rel_error']:.3f} | {r['spearman']:.3f} | "
                  f"{r['spearman_within_room']:.3f} | {r['slope_within_room']:.3f} | {lo:.2f}-{hi:.2f} |", flush=True)
    return results


if __name__ == "__main__":
    main()
