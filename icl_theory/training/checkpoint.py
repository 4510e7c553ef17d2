"""Checkpoints: one file, a JSON header line (format, step, config) then the serialised leaves of
the training state (parameters, optimiser state, data key). Written atomically, so an interrupted
write leaves the previous checkpoint in place; read back into a skeleton built from the header's
config, so a checkpoint is loadable without the code that wrote it being in memory."""

import io
import json
from pathlib import Path
from typing import Any

import equinox as eqx

from icl_theory.records import write_atomic

FORMAT = "icl_theory-checkpoint-1"
CHECKPOINT_NAME = "checkpoint.eqx"


class CorruptCheckpointError(ValueError):
    pass


def save_checkpoint(path: Path, header: dict[str, Any], state: Any) -> None:
    buffer = io.BytesIO()
    buffer.write((json.dumps({"format": FORMAT, **header}, sort_keys=True) + "\n").encode())
    eqx.tree_serialise_leaves(buffer, state)
    write_atomic(path, buffer.getvalue())


def read_header(path: Path) -> dict[str, Any]:
    """The header alone (format, step, config), without reading the leaves."""
    with _open(path) as file:
        return _parse_header(path, file.readline())


def load_checkpoint(path: Path, like: Any) -> tuple[dict[str, Any], Any]:
    """`(header, state)`, with `state` shaped like `like` (same tree, shapes and dtypes)."""
    with _open(path) as file:
        header = _parse_header(path, file.readline())
        try:
            state = eqx.tree_deserialise_leaves(file, like)
            trailing = file.read(1)
        except Exception as error:  # equinox/numpy raise assorted types on truncated data
            raise _corrupt(path, f"its arrays do not match the run's state ({error})") from error
        if trailing:
            raise _corrupt(path, "it has bytes after the last array")
    return header, state


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
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise _corrupt(path, f"its header does not declare format {FORMAT!r}")
    return header


def _corrupt(path: Path, why: str) -> CorruptCheckpointError:
    return CorruptCheckpointError(
        f"checkpoint {path} is corrupt: {why}. It was not modified; restore it from a copy, or "
        "start a new run without --resume."
    )
