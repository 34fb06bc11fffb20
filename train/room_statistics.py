"""What each simulation's held-out rooms look like, and how much their true responses say about distance.

    python -m train.room_statistics         # seconds once train.distance has cached the banks

Per simulation setting (the held-out banks of ``train.distance``): the distance, RT60 and
volume of each room kind, and the Spearman correlation of the true RIR's direct-to-reverberant
ratio with log-distance, over all pairs and within each room (the cue a blind model can use
inside a room; in measured rooms it is -0.65 to -1.0), of its C50 within each room, and of the
room's RT60 and volume with log-distance (what room size says about distance: nothing, when the
distance prior ignores the room); the correlations also for the training rooms and the broad set.
"""
from __future__ import annotations

import numpy as np
from scipy.stats import spearmanr

from soundpred.metrics import spearman_within_rooms
from soundpred.rooms import ROOM_KINDS, RirBank
from train.distance_eval import bank_parameters, room_banks


def main(argv=None):
    banks = room_banks(16000)
    print("| simulation | kind | pairs | distance p10–p50–p90 m | RT60 p10–p50–p90 s | volume median m³ |\n"
          "|---|---|---|---|---|---|")
    sets = {"train (held-out)": banks.heldout, "shifted": banks.shifted, "hybrid (held-out)": banks.hybrid}
    for name, bank in sets.items():
        for kind in ROOM_KINDS[1:]:
            m = bank.kind == kind
            if m.any():
                d, rt = (np.percentile(v[m], [10, 50, 90]) for v in (bank.distance, bank.rt60))
                print(f"| {name} | {kind} | {m.sum()} | {d[0]:.1f}–{d[1]:.1f}–{d[2]:.1f} | "
                      f"{rt[0]:.2f}–{rt[1]:.2f}–{rt[2]:.2f} | {np.median(bank.volume[m]):.0f} |")
    print("\n| simulation | DRR vs log d, all | DRR vs log d, within rooms | C50 vs log d, within rooms | RT60 vs log d "
          "| volume vs log d |\n|---|---|---|---|---|---|")
    for name, bank in {"train (training rooms)": banks.train, **sets, "broad": banks.broad}.items():
        c = cue_ordering(bank)
        print(f"| {name} | {c['drr_all']:.2f} | {c['drr_within']:.2f} | {c['c50_within']:.2f} | {c['rt60_all']:.2f} "
              f"| {c['volume_all']:.2f} |")


def cue_ordering(bank: RirBank, sr: int = 16000) -> dict:
    """Spearman correlations with log-distance: of the true RIR's DRR over all pairs
    (``drr_all``) and within each room (``drr_within``; the mean over rooms), of its C50 within
    each room (``c50_within``), and of the room's RT60 and volume over all pairs. The within-room
    figures are what a perfect blind estimate of the cue would allow a model inside a room."""
    p, ld = bank_parameters(bank, sr), np.log(bank.distance)
    return {"drr_all": float(spearmanr(p[:, 0], ld)[0]), "drr_within": spearman_within_rooms(p[:, 0], ld, bank.room),
            "c50_within": spearman_within_rooms(p[:, 1], ld, bank.room),
            "rt60_all": float(spearmanr(bank.rt60, ld)[0]), "volume_all": float(spearmanr(bank.volume, ld)[0])}


if __name__ == "__main__":
    main()
