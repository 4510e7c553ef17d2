"""Saving results as data: atomic writes and the provenance every result carries."""

import json
import os
import platform
import subprocess
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = ("icl-theory", "jax", "jaxlib", "equinox", "optax", "numpyro", "numpy")


# What a result depends on. Outputs (results, tables, figures, checkpoints, metrics) are left
# out: an experiment that writes its first results must not mark its second ones as dirty.
CODE_PATHSPEC = ("*.py", "pyproject.toml")


def provenance() -> dict[str, Any]:
    """Package versions, git commit with a dirty flag (uncommitted changes to code: Python files
    or `pyproject.toml`), Python and machine."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "versions": versions,
        "git": _git_state(),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "processor_count": os.cpu_count(),
    }


def write_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Write `data` to `path` so that a reader sees the old file or the new one, never a part:
    a temporary file in the same folder, flushed and fsynced, then renamed over `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp creates the file private (0600); give it the mode open() would, under the
        # user's umask, so that replacing a file does not change who can read it.
        os.fchmod(handle, 0o666 & ~_umask())
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_text(path: str | os.PathLike, text: str) -> Path:
    """`write_atomic` of UTF-8 text; returns the path."""
    write_atomic(path, text.encode())
    return Path(path)


def _umask() -> int:
    mask = os.umask(0)  # the only way to read it: set, then restore at once
    os.umask(mask)
    return mask


def write_json_atomic(path: str | os.PathLike, value: Any) -> None:
    write_atomic(path, (json.dumps(value, indent=2, sort_keys=True) + "\n").encode())


def _git_state() -> dict[str, Any]:
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--", *CODE_PATHSPEC],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "dirty": None}
    changed = [line[3:] for line in status.splitlines() if line.strip()]
    return {"commit": commit, "dirty": bool(changed), "uncommitted": changed}
