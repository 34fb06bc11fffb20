"""What every trainer does after training: the config and label files, and the optional push."""
from __future__ import annotations

import argparse
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

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


class TimeBudget(keras.callbacks.Callback):
    """Stop at the end of the first epoch after which one more (as slow as the slowest so far)
    would end past ``seconds`` of training, or past the wall-clock time ``until`` (seconds since
    the epoch): a run on a machine lent for a few minutes keeps what it trained instead of losing
    it to a timeout. ``stopped_after``: epochs done when it stopped the run (None while it has not).
    ``clock``: where the time comes from (seconds since the epoch; a test passes its own, so that
    its verdicts do not hang on how busy the machine is)."""

    def __init__(self, seconds: float | None = None, until: float | None = None, clock=time.time):
        super().__init__()
        self.seconds, self.until, self.stopped_after, self.clock = seconds, until, None, clock

    def on_train_begin(self, logs=None):
        self.last = self.clock()
        self.slowest = 0.0
        ends = ([self.last + self.seconds] if self.seconds else []) + ([self.until] if self.until else [])
        self.end = min(ends, default=None)

    def on_epoch_end(self, epoch, logs=None):
        now = self.clock()
        self.slowest, self.last = max(self.slowest, now - self.last), now
        if self.end is not None and now + self.slowest > self.end:
            self.model.stop_training = True
            self.stopped_after = epoch + 1


def changed_options(saved: dict, current: dict) -> list[str]:
    """The options in which ``current`` differs from the ``saved`` run's. An option the saved run
    does not know (added to the trainer since) counts only if it is now switched on: left at
    0 / None / False it trains as that run did."""
    return sorted(k for k in set(saved) | set(current)
                  if (saved.get(k) != current.get(k) if k in saved else bool(current.get(k))))


class TrainingState(keras.callbacks.Callback):
    """Everything an interrupted training needs to go on where it stopped, saved after every
    epoch in the folder ``path``: the compiled trainer's weights, which hold the optimizer's
    variables too (its step count, so the learning-rate schedule goes on, and Adam's moments),
    the running sum of :class:`AverageLast`, the history so far, the seconds trained and the
    run's config.

    A new state is written beside the old one and then swapped in, so a run killed while it
    saves leaves the previous epoch's state whole. :meth:`restore` puts a saved state into a
    compiled trainer and returns the number of epochs already done (0 when there is none)."""

    WEIGHTS = "trainer.weights.h5"

    def __init__(self, path: Path, config: dict, averager: "AverageLast | None" = None):
        super().__init__()
        self.path, self.config, self.averager = Path(path), config, averager
        self.history: dict[str, list[float]] = {}
        self.seconds, self._t0 = 0.0, None

    def on_epoch_begin(self, epoch, logs=None):
        self._t0 = time.time()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds += time.time() - (self._t0 or time.time())
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(float(v))
        self.save(epoch + 1)

    def save(self, epochs_done: int) -> None:
        new, old = self.path.with_name(self.path.name + ".new"), self.path.with_name(self.path.name + ".old")
        shutil.rmtree(new, ignore_errors=True)
        new.mkdir(parents=True)
        self.model.save_weights(new / self.WEIGHTS)  # the optimizer's variables included
        average = self.averager.sum if self.averager is not None and self.averager.sum is not None else []
        np.savez(new / "average.npz", *average)
        (new / "state.json").write_text(json.dumps(
            {"epochs_done": epochs_done, "config": self.config, "history": self.history,
             "train_seconds": round(self.seconds, 1),
             "average_count": self.averager.count if self.averager is not None else 0}, indent=1) + "\n")
        shutil.rmtree(old, ignore_errors=True)
        if self.path.exists():
            self.path.rename(old)
        new.rename(self.path)
        shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def read(cls, path: Path) -> dict | None:
        """The saved ``state.json`` (the previous one if a save was cut short), or None."""
        for p in (Path(path), Path(path).with_name(Path(path).name + ".old")):
            if (p / "state.json").is_file():
                return {**json.loads((p / "state.json").read_text()), "folder": p}
        return None

    def restore(self) -> int:
        state = self.read(self.path)
        if state is None:
            return 0
        changed = changed_options(state["config"], self.config)
        if changed:
            raise SystemExit(f"{state['folder']} was saved by a run with other settings ({', '.join(changed)}); "
                             "resume with the same options, or remove it to start again")
        folder = state["folder"]
        # built before loading, or load_weights skips the optimizer's variables (Keras 3)
        self.model.optimizer.build(self.model.trainable_variables)
        self.model.load_weights(folder / self.WEIGHTS)
        if self.averager is not None and state["average_count"]:
            with np.load(folder / "average.npz") as saved:
                self.averager.sum = [saved[f"arr_{i}"] for i in range(len(saved.files))]
            self.averager.count = state["average_count"]
        self.history, self.seconds = state["history"], state["train_seconds"]
        return int(state["epochs_done"])


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
