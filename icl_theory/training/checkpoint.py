"""Checkpoints: one file, a JSON header line (format, step, config, device count, and a SHA-256
of the rest of the header and the data) then the serialised leaves of the training state
(parameters, optimiser state, data key). Written atomically, so an interrupted write leaves the
previous checkpoint in place; read back into a skeleton built from the header's config, so a
checkpoint is loadable without the code that wrote it being in memory. The checksum is verified
on every load: a flipped bit, a truncated copy, appended bytes or an edited header are refused,
never loaded."""

import hashlib
import io
import json
from pathlib import Path
from typing import Any

import equinox as eqx

from icl_theory.records import write_atomic

FORMAT = "icl_theory-checkpoint-2"
# Format 1 has no checksum; its checkpoints still load, with the structural checks only.
UNCHECKED_FORMAT = "icl_theory-checkpoint-1"
CHECKPOINT_NAME = "checkpoint.eqx"


class CorruptCheckpointError(ValueError):
    """A checkpoint file that fails its checks (header, checksum, contents); the message names
    the file."""


def save_checkpoint(path: Path | str, header: dict[str, Any], state: Any) -> None:
    leaves = io.BytesIO()
    eqx.tree_serialise_leaves(leaves, state)
    data = leaves.getvalue()
    header = {"format": FORMAT, **header}
    first = {**header, "sha256": _checksum(header, data)}
    write_atomic(Path(path), (json.dumps(first, sort_keys=True) + "\n").encode() + data)


def _checksum(header: dict[str, Any], data: bytes) -> str:
    """Over the header (its canonical JSON, without the checksum) and the data: a changed step,
    config or device count is damage too."""
    digest = hashlib.sha256(json.dumps(header, sort_keys=True).encode())
    digest.update(data)
    return digest.hexdigest()


def read_header(path: Path | str) -> dict[str, Any]:
    """The header (format, step, config, ...), checked against the checksum before it is
    returned: a damaged header is refused as damage, never parsed into another config."""
    return _read(Path(path))[0]


def load_checkpoint(path: Path | str, like: Any) -> tuple[dict[str, Any], Any]:
    """`(header, state)`, with `state` shaped like `like` (same tree, shapes and dtypes)."""
    path = Path(path)
    header, data = _read(path)
    stream = io.BytesIO(data)
    try:
        state = eqx.tree_deserialise_leaves(stream, like)
    except Exception as error:  # equinox/numpy raise assorted types on truncated data
        raise _corrupt(path, f"its arrays do not match the run's state ({error})") from error
    if stream.read(1):
        raise _corrupt(path, "it has bytes after the last array")
    return header, state


def _read(path: Path) -> tuple[dict[str, Any], bytes]:
    """The header and the data, the checksum verified (format 2)."""
    with _open(path) as file:
        line = file.readline()
        header = _parse_header(path, line)
        data = file.read()
    if header["format"] == FORMAT:
        unsigned = {k: v for k, v in header.items() if k != "sha256"}
        # The header line must be as written, byte for byte: the checksum covers its values,
        # and an edit that keeps them (`1e-05` -> `1E-05`) is damage too.
        written = (json.dumps(header, sort_keys=True) + "\n").encode()
        if line != written or _checksum(unsigned, data) != header.get("sha256"):
            raise _corrupt(
                path,
                "its header and data do not match the checksum in its header (truncated, "
                "extended or altered since it was written)",
            )
    if type(header.get("step")) is not int or not isinstance(header.get("config"), dict):
        raise _corrupt(path, "its header lacks the step or the config")
    return header, data


def _open(path: Path):
    if not path.is_file():
        raise FileNotFoundError(
            f"no checkpoint at {path}: pass a run folder that holds {CHECKPOINT_NAME}"
        )
    return path.open("rb")


def _parse_header(path: Path, line: bytes) -> dict[str, Any]:
    try:
        header = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise _corrupt(path, "its header line is not JSON") from error
    if not isinstance(header, dict) or header.get("format") not in (FORMAT, UNCHECKED_FORMAT):
        raise _corrupt(path, f"its header does not declare format {FORMAT!r}")
    return header


def _corrupt(path: Path, why: str) -> CorruptCheckpointError:
    return CorruptCheckpointError(
        f"checkpoint {path} is corrupt: {why}. It was not modified; restore it from a copy, or "
        "train the run again."
    )
