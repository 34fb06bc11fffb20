"""What each simulation's held-out rooms look like, and how much their true responses say about distance.

    python -m train.room_statistics         # seconds once train.distance has cached the banks

Per simulation setting (the held-out banks of ``train.distance``): the distance, RT60 and
volume of each room kind, and the Spearman correlation of the true RIR's direct-to-reverberant
ratio with log-distance, over all pairs and within each room (the cue a blind model can use
inside a room; in measured rooms it is -0.65 to -1.0), and of the room's RT60 and volume with
log-distance (what room size says about distance: nothing, when the distance prior ignores
the room).
"""
from __future__ import annotations

import numpy as np
from scipy.stats import spearmanr

from soundpred.metrics import spearman_within_rooms
from soundpred.rooms import ROOM_KINDS
from train.distance_eval import rir_parameters, room_banks


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
    print("\n| simulation | DRR vs log d, all | DRR vs log d, within rooms | RT60 vs log d | volume vs log d |\n"
          "|---|---|---|---|---|")
    for name, bank in sets.items():
        drr = np.array([rir_parameters(h, 16000)[0] for h in bank.rirs])
        ld = np.log(bank.distance)
        print(f"| {name} | {spearmanr(drr, ld)[0]:.2f} | {spearman_within_rooms(drr, ld, bank.room):.2f} | "
              f"{spearmanr(bank.rt60, ld)[0]:.2f} | {spearmanr(bank.volume, ld)[0]:.2f} |")


if __name__ == "__main__":
    main()
