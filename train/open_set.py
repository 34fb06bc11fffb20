"""Fit the open-set decision of a YAMNet classifier bundle (``known`` true or false).

    python -m train.open_set models/classifier          # writes open_set into its soundpred.json

Inside the labels: the bundle's validation clips (a stratified tenth of the starter training
clips and the held-out recording groups of more-real) for fitting; starter ``audio_test`` for
the report. Outside: the sounds of ``train.outside_sounds`` (made if missing), even-numbered
clips for fitting and odd-numbered ones for the report.

1. Compatible AudioSet classes (:func:`compatible_classes`): the labels' own classes, a few
   ontology relatives for the labels without training clips (``RELATIVES``), and the classes
   that are among the three best of at least ``--share`` of some label's training clips,
   except speech, scenes and textures (``NEVER_COMPATIBLE``).
2. A logistic regression on the three features of :class:`soundpred.open_set.OpenSet`.
3. The threshold: the highest that calls at most ``--max-false-unknown`` of the inside fitting
   clips unknown. Both error rates are printed and stored in the bundle.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np

from sklearn.linear_model import LogisticRegression

from soundpred import audio
from soundpred.bundle import load_bundle
from soundpred.data import cache_dir, read_fsdkaggle2018
from soundpred.open_set import OpenSet
from soundpred.paths import STARTER
from soundpred.predict import Predictor
from soundpred.yamnet import audioset_index
from train import outside_sounds
from train.cards import write_card
from train.data import VAL_FRACTION, load_training_clips, load_waveforms, stratified_split

#: AudioSet ontology relatives of labels that have no training clip here.
RELATIVES = {
    "Applause": ("Clapping", "Cheering", "Crowd", "Hands"),
    "Fireworks": ("Firecracker", "Explosion", "Burst, pop"),
    "Finger_snapping": ("Clapping", "Hands"),
    "Glockenspiel": ("Mallet percussion", "Marimba, xylophone", "Vibraphone", "Bell"),
    "Trumpet": ("Brass instrument",),
}

#: Never compatible: speech, scenes and generic textures that clips of the labels often contain
#: in the background (an office clip's talk, a room's tone) and that outside sounds are made of.
NEVER_COMPATIBLE = ("Speech", "Child speech, kid speaking", "Conversation", "Narration, monologue",
                    "Male speech, man speaking", "Female speech, woman speaking", "Silence", "Sound effect",
                    "Inside, small room", "Inside, large room or hall", "Inside, public space",
                    "Outside, urban or manmade", "Outside, rural or natural", "Vehicle", "Motor vehicle (road)",
                    "Car", "Engine", "Noise", "White noise", "Pink noise", "Static", "Hum", "Mains hum",
                    "Environmental noise", "Music")


def clip_outputs(predictor: Predictor, waves) -> tuple[np.ndarray, np.ndarray]:
    pairs = [predictor.clip_outputs(w) for w in waves]
    return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])


def compatible_classes(labels, class_names, train_audioset: np.ndarray, train_y: np.ndarray,
                       outside_audioset: np.ndarray, share: float) -> list[int]:
    """The labels' own AudioSet classes and :data:`RELATIVES`, plus each class among the three
    best of at least ``share`` of some label's training clips, unless it is in
    :data:`NEVER_COMPATIBLE` or among the three best of ``share`` of the outside fitting clips."""
    index = audioset_index(labels, class_names)
    name_to_index = {n: i for i, n in enumerate(class_names)}
    chosen = set(index.values())
    for lab, names in RELATIVES.items():
        chosen |= {name_to_index[n] for n in names if n in name_to_index}
    top3 = np.argsort(-train_audioset, axis=1)[:, :3]
    frequent = set()
    for j in np.unique(train_y):
        rows = top3[train_y == j]
        frequent |= {c for c, k in Counter(rows.ravel().tolist()).items() if k >= share * len(rows)}
    out_counts = Counter(np.argsort(-outside_audioset, axis=1)[:, :3].ravel().tolist())
    common_outside = {c for c, k in out_counts.items() if k >= share * len(outside_audioset)}
    never = {name_to_index[n] for n in NEVER_COMPATIBLE if n in name_to_index}
    return sorted(chosen | (frequent - never - common_outside))


def fit(inside, outside, compatible, max_false_unknown: float) -> OpenSet:
    """``inside`` / ``outside``: (label scores, AudioSet scores) of the fitting clips."""

    probe = OpenSet(tuple(compatible), (0.0, 0.0, 0.0), 0.0, 0.5)
    x = np.concatenate([probe.features(*inside), probe.features(*outside)])
    t = np.concatenate([np.ones(len(inside[0])), np.zeros(len(outside[0]))])
    lr = LogisticRegression(C=1.0, class_weight="balanced").fit(x, t)
    fitted = OpenSet(tuple(compatible), tuple(float(w) for w in lr.coef_[0]), float(lr.intercept_[0]), 0.5)
    p_in = np.sort(fitted.probability(*inside))
    threshold = float(min(0.5, p_in[int(np.floor(max_false_unknown * len(p_in)))] - 1e-6))
    return OpenSet(fitted.compatible, fitted.weights, fitted.bias, threshold)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("bundle", type=Path)
    ap.add_argument("--outside", type=Path, default=cache_dir() / "outside")
    ap.add_argument("--share", type=float, default=0.25)
    ap.add_argument("--max-false-unknown", type=float, default=0.05)
    args = ap.parse_args(argv)

    bundle = load_bundle(args.bundle)
    meta_path = args.bundle / "soundpred.json"
    meta = json.loads(meta_path.read_text())
    predictor = Predictor(bundle)
    labels, class_names = bundle.labels, predictor.audioset_labels
    index = {lab: i for i, lab in enumerate(labels)}
    sr = bundle.frontend.sample_rate

    # the clips of a default training run (without package extras), split the same way
    train_clips, held, _ = load_training_clips(STARTER)
    train_clips, waves = load_waveforms(train_clips, sr, desc="train")
    fsd = [i for i, c in enumerate(train_clips) if c.origin == "fsdkaggle2018"]
    _, va_f = stratified_split([train_clips[i].label for i in fsd], VAL_FRACTION, 0)
    val_set = set(np.asarray(fsd, int)[va_f].tolist())
    fit_train = [i for i in range(len(train_clips)) if i not in val_set]
    held, held_waves = load_waveforms(held, sr, desc="held out")
    inside_waves = [waves[i] for i in sorted(val_set)] + held_waves
    test_clips, test_waves = load_waveforms(read_fsdkaggle2018(STARTER, "test"), sr, desc="test")

    if any(len(list((args.outside / kind).glob("*.wav"))) < outside_sounds.PER_KIND
           for kind in outside_sounds.KINDS):  # made before a kind was added or the count raised
        outside_sounds.make(args.outside)
    outside_files = sorted(args.outside.glob("*/*.wav"))
    fit_out = [p for p in outside_files if int(p.stem.split("_")[-1]) % 2 == 0]
    rep_out = [p for p in outside_files if int(p.stem.split("_")[-1]) % 2 == 1]

    print("scoring clips...", file=sys.stderr)
    rng = np.random.default_rng(0)
    sub = sorted(rng.choice(fit_train, size=min(400, len(fit_train)), replace=False))
    tr_scores, tr_audioset = clip_outputs(predictor, [waves[i] for i in sub])
    tr_y = np.array([index[train_clips[i].label] for i in sub])
    inside = clip_outputs(predictor, inside_waves)
    outside = clip_outputs(predictor, [audio.load(p, sr=sr) for p in fit_out])
    compatible = compatible_classes(labels, class_names, tr_audioset, tr_y, outside[1], args.share)
    decision = fit(inside, outside, compatible, args.max_false_unknown)

    report_in = clip_outputs(predictor, test_waves)
    report_out = clip_outputs(predictor, [audio.load(p, sr=sr) for p in rep_out])
    known_in = decision.probability(*report_in) >= decision.threshold
    known_out = decision.probability(*report_out) >= decision.threshold
    kinds = [p.parent.name for p in rep_out]
    per_kind = {k: round(float(np.mean(~known_out[[i for i, x in enumerate(kinds) if x == k]])), 3)
                for k in sorted(set(kinds))}
    result = {"compatible": [class_names[i] for i in compatible], "inside_called_unknown": round(float(np.mean(~known_in)), 4), "n_inside": int(len(known_in)),
              "outside_called_known": round(float(np.mean(known_out)), 4), "n_outside": int(len(known_out)),
              "outside_called_unknown_by_kind": per_kind, "n_compatible": len(compatible),
              "inside_report": f"starter audio_test ({len(known_in)} clips)",
              "outside_report": "train.outside_sounds, odd-numbered clips"}
    meta["open_set"] = decision.to_meta()
    meta.setdefault("metrics", {})["open_set"] = result
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")

    (args.bundle / "README.md").write_text(write_card(meta))
    print(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()
