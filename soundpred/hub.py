"""Where models come from: the embedded defaults, a local folder, or a Hugging Face Hub repo.

A model spec is ``owner/name``, ``owner/name@revision`` or a local folder; ``None``
means the embedded default (``models/`` in a checkout, ``soundpred/_models`` when installed
with pip). The app and the CLI take their specs from :class:`soundpred.settings.Settings`
(``SOUNDPRED_CLASSIFIER`` / ``SOUNDPRED_DISTANCE``). Hub repos are
fetched with :func:`huggingface_hub.snapshot_download` (so ``HF_HUB_OFFLINE=1``
and the standard cache work); when the Hub cannot be reached and nothing is
cached, the embedded default is used and a warning says so.
"""
from __future__ import annotations

import re
from pathlib import Path

from huggingface_hub import HfApi, snapshot_download

from .bundle import Bundle, BundleError, load_bundle

__all__ = ["resolve", "parse_spec", "EMBEDDED", "ENV_VARS"]

_PACKAGE = Path(__file__).resolve().parent
#: The embedded bundles: ``models/`` beside the package in a checkout; a pip install carries
#: them inside the package as ``soundpred/_models`` (see pyproject.toml).
MODELS = next((d for d in (_PACKAGE.parent / "models", _PACKAGE / "_models") if (d / "classifier").is_dir()),
              _PACKAGE.parent / "models")
EMBEDDED = {"classification": MODELS / "classifier", "distance": MODELS / "distance"}
ENV_VARS = {"classification": "SOUNDPRED_CLASSIFIER", "distance": "SOUNDPRED_DISTANCE"}
_REPO = re.compile(r"^(?P<repo>[A-Za-z0-9][\w.-]*/[\w.-]+)(?:@(?P<rev>[\w./-]+))?$")


def parse_spec(spec: str) -> tuple[str, str | None] | None:
    """``"owner/name@rev"`` -> ``("owner/name", "rev")``; None if ``spec`` is not a repo id."""
    m = _REPO.match(spec.strip())
    return (m["repo"], m["rev"]) if m else None


def _embedded(task: str) -> Bundle:
    b = load_bundle(EMBEDDED[task], source="embedded default")
    b.meta["revision"] = None
    return b


def resolve(spec: str | None, task: str) -> tuple[Bundle, str | None]:
    """Load the bundle ``spec`` names for ``task``.

    Returns ``(bundle, warning)``; ``warning`` is None unless the embedded default
    stands in for a Hub model that could not be fetched. A bundle that loads but
    is unsafe or unsupported raises :class:`BundleError`: it is never swapped silently.
    """
    if spec is None:
        return _embedded(task), None
    if Path(spec).expanduser().is_dir():
        bundle = load_bundle(Path(spec).expanduser())
    else:
        parsed = parse_spec(spec)
        if parsed is None:
            raise BundleError(f"{spec!r} is neither a folder nor a Hub repo id (owner/name[@revision])")
        repo, rev = parsed
        try:
            folder = snapshot_download(repo_id=repo, revision=rev)
        except Exception as e:  # offline and not cached, no such repo or revision, network down
            reason = str(e).strip().splitlines()[0][:200] if str(e).strip() else type(e).__name__
            return _embedded(task), (f"Could not get {spec} from the Hugging Face Hub ({reason}); "
                                     f"using the embedded default {task} model instead.")
        bundle = load_bundle(folder, source=f"hf://{repo}")
        bundle.meta["revision"] = Path(folder).name  # the snapshot's commit hash
    if bundle.task != task:
        raise BundleError(f"{spec} is a {bundle.task} bundle, not {task}")
    return bundle, None


def push_bundle(folder, repo_id: str, *, private: bool = False, branch: str | None = None,
                commit_message: str | None = None, api=None):
    """Upload a bundle folder to the Hub in one commit; returns the ``CommitInfo``.

    The token comes from ``HF_TOKEN`` or ``hf auth login`` (huggingface_hub's own
    lookup); it is never read, printed or written here. ``branch`` is created from
    ``main`` when it does not exist.
    """
    folder = Path(folder)
    meta = load_bundle(folder).meta  # refuse to push what would not load
    if not (folder / "README.md").is_file():
        raise BundleError(f"{folder} has no model card (README.md)")
    if api is None:
        api = HfApi()
    api.create_repo(repo_id, private=private, exist_ok=True)
    if branch and branch != "main":
        api.create_branch(repo_id, branch=branch, exist_ok=True)
    return api.upload_folder(
        repo_id=repo_id, folder_path=str(folder), revision=branch,
        commit_message=commit_message or f"soundpred {meta['task']} bundle {meta.get('name', '')}".strip())
