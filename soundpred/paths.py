"""Where the project finds what it does not ship: the shared data and pretrained weights.

``$SOUNDPRED_SHARED`` if set, else ``../shared`` beside the checkout (the layout CI and the
development machines use). Nothing here is read at import time beyond the environment.
"""
from __future__ import annotations

import os
from pathlib import Path

__all__ = ["SHARED", "STARTER", "MORE_REAL", "YAMNET_DIR"]

SHARED = Path(os.environ.get("SOUNDPRED_SHARED") or Path(__file__).resolve().parent.parent.parent / "shared")
STARTER = SHARED / "data" / "fsd-starter"
MORE_REAL = SHARED / "data" / "more-real"
YAMNET_DIR = SHARED / "pretrained" / "yamnet"
