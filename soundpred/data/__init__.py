"""Dataset readers. Each returns a list of :class:`Clip` records; audio is read lazily."""
from .common import Clip, AUDIO_EXTENSIONS, cache_dir  # noqa: F401
from .fsdkaggle import read_fsdkaggle2018  # noqa: F401
from .esc50 import read_esc50  # noqa: F401
from .folders import read_folders  # noqa: F401
