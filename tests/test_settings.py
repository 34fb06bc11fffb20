"""Settings read once from the environment, and the README's table of them."""
from __future__ import annotations

import pytest

from soundpred.settings import VARIABLES, Settings, limit_malloc_arenas

from .conftest import ROOT


def test_defaults_and_overrides():
    assert Settings.from_env({}) == Settings()
    s = Settings.from_env({"SOUNDPRED_MAX_SECONDS": "30", "SOUNDPRED_CONCURRENCY": "4",
                           "SOUNDPRED_CLASSIFIER": "owner/name@abc", "SOUNDPRED_QUEUE_SIZE": " "})
    assert (s.max_seconds, s.concurrency, s.classifier, s.queue_size) == (30.0, 4, "owner/name@abc", 64)


def test_bad_value_names_the_variable():
    with pytest.raises(ValueError, match="SOUNDPRED_CONCURRENCY='two'"):
        Settings.from_env({"SOUNDPRED_CONCURRENCY": "two"})


def test_readme_documents_every_variable():
    readme = (ROOT / "README.md").read_text()
    for var, name, _ in VARIABLES:
        assert f"| `{var}` |" in readme, var


def test_malloc_arenas_cap():
    import platform

    assert limit_malloc_arenas(0) is False  # 0 leaves glibc's default
    capped = limit_malloc_arenas(2)  # never raises; on glibc, mallopt accepts it
    assert capped is (platform.libc_ver()[0] == "glibc")
