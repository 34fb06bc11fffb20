"""What every trainer does after training: the config and label files, and the optional push."""
from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import keras

from soundpred.hub import ENV_VARS, push_bundle
from soundpred.plots import curves_figure


def adamw_cosine(lr: float, total_steps: int, warmup_steps: int):
    """AdamW (weight decay 1e-3) with a linear warm-up from lr/10 to ``lr``, then cosine decay to lr/100."""
    schedule = keras.optimizers.schedules.CosineDecay(lr * 0.1, total_steps, alpha=0.01, warmup_target=lr,
                                                      warmup_steps=warmup_steps)
    return keras.optimizers.AdamW(schedule, weight_decay=1e-3)


class AverageLast(keras.callbacks.Callback):
    """Average the weights of the last ``k`` of ``epochs`` epochs (checkpoint averaging, as in
    stochastic weight averaging at the tail of a cosine schedule); :meth:`apply` puts the
    average into the model. Batch-norm statistics are averaged like the other weights."""

    def __init__(self, k: int, epochs: int):
        super().__init__()
        self.k, self.start, self.sum, self.count = k, max(0, epochs - k), None, 0

    def on_epoch_end(self, epoch, logs=None):
        if epoch < self.start:
            return
        w = self.model.get_weights()
        self.sum = w if self.sum is None else [a + b for a, b in zip(self.sum, w)]
        self.count += 1

    def apply(self) -> int:
        """Set the averaged weights; returns how many epochs were averaged (0: nothing done)."""
        if self.count:
            self.model.set_weights([a / self.count for a in self.sum])
        return self.count


def write_history(out: Path, history: dict) -> None:
    """``figures/training_curves.png`` and ``training_log.json`` from a Keras ``History.history``."""
    (out / "figures").mkdir(parents=True, exist_ok=True)
    curves_figure(history).savefig(out / "figures" / "training_curves.png")
    (out / "training_log.json").write_text(json.dumps(
        {k: [float(v) for v in vs] for k, vs in history.items()}, indent=1) + "\n")


def add_hub_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("Hugging Face Hub (token from HF_TOKEN or `hf auth login`)")
    g.add_argument("--push-to-hub", metavar="OWNER/NAME", help="push the bundle to this model repo, one commit")
    g.add_argument("--private", action="store_true", help="create the repo private")
    g.add_argument("--branch", help="push to this branch (created from main if missing)")


@dataclass(frozen=True)
class HubPush:
    """Where to push a bundle (``--push-to-hub OWNER/NAME``, ``--private``, ``--branch``)."""

    repo: str
    private: bool = False
    branch: str | None = None

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> "HubPush | None":
        return cls(args.push_to_hub, args.private, args.branch) if args.push_to_hub else None


def options_json(args: argparse.Namespace) -> dict:
    """A command's options as JSON-friendly values (paths as strings)."""
    return {k: (str(v) if isinstance(v, Path) else [str(x) for x in v] if isinstance(v, list) else v)
            for k, v in vars(args).items()}


def finish_bundle(out: Path, config: dict, labels: list[str], *, task: str = "classification",
                  push: HubPush | None = None) -> None:
    """Write ``training_config.json`` (``config``) and ``labels.txt`` into the bundle ``out``,
    then push it if asked."""
    (out / "training_config.json").write_text(json.dumps(config, indent=2) + "\n")
    if labels:
        (out / "labels.txt").write_text("\n".join(labels) + "\n")
    if push is not None:
        info = push_bundle(out, push.repo, private=push.private, branch=push.branch)
        print(f"pushed {out} to {push.repo}: {info.commit_url} (revision {info.oid})")
        print(f"load it with {ENV_VARS[task]}={push.repo}@{info.oid}")
