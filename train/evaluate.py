"""Score classifier bundles on a labelled split, side by side.

    python -m train.evaluate --with-student          # embedded default vs the seed project's model
    python -m train.evaluate models/classifier runs/other --data /data/FSDKaggle2018

``--with-student`` first trains the seed project's design (4 conv blocks with batch
norm on 40 MFCC over 2 s, dense 64, softmax) on the same training clips with
``train.classifier --arch student`` and scores it with the same sliding-window
inference. Prints a Markdown table (top-1, macro recall, MAP@3) and, with
``--json``, writes every number including per-class recall.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

from soundpred.hub import EMBEDDED as _EMBEDDED
from train.classifier import DEFAULT_DATA

EMBEDDED = _EMBEDDED["classification"]


def score_bundle(folder: Path, data: Path, split: str) -> dict:
    from soundpred.bundle import load_bundle
    from soundpred.data import read_fsdkaggle2018
    from soundpred.metrics import summarize
    from soundpred.predict import Predictor
    from train.classifier import evaluate
    from train.data import load_waveforms

    bundle = load_bundle(folder)
    index = {lab: i for i, lab in enumerate(bundle.labels)}
    clips = [c for c in read_fsdkaggle2018(data, split) if c.label in index]
    clips, waves = load_waveforms(clips, bundle.frontend.sample_rate, desc=f"decoding {split}")
    y = np.array([index[c.label] for c in clips])
    scores = evaluate(Predictor(bundle), waves, y)
    return {"bundle": str(folder), "name": bundle.name, **summarize(scores, y, bundle.labels)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("bundles", nargs="*", type=Path, help=f"bundle folders (default: {EMBEDDED})")
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--split", default="test", choices=("train", "test"))
    ap.add_argument("--with-student", action="store_true", help="train and score the seed project's model")
    ap.add_argument("--student-epochs", type=int, default=60)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, help="write all results here")
    args = ap.parse_args(argv)

    bundles = list(args.bundles) or [EMBEDDED]
    with tempfile.TemporaryDirectory() as tmp:
        if args.with_student:
            from train import classifier

            student = Path(tmp) / "student"
            print(f"training the seed project's model ({args.student_epochs} epochs)...", file=sys.stderr)
            classifier.main(["--arch", "student", "--data", str(args.data), "--out", str(student),
                             "--epochs", str(args.student_epochs), "--seed", str(args.seed), "--verbose", "0"])
            bundles.append(student)
        results = [score_bundle(b, args.data, args.split) for b in bundles]
    print(f"\n{args.split} split of {args.data} ({results[0]['n_clips']} clips)\n")
    print("| model | top-1 | macro recall | MAP@3 |\n|---|---|---|---|")
    for r in results:
        print(f"| {r['name']} | {r['top1']:.3f} | {r['macro_recall']:.3f} | {r['map3']:.3f} |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return results


if __name__ == "__main__":
    main()
