"""Probe: what does a call-style microphone processing (noise suppression, automatic gain) do to the
distance estimates?

    python -m train.probe_mic_processing                      # the embedded default, every card set
    python -m train.probe_mic_processing runs/m3 --sets "held-out rooms" --variants ns3 agc
    python -m train.probe_mic_processing models/distance --member 4 --variants ns3   # one member alone

The app's page asks the browser for plain audio (``app.MIC_HEAD``); in Chromium the
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

from pathlib import Path

import numpy as np

from soundpred.audio import load
from soundpred.bundle import load_bundle
from train.distance_compare import estimates
from train.mic_processing import levels_db, webrtc_processed
from train.probe_common import card_parser, card_sets, summary_head, summary_row

#: the processing of each variant: (noise suppression level 0-4, automatic gain target in dBFS, 0: off)
VARIANTS = {"none": (0, 0), "ns1": (1, 0), "ns3": (3, 0), "agc": (0, 3), "ns3+agc": (3, 3)}
ROOT = Path(__file__).resolve().parent.parent


def processed(y: np.ndarray, variant: str, *, passes: int = 2) -> np.ndarray:
    """``y`` through ``variant``'s processing (:func:`train.mic_processing.webrtc_processed`)."""
    return webrtc_processed(y, *VARIANTS[variant], passes=passes)


def main(argv=None):
    p = card_parser(__doc__)
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    p.add_argument("--member", type=int, help="of an ensemble bundle, this member (1-based) alone")
    args = p.parse_args(argv)
    bundle = load_bundle(args.bundle)
    if args.member:
        from train.ensemble import unpack

        members = unpack(bundle)
        if not 1 <= args.member <= len(members):
            p.error(f"--member {args.member}: {args.bundle} has {len(members)}")
        bundle = members[args.member - 1]
    fe = bundle.frontend
    if fe.sample_rate != 16000:
        p.error(f"{args.bundle} hears {fe.sample_rate} Hz; WebRTC's processing here takes 16 kHz")
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

    print("\n" + summary_head("processing"))
    results = {}
    for s, x in card_sets(fe, args.sets):
        for v in variants:
            results[(s.name, v)], row = summary_row(s, v, estimates(bundle, np.stack([processed(e, v) for e in x])))
            print(row, flush=True)
    return results


if __name__ == "__main__":
    main()
