"""Collect extra labelled recordings that packages install, as folder-per-class trees.

    sudo apt-get install hydrogen-drumkits                  # acoustic drum kits (GPL/CC per kit)
    python -m train.extra_data --out ~/.cache/soundpred/extra   # also runs npm for the tonejs notes

Writes ``OUT/hydrogen-drumkits/<label>/`` and ``OUT/tonejs-instruments/<label>/`` with
symbolic links to the installed files (nothing is copied into the project). Only
real recordings are used, only for labels the starter set has, at most ``--cap``
files per label and source:

- Debian ``hydrogen-drumkits``, acoustic kits only: Bass_drum, Snare_drum, Hi-hat.
- npm ``tonejs-instrument-*`` (CC-BY 3.0 samples of real instruments, MIT package):
  Acoustic_guitar, Cello, Clarinet, Double_bass, Flute, Saxophone, Violin_or_fiddle.
"""
from __future__ import annotations

import argparse
import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

HYDROGEN = Path("/usr/share/hydrogen/data/drumkits")
ACOUSTIC_KITS = ("BJA_Pacific", "ColomboAcousticDrumkit", "ForzeeStereo", "Millo-Drums_v.1",
                 "Millo_MultiLayered2", "Millo_MultiLayered3", "The Black Pearl 1.0")
DRUM_NAMES = (("Bass_drum", re.compile(r"kick|bass ?drum", re.I)),
              ("Snare_drum", re.compile(r"snare", re.I)),
              ("Hi-hat", re.compile(r"\bhh\b|hi[- ]?hat|\bhat\b", re.I)))
TONEJS = {"cello-wav": "Cello", "contrabass-wav": "Double_bass", "flute-wav": "Flute",
          "guitar-acoustic-wav": "Acoustic_guitar", "saxophone-wav": "Saxophone",
          "violin-wav": "Violin_or_fiddle", "clarinet-mp3": "Clarinet"}


def drum_label(name: str) -> str | None:
    for label, pattern in DRUM_NAMES:
        if pattern.search(name):
            return label
    return None


def kit_instruments(kits, root: Path = HYDROGEN):
    """``(kit, instrument name, its sample files that exist)`` for every instrument of the Hydrogen
    ``kits`` installed under ``root`` (a kit not installed is skipped)."""
    for kit in kits:
        xml = root / kit / "drumkit.xml"
        if not xml.exists():
            continue
        tree = ET.parse(xml).getroot()
        ns = re.match(r"\{.*\}", tree.tag)
        ns = ns.group(0) if ns else ""
        for inst in tree.iter(f"{ns}instrument"):
            files = [root / kit / fn.text for fn in inst.iter(f"{ns}filename") if fn.text]
            yield kit, inst.findtext(f"{ns}name") or "", [p for p in files if p.exists()]


def hydrogen_files() -> dict[str, list[Path]]:
    out: dict[str, list[Path]] = {}
    for _, name, files in kit_instruments(ACOUSTIC_KITS):
        label = drum_label(name)
        if label is not None:
            out.setdefault(label, []).extend(files)
    return out


def tonejs_files(npm_dir: Path) -> dict[str, list[Path]]:
    pkgs = [f"tonejs-instrument-{k}" for k in TONEJS]
    modules = npm_dir / "node_modules"
    if not all((modules / p).is_dir() for p in pkgs):
        npm_dir.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(npm_dir), *pkgs], check=True)
    return {label: sorted(p for p in (modules / f"tonejs-instrument-{k}").iterdir()
                          if p.suffix in (".wav", ".mp3"))
            for k, label in TONEJS.items()}


def link_tree(files: dict[str, list[Path]], out: Path, cap: int, seed: int) -> int:
    rng = np.random.default_rng(seed)
    n = 0
    for label, paths in sorted(files.items()):
        paths = sorted(set(paths))
        if len(paths) > cap:
            paths = [paths[i] for i in sorted(rng.choice(len(paths), cap, replace=False))]
        d = out / label
        d.mkdir(parents=True, exist_ok=True)
        for p in paths:
            link = d / re.sub(r"[^\w.-]+", "_", f"{p.parent.parent.name}__{p.parent.name}__{p.name}")
            if not link.exists():
                link.symlink_to(p)
            n += 1
        print(f"{out.name}/{label}: {len(paths)} files")
    return n


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path.home() / ".cache" / "soundpred" / "extra")
    ap.add_argument("--cap", type=int, default=30, help="most files per label and source")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if not HYDROGEN.is_dir():
        raise SystemExit("hydrogen-drumkits is not installed: apt-get install hydrogen-drumkits")
    link_tree(hydrogen_files(), args.out / "hydrogen-drumkits", args.cap, args.seed)
    link_tree(tonejs_files(args.out / "npm"), args.out / "tonejs-instruments", args.cap, args.seed)


if __name__ == "__main__":
    main()
