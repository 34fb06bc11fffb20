"""Settings read once from the environment, and the README's table of them."""
from __future__ import annotations

import os

import pytest

from soundpred.settings import VARIABLES, Settings, limit_malloc_arenas, trim_malloc

from .conftest import ROOT, proc_status_mb


def test_defaults_and_overrides():
    assert Settings.from_env({}) == Settings()
    s = Settings.from_env({"SOUNDPRED_MAX_SECONDS": "30", "SOUNDPRED_CONCURRENCY": "4",
                           "SOUNDPRED_CLASSIFIER": "owner/name@abc", "SOUNDPRED_QUEUE_SIZE": " "})
    assert (s.max_seconds, s.concurrency, s.classifier, s.queue_size) == (30.0, 4, "owner/name@abc", 64)
    assert Settings().run_history is False
    assert Settings.from_env({"GRADIO_RUN_HISTORY": "True"}).run_history is True
    assert Settings.from_env({"GRADIO_RUN_HISTORY": "false"}).run_history is False


def test_bad_value_names_the_variable():
    with pytest.raises(ValueError, match="SOUNDPRED_CONCURRENCY='two'"):
        Settings.from_env({"SOUNDPRED_CONCURRENCY": "two"})
    with pytest.raises(ValueError, match="GRADIO_RUN_HISTORY='yes' is not a valid bool"):
        Settings.from_env({"GRADIO_RUN_HISTORY": "yes"})


def test_readme_documents_every_variable():
    readme = (ROOT / "README.md").read_text()
    for var, name, _ in VARIABLES:
        assert f"| `{var}` |" in readme, var


def test_malloc_arenas_cap():
    import platform

    assert limit_malloc_arenas(0) is False  # 0 leaves glibc's default
    capped = limit_malloc_arenas(2)  # never raises; on glibc, mallopt accepts it
    assert capped is (platform.libc_ver()[0] == "glibc")


def test_trim_malloc_hands_freed_heap_memory_back():
    """Memory freed below a block still in use stays resident until ``trim_malloc`` (glibc): of
    150 MB in 64 kB arrays (under the size glibc maps on its own), freed while a later one
    lives on, most comes back to the system once trimmed."""
    import platform

    import numpy as np

    if platform.libc_ver()[0] != "glibc":
        pytest.skip("malloc_trim is glibc's")
    trim_malloc()
    blocks = [np.ones(8192) for _ in range(2400)]  # 8192 float64: 64 kB each
    later = np.ones(8192)  # allocated after them, so the heap's top stays in use
    del blocks
    before = proc_status_mb(os.getpid(), "VmRSS")
    assert trim_malloc() is True
    after = proc_status_mb(os.getpid(), "VmRSS")
    assert before - after > 100, (before, after)
    del later
