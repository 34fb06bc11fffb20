"""Train and evaluate the single-microphone distance model on simulated rooms; write a bundle.

    apt-get install espeak-ng && python -m train.dry_sources      # dry speech, once
    python -m train.distance --out models/distance                 # simulate, train, evaluate
    python -m train.distance --evaluate models/distance            # evaluation only

Rooms: a seeded bank of ``--rooms`` training rooms (4 source–mic pairs each) with the
``train`` simulation settings; evaluation on ``--eval-rooms`` rooms never used in
training (same settings, other seed) and on the ``shifted`` simulation (other absorption
profiles, cardioid source and mic, hum and babble noise, stronger colouration) and the
``broad`` one (the training settings with distances log-uniform over 0.3–20 m instead of
the training prior, log-normal around 2.5 m). Dry
sources are split too: espeak-ng utterances and starter clips used in evaluation are
never used in training. Output: log-distance mean and spread, Gaussian NLL.

The evaluation table has MAE, median absolute error, mean relative error, error per
distance and RT60 bin and the coverage of the 90 % interval, for the model and two
baselines: always guessing the training median, and a classical regression on
direct-to-reverberant / energy-decay features of the log-mel spectrogram; and, as a
reference no blind estimator could use, gradient boosting on the exact acoustic parameters
(DRR, C50, EDT, T20) of each example's true impulse response.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from train.common import adamw_cosine, add_hub_args, finish_bundle, write_history

ROOT = Path(__file__).resolve().parent.parent
STARTER = ROOT.parent / "shared" / "data" / "fsd-starter"
Z90 = 1.6449  # two-sided 90 % interval of a Gaussian


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, help="bundle folder to write")
    p.add_argument("--evaluate", type=Path, metavar="BUNDLE", help="only evaluate this bundle")
    p.add_argument("--data", type=Path, default=STARTER, help="FSDKaggle2018-layout clips used as extra dry sources")
    p.add_argument("--rooms", type=int, default=600)
    p.add_argument("--eval-rooms", type=int, default=100)
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--steps", type=int, default=60, help="batches per epoch")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--width", type=int, default=24)
    p.add_argument("--speech", type=int, default=240, help="number of espeak-ng utterances")
    p.add_argument("--speech-share", type=float, default=0.7, help="share of examples with speech as the source")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--verbose", type=int, default=1)
    add_hub_args(p)
    args = p.parse_args(argv)
    if not (args.out or args.evaluate):
        p.error("give --out (train) or --evaluate BUNDLE")
    return args


def room_banks(sr: int, *, rooms: int = 600, eval_rooms: int = 100, seed: int = 0):
    """The seeded banks: (training, held-out, shifted, broad); cached after the first call."""
    from soundpred.rooms import BROAD, SHIFTED, TRAIN, make_bank

    return (make_bank(TRAIN, rooms, seed=seed + 100, sr=sr), make_bank(TRAIN, eval_rooms, seed=seed + 200, sr=sr),
            make_bank(SHIFTED, eval_rooms, seed=seed + 300, sr=sr), make_bank(BROAD, eval_rooms, seed=seed + 400, sr=sr))


def dry_sources(sr: int, *, n_speech: int = 240, data: Path = STARTER
                ) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """(train speech, train clips, eval speech, eval clips) at ``sr``; disjoint sources."""
    from soundpred import audio
    from soundpred.data import read_fsdkaggle2018
    from train.data import load_waveforms
    from train.dry_sources import make_speech

    speech = [audio.load(p, sr=sr) for p in make_speech(n=n_speech)]
    n_eval = max(1, len(speech) // 6)
    clips = []
    for split in ("train", "test"):
        try:
            cs = read_fsdkaggle2018(data, split)
        except FileNotFoundError:
            cs = []
        _, waves = load_waveforms(cs, sr, desc=f"decoding {split} clips") if cs else ([], [])
        clips.append([w for w in waves if len(w) >= sr * 1.5])
    return speech[n_eval:], clips[0], speech[:n_eval], clips[1]


def make_examples(bank, speech, clips, settings, *, n: int, sr: int, seed: int, speech_share: float):
    """One deterministic example per RIR of ``bank`` (for evaluation)."""
    from soundpred.rooms import synthesize

    rng = np.random.default_rng(seed)
    xs = []
    for i in range(len(bank)):
        pool = speech if (rng.random() < speech_share or not clips) else clips
        dry = pool[int(rng.integers(len(pool)))]
        xs.append(synthesize(dry, bank.rirs[i], settings, n=n, sr=sr, rng=rng)[0])
    return np.stack(xs)


def make_batches(bank, speech, clips, settings, fe, args):
    import keras

    from soundpred.rooms import synthesize

    n, sr = fe.window_samples, fe.sample_rate

    class Batches(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.rng = np.random.default_rng(args.seed + 1)

        def __len__(self):
            return args.steps

        def __getitem__(self, step):
            rng = self.rng
            idx = rng.integers(0, len(bank), args.batch_size)
            xs = []
            for i in idx:
                pool = speech if (rng.random() < args.speech_share or not clips) else clips
                x, _ = synthesize(pool[int(rng.integers(len(pool)))], bank.rirs[i], settings, n=n, sr=sr, rng=rng)
                if rng.random() < 0.15:  # short input, zero-padded as the Predictor pads it
                    x[int(rng.integers(sr, n)):] = 0.0
                xs.append(x)
            y = np.log(bank.distance[idx]).astype(np.float32)[:, None]
            return np.stack(xs), y

    return Batches()


def classical_features(logmel: np.ndarray) -> np.ndarray:
    """Blind direct-to-reverberant and decay features of normalised log-mel ``(n, frames, mels)``.

    Per 8 band groups: the spread between loud (onset-like) and median frames (a DRR proxy),
    the mean negative frame-to-frame slope after peaks (decay rate), and the median level
    (noise floor); plus spectral tilt. Returns ``(n, 25)``.
    """
    n, t, m = logmel.shape
    g = logmel.reshape(n, t, 8, m // 8).mean(axis=3)  # (n, t, 8)
    p95 = np.percentile(g, 95, axis=1)
    med = np.median(g, axis=1)
    d = np.diff(g, axis=1)
    decay = np.where(d < 0, d, 0).sum(axis=1) / np.maximum((d < 0).sum(axis=1), 1)
    tilt = (g[:, :, 6:].mean(axis=(1, 2)) - g[:, :, :2].mean(axis=(1, 2)))[:, None]
    return np.concatenate([p95 - med, decay, med, tilt], axis=1)


class RidgeBaseline:
    """Ridge regression of log-distance on :func:`classical_features`."""

    def fit(self, f, y, alpha=1.0):
        self.mu, self.sd = f.mean(0), f.std(0) + 1e-6
        z = np.c_[(f - self.mu) / self.sd, np.ones(len(f))]
        self.w = np.linalg.solve(z.T @ z + alpha * np.eye(z.shape[1]), z.T @ y)
        self.resid_sd = float(np.std(y - z @ self.w))
        return self

    def predict(self, f):
        return np.c_[(f - self.mu) / self.sd, np.ones(len(f))] @ self.w


def rir_parameters(h: np.ndarray, sr: int) -> np.ndarray:
    """Exact acoustic parameters of one aligned RIR: direct-to-reverberant ratio (dB, ±2.5 ms
    around the direct sound), C50 (dB), early decay time and T20-style decay (s)."""
    from soundpred.rooms import DIRECT_INDEX as D

    e = h.astype(np.float64) ** 2
    w, c = int(0.0025 * sr), D + int(0.05 * sr)
    drr = e[D - w:D + w].sum() / (e[D + w:].sum() + 1e-12)
    c50 = e[:c].sum() / (e[c:].sum() + 1e-12)
    edc = np.cumsum(e[::-1])[::-1]
    edc_db = 10 * np.log10(edc / edc[0] + 1e-12)
    return np.array([10 * np.log10(drr + 1e-12), 10 * np.log10(c50 + 1e-12),
                     np.argmax(edc_db < -10) / sr, np.argmax(edc_db < -20) / sr])


class RirOracle:
    """Not blind, a reference: gradient boosting of log-distance on :func:`rir_parameters` of the
    true RIR. It shows how much of the distance the room's acoustics determine at all; no
    estimator that hears only the recording can be expected to do better."""

    def __init__(self, sr: int):
        self.sr = sr

    def fit(self, bank):
        from sklearn.ensemble import HistGradientBoostingRegressor

        f = self.features(bank)
        y = np.log(bank.distance)
        self.model = HistGradientBoostingRegressor(max_iter=200, random_state=0).fit(f, y)
        return self

    def features(self, bank) -> np.ndarray:
        return np.stack([rir_parameters(h, self.sr) for h in bank.rirs])

    def predict(self, bank):
        return self.model.predict(self.features(bank))


def logmel_of(fe, x: np.ndarray, batch: int = 64) -> np.ndarray:
    from soundpred.features import LogMel

    layer = LogMel(fe.to_dict())
    return np.concatenate([np.asarray(layer(x[i:i + batch]))[..., 0] for i in range(0, len(x), batch)])


def predict_model(model, x: np.ndarray, batch: int = 32) -> tuple[np.ndarray, np.ndarray]:
    out = np.concatenate([np.asarray(model.predict_on_batch(x[i:i + batch])) for i in range(0, len(x), batch)])
    return out[:, 0], np.clip(out[:, 1], -4.0, 2.0)


def evaluate(model, fe, args, banks, train_median: float, ridge: RidgeBaseline | None, figs: Path | None,
             oracle: RirOracle | None = None):
    """Score the model and the baselines on every evaluation set; returns the metrics dict."""
    from soundpred.metrics import distance_summary

    results = {}
    for name, (bank, settings, seed, speech, clips) in banks.items():
        x = make_examples(bank, speech, clips, settings, n=fe.window_samples, sr=fe.sample_rate,
                          seed=seed, speech_share=args.speech_share)
        mu, log_sigma = predict_model(model, x)
        sigma = np.exp(log_sigma)
        d = bank.distance
        model_summary = distance_summary(np.exp(mu), d, lo=np.exp(mu - Z90 * sigma), hi=np.exp(mu + Z90 * sigma),
                                         rt60=bank.rt60)
        z = (np.log(d) - mu) / sigma  # Gaussian NLL without its constant, and how well mu follows log d
        model_summary["nll"] = round(float(np.mean(0.5 * z * z + log_sigma)), 3)
        model_summary["corr_log"] = round(float(np.corrcoef(mu, np.log(d))[0, 1]), 3)
        res = {"model": model_summary,
               "median_guess": distance_summary(np.full(len(d), train_median), d, rt60=bank.rt60)}
        if ridge is not None:
            r = ridge.predict(classical_features(logmel_of(fe, x)))
            res["classical_features"] = distance_summary(np.exp(r), d, lo=np.exp(r - Z90 * ridge.resid_sd),
                                                         hi=np.exp(r + Z90 * ridge.resid_sd), rt60=bank.rt60)
        if oracle is not None and name != "training rooms":  # it was fitted on those very RIRs
            res["rir_oracle_not_blind"] = distance_summary(np.exp(oracle.predict(bank)), d, rt60=bank.rt60)
        results[name] = res
        if figs is not None:
            from soundpred.plots import distance_figure

            distance_figure(d, np.exp(mu), np.exp(mu - Z90 * sigma), np.exp(mu + Z90 * sigma),
                            title=f"{name}: MAE {res['model']['mae_m']:.2f} m, "
                                  f"rel. {res['model']['rel_error']:.2f}").savefig(figs / f"distance_{name.replace(' ', '_')}.png")
    return results


def table(results: dict) -> str:
    rows = ["| set | method | MAE m | median AE m | rel. error | 90 % coverage | NLL | corr(mean, log d) | "
            + " | ".join(f"MAE {b} m" for b in ("0.3-1", "1-2", "2-4", "4-8", "8-20")) + " |",
            "|---" * 13 + "|"]
    for name, res in results.items():
        for method, s in res.items():
            bins = " | ".join(str(s["by_distance"].get(b, {}).get("mae_m", "–"))
                              for b in ("0.3-1", "1-2", "2-4", "4-8", "8-20"))
            rows.append(f"| {name} | {method} | {s['mae_m']} | {s['median_ae_m']} | {s['rel_error']} | "
                        f"{s.get('coverage', '–')} | {s.get('nll', '–')} | {s.get('corr_log', '–')} | {bins} |")
    return "\n".join(rows)


def rt60_table(results: dict) -> str:
    bins = ("0.1-0.3", "0.3-0.6", "0.6-1", "1-2")
    rows = ["| set | " + " | ".join(f"MAE RT60 {b} s" for b in bins) + " |", "|---" * 5 + "|"]
    for name, res in results.items():
        s = res["model"]["by_rt60"]
        rows.append(f"| {name} | " + " | ".join(str(s.get(b, {}).get("mae_m", "–")) for b in bins) + " |")
    return "\n".join(rows)


def main(argv=None):
    args = parse_args(argv)
    import keras

    from soundpred.bundle import load_bundle, save_bundle
    from soundpred.models import DISTANCE_FRONTEND, build_distance, gaussian_nll
    from soundpred.rooms import BROAD, SHIFTED, TRAIN

    keras.utils.set_random_seed(args.seed)
    if args.evaluate:
        bundle = load_bundle(args.evaluate)
        model, fe = bundle.model, bundle.frontend
    else:
        fe = DISTANCE_FRONTEND
    sr = fe.sample_rate
    train_bank, heldout, shifted, broad = room_banks(sr, rooms=args.rooms, eval_rooms=args.eval_rooms, seed=args.seed)
    sources = dry_sources(sr, n_speech=args.speech, data=args.data)
    print(f"{len(train_bank)} training RIRs, {len(heldout)} held-out, {len(shifted)} shifted; dry sources: "
          f"{len(sources[0])}+{len(sources[1])} train, {len(sources[2])}+{len(sources[3])} eval", file=sys.stderr)
    train_median = float(np.median(train_bank.distance))

    # the classical baseline is fitted on simulated training examples
    fit_x = make_examples(train_bank.subset(np.arange(min(len(train_bank), 1200))), sources[0], sources[1], TRAIN,
                          n=fe.window_samples, sr=sr, seed=args.seed + 7, speech_share=args.speech_share)
    ridge = RidgeBaseline().fit(classical_features(logmel_of(fe, fit_x)), np.log(train_bank.distance[:len(fit_x)]))
    del fit_x

    history, train_seconds = {}, 0.0
    if not args.evaluate:
        model = build_distance(fe, width=args.width)
        model.compile(optimizer=adamw_cosine(args.lr, args.epochs * args.steps, 2 * args.steps), loss=gaussian_nll)
        t0 = time.time()
        hist = model.fit(make_batches(train_bank, sources[0], sources[1], TRAIN, fe, args), epochs=args.epochs,
                         verbose=args.verbose)
        train_seconds, history = time.time() - t0, hist.history
        print(f"trained in {train_seconds:.0f} s", file=sys.stderr)

    out = args.out or args.evaluate
    figs = out / "figures"
    figs.mkdir(parents=True, exist_ok=True)
    # held-out rooms and shifted simulation with held-out dry sources; a slice of the training rooms
    # with training sources shows whether the model over- or underfits
    banks = {"held-out rooms": (heldout, TRAIN, args.seed + 11, sources[2], sources[3]),
             "shifted simulation": (shifted, SHIFTED, args.seed + 12, sources[2], sources[3]),
             "broad distances": (broad, BROAD, args.seed + 14, sources[2], sources[3]),
             "training rooms": (train_bank.subset(np.arange(min(len(train_bank), len(heldout)))), TRAIN,
                                args.seed + 13, sources[0], sources[1])}
    oracle = RirOracle(sr).fit(train_bank)
    results = evaluate(model, fe, args, banks, train_median, ridge, figs, oracle)
    print(table(results))
    print()
    print(rt60_table(results))
    if args.evaluate:
        (out / "evaluation.json").write_text(json.dumps(results, indent=2) + "\n")
        return results

    training = {"rooms": args.rooms, "rirs": len(train_bank), "settings": TRAIN.name, "epochs": args.epochs,
                "steps_per_epoch": args.steps, "batch_size": args.batch_size, "train_median_m": train_median,
                "params": int(model.count_params()), "train_seconds": round(train_seconds, 1),
                "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
                "dry_sources": {"espeak-ng speech": len(sources[0]), "starter clips": len(sources[1])},
                "command": "python -m train.distance " + " ".join(sys.argv[1:] if argv is None else argv)}
    save_bundle(model, out, frontend=fe, task="distance", metrics=results, training=training,
                card=write_card(training, results), name="soundpred-distance")
    write_history(out, history)
    finish_bundle(args, [], task="distance")
    return results


def write_card(training: dict, results: dict) -> str:
    h = results["held-out rooms"]["model"]
    return f"""---
