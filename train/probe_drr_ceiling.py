"""Probe: how well does the *true* response order positions inside a simulated room?

    python -m train.probe_drr_ceiling      # seconds once the room banks are cached

The simulated counterpart of issue 12's check on measured rooms, where the direct-to-reverberant
ratio (DRR) of the true response tracked log distance within a room with correlations of
−0.65 to −1.0. For every bank of ``train.distance`` (training, held-out, shifted, broad, hybrid):
the mean over rooms of the Spearman correlation, inside each room, of the distance with minus the
DRR and minus C50 of the true RIR (``train.distance_eval.rir_parameters``), and the same over
all rooms at once. Not blind: what a perfect blind DRR estimate would allow, a ceiling for the
"rank within rooms" of ``train.distance --evaluate`` (whose ``rir_oracle_not_blind`` row, a
regression across rooms on the same parameters, orders positions inside a room less well).
"""
from __future__ import annotations

import numpy as np
from scipy.stats import spearmanr

from soundpred.metrics import spearman_within_rooms
from soundpred.rooms import RirBank
from train.distance_eval import rir_parameters, room_banks

BANKS = {"training rooms": "train", "held-out rooms": "heldout", "shifted simulation": "shifted",
         "broad distances": "broad", "hybrid simulation": "hybrid"}


def ordering(bank: RirBank, sr: int) -> dict:
    """Within-room and overall Spearman correlation of the distance with −DRR and with −C50."""
    p = np.stack([rir_parameters(h, sr) for h in bank.rirs])
    out = {"rooms": int(len(np.unique(bank.room)))}
    for name, col in (("drr", 0), ("c50", 1)):
        out[f"{name}_within"] = spearman_within_rooms(-p[:, col], bank.distance, bank.room)
        out[f"{name}_all"] = round(float(spearmanr(-p[:, col], bank.distance).statistic), 3)
    return out


def main(argv=None):
    import argparse

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rooms", type=int, default=600)
    ap.add_argument("--eval-rooms", type=int, default=100)
    ap.add_argument("--hybrid-rooms", type=int, default=900, help="hybrid training rooms (as train.distance's)")
    args = ap.parse_args(argv)
    sr = 16000
    banks = room_banks(sr, rooms=args.rooms, eval_rooms=args.eval_rooms, seed=0, hybrid_rooms=args.hybrid_rooms)
    print("| bank | rooms | −DRR within rooms | −C50 within rooms | −DRR over all rooms | −C50 over all rooms |")
    print("|---|---|---|---|---|---|")
    rows = {}
    for label, attr in [*BANKS.items(), ("hybrid training rooms", "hybrid_train")]:
        bank = getattr(banks, attr)
        if bank is None:
            continue
        r = rows[label] = ordering(bank, sr)
        print(f"| {label} | {r['rooms']} | {r['drr_within']:.2f} | {r['c50_within']:.2f} | {r['drr_all']:.2f} "
              f"| {r['c50_all']:.2f} |")
    return rows


if __name__ == "__main__":
    main()
