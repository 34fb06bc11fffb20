"""Do the labels without training clips keep their AudioSet knowledge after fine-tuning?

    python -m train.retention                          # the embedded default
    python -m train.retention /tmp/runs/A /tmp/runs/C --frozen-rows

For each label that had no training clip (``labels_without_clips`` in the bundle's metrics),
over a pool of clips no model was trained on (starter ``audio_test``, the held-out more-real
groups and the generated outside sounds of ``train.outside_sounds``):

- ``rho``: Spearman rank correlation, across the pool, between the model's score for the label
  (the softmax the app shows) and the imported YAMNet's AudioSet score for the label's class
  (the teacher). YAMNet zero-shot (its own AudioSet rows under the 41-way softmax) is printed as
  the reference: the softmax alone already costs it some correlation.
- ``top5``: of the clips where the teacher gives the class at least ``--present`` (0.1), the
  share where the model still puts the label among its top 5.

``--write`` stores the figures in the (single) bundle's metrics and re-renders its card.
``--frozen-rows`` adds, for each bundle, a variant whose label-head rows of those labels are
put back to their AudioSet rows after fine-tuning ("freeze those rows"), scored the same way.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from soundpred import audio
from soundpred.bundle import Bundle, load_bundle
from soundpred.data import cache_dir
from soundpred.hub import EMBEDDED
from soundpred.paths import MORE_REAL, STARTER
from soundpred.predict import Predictor
from soundpred.yamnet import audioset_index, init_label_head
from train.cards import write_card
from train.data import load_waveforms
from train.evaluate import copy_bundle, eval_sets, zero_shot_bundle
from train.open_set import clip_outputs
from train.outside_sounds import make as make_outside


def pool_waveforms(data: Path, more_real: Path | None, outside: Path, sample_rate: int) -> list[np.ndarray]:
    clips = [c for cs in eval_sets(data, more_real).values() for c in cs]
    _, waves = load_waveforms(clips, sample_rate, desc="decoding pool")
    if not outside.is_dir():
        make_outside(outside)
    return waves + [audio.load(path, sr=sample_rate) for path in sorted(outside.glob("*/*.wav"))]


def frozen_rows(bundle: Bundle, labels: list[str]) -> Bundle:
    """A copy of ``bundle`` whose label-head rows of ``labels`` are their AudioSet rows again."""
    copy = copy_bundle(bundle, bundle.name + " rows put back")
    head = copy.model.get_layer("label_logits")
    w, b = (np.array(v) for v in head.get_weights())
    init_label_head(copy.model, bundle.labels, bundle.meta["audioset_labels"])
    w0, b0 = (np.asarray(v) for v in head.get_weights())
    for lab in labels:
        j = bundle.labels.index(lab)
        w[:, j], b[j] = w0[:, j], b0[j]
    head.set_weights([w, b])
    return copy


def retention(scores: np.ndarray, label_names: list[str], teacher_audioset: np.ndarray, labels: list[str],
              class_names: list[str], present: float) -> dict:
    """Per label of ``labels``: rho, top5 and n_present (see the module docstring) of a model's
    clip ``scores`` ``(clips, len(label_names))`` against the teacher's AudioSet scores."""
    top5 = np.argsort(-scores, axis=1)[:, :5]
    index = audioset_index(label_names, class_names)
    out = {}
    for lab in labels:
        j, t = label_names.index(lab), teacher_audioset[:, index[lab]]
        pos = t >= present
        out[lab] = {"rho": round(float(spearmanr(scores[:, j], t).statistic), 3),
                    "top5": round(float((top5[pos] == j).any(axis=1).mean()), 3) if pos.any() else None,
                    "n_present": int(pos.sum())}
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("bundles", nargs="*", type=Path, help=f"bundle folders (default: {EMBEDDED['classification']})")
    ap.add_argument("--data", type=Path, default=STARTER)
    ap.add_argument("--more-real", type=Path, default=MORE_REAL)
    ap.add_argument("--outside", type=Path, default=cache_dir() / "outside")
    ap.add_argument("--present", type=float, default=0.1, help="teacher score that counts as present")
    ap.add_argument("--frozen-rows", action="store_true", help="also score each bundle with its rows put back")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--write", action="store_true", help="store the figures in the bundle and its card")
    args = ap.parse_args(argv)
    if args.write and (len(args.bundles) > 1 or args.frozen_rows):
        ap.error("--write takes one bundle and no --frozen-rows")

    bundles = []
    for folder in args.bundles or [EMBEDDED["classification"]]:
        b = load_bundle(folder)
        b.meta = dict(b.meta, name=str(folder))  # several runs share a model name
        bundles.append(b)
    labels = sorted(set().union(*(b.meta.get("metrics", {}).get("labels_without_clips", []) for b in bundles)))
    if not labels:
        sys.exit("none of these bundles lists labels_without_clips in its metrics")
    if args.frozen_rows:
        bundles += [frozen_rows(b, labels) for b in list(bundles)]
    teacher = zero_shot_bundle()
    class_names = teacher.meta["audioset_labels"]
    waves = pool_waveforms(args.data, args.more_real, args.outside, teacher.frontend.sample_rate)
    print(f"scoring {teacher.name}...", file=sys.stderr)
    teacher_scores, teacher_audioset = clip_outputs(Predictor(teacher), waves)  # one pass: both heads
    results = {teacher.name: retention(teacher_scores, teacher.labels, teacher_audioset, labels, class_names,
                                       args.present)}
    for b in bundles:
        print(f"scoring {b.name}...", file=sys.stderr)
        scores = np.stack([Predictor(b).clip_scores(w) for w in waves])
        results[b.name] = retention(scores, b.labels, teacher_audioset, labels, class_names, args.present)

    names = list(results)
    print(f"\nPool: {len(waves)} clips. rho = Spearman(model's label score, YAMNet AudioSet score); "
          f"top5 = share of clips with AudioSet score >= {args.present} where the label is in the model's top 5.\n")
    print("| label | clips with AudioSet ≥ %.2f | " % args.present + " | ".join(f"{n} rho / top5" for n in names) + " |")
    print("|---|---|" + "---|" * len(names))
    for lab in labels:
        cells = " | ".join(f"{results[n][lab]['rho']:.2f} / "
                           + ("–" if results[n][lab]["top5"] is None else f"{results[n][lab]['top5']:.2f}")
                           for n in names)
        print(f"| {lab} | {results[names[0]][lab]['n_present']} | {cells} |")
    means = " | ".join(f"{np.mean([results[n][lab]['rho'] for lab in labels]):.2f}" for n in names)
    print(f"| mean rho | | {means} |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    if args.write:
        write(args.bundles[0] if args.bundles else EMBEDDED["classification"],
              {"labels": results[names[1]], "reference": results[names[0]], "n_clips": len(waves),
               "present": args.present})
    return results


def write(folder: Path, retention_metrics: dict) -> None:
    meta_path = Path(folder) / "soundpred.json"
    meta = json.loads(meta_path.read_text())
    meta.setdefault("metrics", {})["retention"] = retention_metrics
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    (Path(folder) / "README.md").write_text(write_card(meta))


if __name__ == "__main__":
    main()
