"""A run's `metrics.jsonl`: one JSON record per line, each carrying the SHA-256 (first 16 hex
digits) of its own canonical JSON under `check`, so that a damaged line is found with its
number instead of being read as a different loss or step.

Records: per host call `step` (steps taken), `loss` (mean over the call), `learning_rate` (of
its last step), `steps_per_s`; per evaluation `step`, `eval_error` (per position, normalised).
Lines written before records were checked have no `check`; they are read as they are.
"""

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from icl_theory.records import write_atomic
from icl_theory.training.manifest import DamagedRunFileError

METRICS_NAME = "metrics.jsonl"
CHECK = "check"
FIELDS = frozenset({"step", "loss", "learning_rate", "steps_per_s", "eval_error", CHECK})


def append_record(path: Path, record: dict[str, Any]) -> None:
    with path.open("a") as file:
        file.write(_line(record))


def read_records(path: Path, *, last_may_be_cut: bool = False) -> list[dict[str, Any]]:
    """The records of `path`, each verified (checks removed). With `last_may_be_cut`, a last
    line without its newline that does not parse (a write cut short by a crash) is left out,
    and said so on standard error; any other damaged line raises `DamagedRunFileError` naming
    its number."""
    return _records(path, path.read_bytes(), last_may_be_cut)


def keep_records_to(path: Path, step: int) -> None:
    """Drop the records written after `step` (a resumed run writes them again), and a last line
    cut short by a crash."""
    data = path.read_bytes()
    kept = [r for r in _records(path, data, last_may_be_cut=True) if r["step"] <= step]
    text = "".join(_line(record) for record in kept)
    if text.encode() != data:  # a read-only finished run is left alone
        write_atomic(path, text.encode())


def _records(path: Path, data: bytes, last_may_be_cut: bool) -> list[dict[str, Any]]:
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    cut_short = not data.endswith(b"\n") and bool(data)
    records = []
    for number, line in enumerate(lines, start=1):
        record = _parse(line)
        if record is None and cut_short and number == len(lines) and last_may_be_cut:
            print(f"note: {path} line {number} was cut short by a crash; dropped", file=sys.stderr)
            continue
        if record is None:
            raise DamagedRunFileError(
                f"{path} line {number} is damaged (not a metrics record, or not matching its "
                "checksum): restore the file from a copy, or delete that line and the ones "
                "after it and resume the run to write them again"
            )
        records.append(record)
    return records


def _parse(line: bytes) -> dict[str, Any] | None:
    try:
        record = json.loads(line)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(record, dict) or not set(record) <= FIELDS:
        return None
    if type(record.get("step")) is not int or record["step"] < 0:
        return None
    if CHECK not in record:  # written before records were checked
        return record
    # The line must be exactly what `append_record` writes: an edit that leaves the values
    # equal (`1e-05` -> `1E-05`) is damage too.
    if line != json.dumps(record).encode():
        return None
    check = record.pop(CHECK)
    return record if check == _check(record) else None


def _line(record: dict[str, Any]) -> str:
    return json.dumps(record | {CHECK: _check(record)}) + "\n"


def _check(record: dict[str, Any]) -> str:
    canonical = json.dumps(record, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]
