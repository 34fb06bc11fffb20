"""soundpred: what made a sound, and how far away it was."""
__version__ = "0.1.0"

from .audio import AudioError  # noqa: F401  (the one error type people see)
