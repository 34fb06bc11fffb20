"""Run-time settings of the app and the CLI, read once from the environment.

``Settings.from_env()`` is called once by ``app.py`` (and the CLI) and the object is passed
down; nothing else in the package reads these variables. :data:`VARIABLES` lists them, with what
the README's configuration table says (``tests/test_settings.py`` checks it names each one).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
from dataclasses import dataclass, fields

__all__ = ["Settings", "VARIABLES", "limit_malloc_arenas", "trim_malloc"]

#: (environment variable, Settings field, meaning)
VARIABLES = (
    ("SOUNDPRED_CLASSIFIER", "classifier", "classifier bundle: folder or Hub repo `owner/name[@revision]`; unset: embedded default"),
    ("SOUNDPRED_DISTANCE", "distance", "distance bundle, as above"),
    ("SOUNDPRED_MAX_SECONDS", "max_seconds", "longest audio analysed, seconds"),
    ("SOUNDPRED_MAX_FILE_SIZE", "max_file_size", "largest upload the app accepts"),
    ("SOUNDPRED_CONCURRENCY", "concurrency", "analyses at once in the app, all endpoints together"),
    ("SOUNDPRED_QUEUE_SIZE", "queue_size", "requests that may wait; beyond, \"queue is full\" at once"),
    ("SOUNDPRED_CACHE_SECONDS", "cache_seconds", "uploads leave Gradio's cache after this many seconds"),
    ("SOUNDPRED_MALLOC_ARENAS", "malloc_arenas", "glibc malloc arenas of the app process (0: glibc's default)"),
    ("GRADIO_SERVER_NAME", "server_name", "address the app listens on (`0.0.0.0` to serve a network)"),
    ("GRADIO_RUN_HISTORY", "run_history", "Gradio's run history in each browser (`true` or `false`)"),
)


@dataclass(frozen=True)
class Settings:
    classifier: str | None = None
    distance: str | None = None
    max_seconds: float = 600.0
    max_file_size: str = "100mb"
    concurrency: int = 2
    queue_size: int = 64
    cache_seconds: int = 3600
    malloc_arenas: int = 2
    server_name: str = "127.0.0.1"
    #: Off, unlike Gradio's default: it keeps the runs of the "Analyze again" button (not those of
    #: uploads or recordings) in the person's browser, and a replayed run shows no labels.
    run_history: bool = False

    @classmethod
    def from_env(cls, environ=None) -> "Settings":
        """Settings from ``environ`` (default ``os.environ``); unset or empty variables keep the
        defaults. A value that does not parse raises ``ValueError`` naming the variable."""
        environ = os.environ if environ is None else environ
        types = {f.name: f.type for f in fields(cls)}
        values = {}
        for var, name, _ in VARIABLES:
            raw = environ.get(var, "").strip()
            if not raw:
                continue
            kind = types[name]
            try:
                values[name] = int(raw) if kind == "int" else float(raw) if kind == "float" else \
                    _boolean(raw) if kind == "bool" else raw
            except ValueError:
                raise ValueError(f"{var}={raw!r} is not a valid {kind}") from None
        return cls(**values)


def _boolean(raw: str) -> bool:
    if raw.lower() not in ("true", "false"):
        raise ValueError(raw)
    return raw.lower() == "true"


@functools.cache
def _glibc():
    """The C library if it is glibc (it has ``mallopt`` and ``malloc_trim``), else None; looked up once."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt, libc.malloc_trim  # noqa: B018  (AttributeError where they are missing)
        return libc
    except (OSError, AttributeError):  # not glibc (macOS, musl)
        return None


def limit_malloc_arenas(n: int) -> bool:
    """Cap glibc's malloc arenas (``mallopt(M_ARENA_MAX, n)``) in this process; True if set.

    glibc gives each thread an arena of its own (up to 8 per core) and Gradio serves requests on
    a pool of threads: freed memory stays spread over the arenas, and the app's resident memory
    crept up by about 60 MB over 800 requests; with two arenas it stays flat
    (``tests/test_memory.py::test_soak_memory``). Call it before the server starts threads.
    """
    libc = _glibc() if n > 0 else None
    return bool(libc is not None and libc.mallopt(-8, n))  # M_ARENA_MAX = -8 in glibc's malloc.h


def trim_malloc() -> bool:
    """Hand the free memory inside glibc's heap back to the system (``malloc_trim(0)``); True if
    it was called (glibc only).

    glibc returns freed memory only from the top of its heap; what is freed below live blocks
    stays resident. The app's predictor, called in a loop 700 times (session 10), grew from 879 to
    889 MB, and with its figures from 888 to 899 MB; with this called every 10 calls it stayed at
    849–854 and 860–864 MB. One call costs about 2.5 ms there, so the app calls it every
    :data:`app.TRIM_EVERY` analyses, not after each."""
    libc = _glibc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True
