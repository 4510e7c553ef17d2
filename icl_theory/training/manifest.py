"""A run folder's manifest: the SHA-256 of each JSON file the run wrote (config, prior,
provenance), checked before any of them is parsed, so that a flipped bit is refused with the
file's name instead of being read as a different config or prior. The checkpoint and snapshots
carry checksums of their own, and each metrics line one of its own (`metrics_log.py`): they
change too often, or grow, so a folder-level list would have to be rewritten with them.

    RUN/manifest.json   {"format": ..., "files": {name: sha256}, "sha256": of the rest}
"""

import hashlib
import json
from pathlib import Path
from typing import Any

from icl_theory.records import write_json_atomic

MANIFEST_NAME = "manifest.json"
FORMAT = "icl_theory-manifest-1"


class DamagedRunFileError(ValueError):
    """A file of a run folder that does not match its recorded checksum, or cannot be read."""


def write_manifest(folder: Path, names: tuple[str, ...], *, backfilled: bool = False) -> None:
    """Record the checksums of the files `names` of `folder` that exist. `backfilled` marks a
    manifest given later to a folder written without one: it vouches for the files from then
    on, not for what happened to them before."""
    files = {name: _digest(folder / name) for name in names if (folder / name).is_file()}
    body = {"format": FORMAT, "files": files} | ({"backfilled": True} if backfilled else {})
    write_json_atomic(folder / MANIFEST_NAME, body | {"sha256": _canonical_digest(body)})


def verify_manifest(folder: Path) -> bool:
    """Check every file the manifest lists; False when the folder has no manifest (a run
    written before manifests were). A damaged manifest or file raises `DamagedRunFileError`
    naming it."""
    path = folder / MANIFEST_NAME
    if not path.is_file():
        return False
    manifest = _read_manifest(path)
    for name, digest in manifest["files"].items():
        file = folder / name
        if not file.is_file():
            raise DamagedRunFileError(
                f"{file} is missing, but {path} lists it: the run folder is incomplete; restore "
                "the file from a copy"
            )
        if _digest(file) != digest:
            raise DamagedRunFileError(
                f"{file} does not match its checksum in {path}: it was altered or damaged since "
                "the run wrote it; restore it from a copy (it was not read)"
            )
    return True


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        manifest: dict[str, Any] | None = json.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError):
        manifest = None
    if manifest is None or not _is_valid(manifest):
        raise DamagedRunFileError(
            f"{path} is damaged (not the manifest its checksum describes): restore it from a "
            f"copy, or, if the other files are known to be intact, delete it (the folder then "
            "loads unchecked)"
        )
    return manifest


def _is_valid(manifest: Any) -> bool:
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        return False
    body = {k: v for k, v in manifest.items() if k != "sha256"}
    return (
        manifest.get("format") == FORMAT
        and all(isinstance(v, str) for v in manifest["files"].values())
        and manifest.get("sha256") == _canonical_digest(body)
    )


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _canonical_digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()
