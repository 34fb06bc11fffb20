"""Probe: what do lossy codecs and a telephone band cost the distance estimates?

    python -m train.probe_codecs                      # the embedded default, every card set and variant
    python -m train.probe_codecs runs/m3 --sets "held-out rooms" --variants opus-16 8k
    python -m train.probe_codecs runs/ft10c --against models/distance:4 --variants mp3-32 opus-16 8k

People upload what their phones and apps make: voice memos in AAC, voice messages in Opus at
16-32 kbit/s, MP3s, calls recorded at 8 kHz. The simulation never codes its examples, and a
codec removes what it judges inaudible, which is often the quiet reverberant tail the distance
model listens to.

Each set's examples (:func:`train.distance_eval.held_out_sets`: the card's rooms, sources and
examples) are set to -25 dBFS RMS, joined into one recording with 0.5 s of silence between
them (so the codec runs on as in a long recording), written at 16 kHz and coded by ffmpeg as
the variant says (:data:`train.codecs.VARIANTS`; the compressed ones at 48 or 44.1 kHz, as phones record),
then read back by the app's own decoder (:func:`soundpred.audio.read`, 16 kHz mono), and each
example is cut back out. ffmpeg takes the codecs' own delays off (the lag found is 0 for every
variant with Debian 12's ffmpeg 5.1); a cross-correlation checks that and would take off any that remains.
``none`` takes the same path through a 16-bit WAV and reproduces the card.

Per set and variant: MAE, relative error, rank correlation over all examples and the mean within
rooms, the slope within rooms and the 10th-90th percentile of the estimates, as
``train.probe_mic_processing`` prints them; then each variant against ``none`` paired over rooms
(:func:`soundpred.metrics.paired_bootstrap`). With ``--against OTHER``, the other bundle hears the
same coded examples, and the bundle is paired with it for each variant.
"""
from __future__ import annotations

from soundpred.bundle import load_bundle
from train.codecs import SR, VARIANTS, coded
from train.distance_compare import estimates
from train.ensemble import member_arg, one_member
from train.probe_common import card_parser, card_sets, print_paired, score_set, summary_head


def main(argv=None):
    p = card_parser(__doc__)
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    p.add_argument("--against", type=member_arg,
                   help="another bundle (the same front end; FOLDER:N, member N of an ensemble, alone) heard on "
                        "the same coded examples: its rows are 'VARIANT, against', and the bundle is paired with it "
                        "for each variant")
    args = p.parse_args(argv)
    bundle = load_bundle(args.bundle)
    other = None
    if args.against:
        path, picks = args.against
        try:
            other = one_member(path, picks)
        except ValueError as e:
            p.error(f"--against {e}")
    fe = bundle.frontend
    if fe.sample_rate != SR:
        p.error(f"{args.bundle} hears {fe.sample_rate} Hz; the probe codes {SR} Hz examples")
    if other is not None and other.frontend != fe:
        p.error(f"{path}{':' + str(picks[0] + 1) if picks else ''} hears another front end than {args.bundle}")
    variants = ["none"] + [v for v in args.variants if v != "none"]
    print(summary_head("coding"))
    results, paired = {}, {}
    for s, x in card_sets(fe, args.sets):
        est, pairs = {}, [(v, "none") for v in variants[1:]]
        for v in variants:
            y = coded(x, v)
            est[v] = estimates(bundle, y)
            if other is not None:
                est[f"{v}, against"] = estimates(other, y)
                pairs.append((v, f"{v}, against"))
        score_set(s, est, pairs, results, paired)
    print_paired(paired, ("coding", "against"))
    return results, paired


if __name__ == "__main__":
    main()
