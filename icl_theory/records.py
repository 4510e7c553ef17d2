"""Saving results as data: atomic writes and the provenance every result carries."""

import datetime
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


def segment(kind: str, from_step: int) -> dict[str, Any]:
    """One training segment's record: what started it (`start`, `warm start`, `resume`,
    `extend`, `restart`), the step it continued from, when, and the git state of the code that
    ran it (a run resumed after a code change ran two codes; each segment says which)."""
    started = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    return {"kind": kind, "from_step": from_step, "started": started, "git": _git_state()}


def record_segment(run: str | os.PathLike, kind: str, from_step: int) -> None:
    """Append a segment to `RUN/provenance.json` (a run started before segments were recorded
    gets its first segment rebuilt from the top-level git state, marked `recorded_late`)."""
    path = Path(run) / "provenance.json"
    try:
        data = json.loads(path.read_text()) if path.is_file() else provenance()
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
    except (ValueError, UnicodeDecodeError) as error:
        raise ValueError(
            f"{path} is not readable ({error}): it is damaged; move it aside to continue (the "
            "run then records a new provenance from this segment on)"
        ) from error
    earlier = data.get("segments", [_late_first_segment(data)])
    write_json_atomic(path, data | {"segments": [*earlier, segment(kind, from_step)]})


def backfill_segments(run: str | os.PathLike) -> bool:
    """Give a run trained before segments were recorded its first segment, rebuilt from the
    top-level git state and marked `recorded_late` (whether it was resumed later, and from
    which code, was not recorded). False if it already has segments."""
    path = Path(run) / "provenance.json"
    data = json.loads(path.read_text())
    if "segments" in data:
        return False
    write_json_atomic(path, data | {"segments": [_late_first_segment(data)]})
    return True


def _late_first_segment(data: dict[str, Any]) -> dict[str, Any]:
    """The start segment of a run recorded before segments were, from its top-level git state."""
    return {"kind": "start", "from_step": 0, "git": data.get("git"), "recorded_late": True}


def unclean_segments(provenance_data: dict[str, Any]) -> list[dict[str, Any]]:
    """The segments of a run's provenance that ran uncommitted code (or whose git state is
    unknown): a run with any of them was "trained from uncommitted code"."""
    segments = provenance_data.get("segments") or [{"git": provenance_data.get("git") or {}}]
    return [s for s in segments if (s.get("git") or {}).get("dirty") is not False]


def write_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Write `data` to `path` so that a reader sees the old file or the new one, never a part:
    a temporary file in the same folder, flushed and fsynced, then renamed over `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp creates the file private (0600); give it the mode of the file it replaces, or
        # the one open() would give a new file under the user's umask, so that replacing a file
        # does not change who can read it.
        os.fchmod(handle, _mode_of(path))
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        if error.filename is None:  # a failed write or fsync names no file: name ours
            raise OSError(error.errno, error.strerror, str(path)) from error
        raise
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _mode_of(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o777
    except FileNotFoundError:
        return 0o666 & ~_umask()


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