library_name: keras
license: mit
tags: [audio, distance-estimation, room-acoustics, soundpred, simulation]
metrics:
- name: mae_m_heldout_rooms
  value: {h["mae_m"]}
- name: rel_error_heldout_rooms
  value: {h["rel_error"]}
---
# soundpred distance model

Waveform in (16 kHz mono, 4 s windows), the natural log of the source–microphone distance in
metres out, as a Gaussian mean and log standard deviation; the app reports exp(mean) and the
90 % interval exp(mean ± 1.645 sd).

## Training data
Simulated only (pyroomacoustics image sources, randomised, with air absorption): {training["rirs"]}
RIRs in {training["rooms"]} shoebox rooms (3–35 m, per-wall absorption with a random frequency tilt,
RT60 0.1–2 s from Sabine's formula with a random mean absorption 0.05–0.8, so it grows with the
room), distances log-normal around 2.5 m (sigma 0.7 in log space, 0.3–20 m, up to what fits
the room: median {training["train_median_m"]:.2f} m; a prior chosen for measured rooms, see the
project README), convolved on the fly with espeak-ng speech and
starter clips (research-use and Creative Commons recordings), noise at 5–40 dB SNR, random
colouration, level and onset: the direct sound's arrival time carries no distance.

## Evaluation (rooms and dry sources never used in training)
*held-out rooms*: the training settings, other rooms; *shifted simulation*: cardioid source and
microphone, other absorption profiles, hum and babble noise, RT60 independent of the room's size;
*broad distances*: the training settings with distances log-uniform over 0.3–20 m, far more near
and far sources than the training prior expects.

{table(results)}

{rt60_table(results)}

Simulation only: real rooms, microphones and browsers' audio processing will do worse; treat
the interval as a rough guide.

## Training
`{training["command"]}` — {training["epochs"]} × {training["steps_per_epoch"]} batches of
{training["batch_size"]}, {training["train_seconds"]:.0f} s on {training["machine"]}.
"""


if __name__ == "__main__":
    main()
