"""A run folder as an object: its layout, and every read and write of it.

    RUN/config.json       the TrainConfig (the checkpoint's header holds it too)
    RUN/prior.json        the prior it built, every field (`prior_to_data`)
    RUN/provenance.json   package versions, git state per training segment, machine, devices
    RUN/manifest.json     SHA-256 of the three files above, checked before they are parsed
    RUN/metrics.jsonl     training and monitoring records, each line with its own checksum
    RUN/checkpoint.eqx    the latest checkpoint (checksummed; see checkpoint.py); a finished
                          run's can be finalised to the parameters alone
    RUN/snapshots/        parameters-only checkpoints at `snapshot_steps`

Every write is atomic (a reader sees the old file or the new one), and every read checks the
file first: a damaged file is refused with its path, never parsed into a different run. A folder
written before manifests were loads unchecked, with a note.
"""

import dataclasses
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from icl_theory.priors import AbstractPrior, prior_from_data, prior_to_data
from icl_theory.records import provenance, record_segment, segment, write_atomic, write_json_atomic
from icl_theory.training.checkpoint import (
    CHECKPOINT_NAME,
    load_checkpoint,
    read_header,
    save_checkpoint,
)
from icl_theory.training.config import TrainConfig
from icl_theory.training.manifest import MANIFEST_NAME, verify_manifest, write_manifest
from icl_theory.training.metrics_log import (
    METRICS_NAME,
    append_record,
    keep_records_to,
    read_records,
)

CONFIG_NAME = "config.json"
PRIOR_NAME = "prior.json"
PROVENANCE_NAME = "provenance.json"
SNAPSHOTS_NAME = "snapshots"
# A finalised checkpoint's header says so; its data is the parameters alone.
PARAMETERS_ONLY = "parameters"
# An ensemble member's checkpoint written but not yet promoted (see `settle_pending`).
PENDING_SUFFIX = ".pending"
# The files the manifest covers: written once (config, prior) or rarely (provenance).
CHECKED = (CONFIG_NAME, PRIOR_NAME, PROVENANCE_NAME)

_noted_unchecked: set[Path] = set()


class RunFolderError(ValueError):
    """A run folder that cannot be used as asked (its message names the path and the fix)."""


@dataclasses.dataclass(frozen=True)
class RunFolder:
    path: Path

    def __init__(self, path: str | Path):
        object.__setattr__(self, "path", Path(path))

    @property
    def checkpoint(self) -> Path:
        return self.path / CHECKPOINT_NAME

    @property
    def metrics_path(self) -> Path:
        return self.path / METRICS_NAME

    def holds_run(self) -> bool:
        return self.checkpoint.exists() or (self.path / CONFIG_NAME).exists()

    def has_checkpoint(self) -> bool:
        return self.checkpoint.exists()

    # Starting -------------------------------------------------------------------------------

    def create(self, config: TrainConfig, record: dict[str, Any]) -> None:
        """Start a run here: config, prior and `record` (provenance) written, with the manifest.
        Refuses a file, or a folder that already holds a run."""
        if self.path.exists() and not self.path.is_dir():
            raise RunFolderError(f"{self.path} is a file, not a folder: choose a new --out")
        if self.holds_run():
            raise RunFolderError(
                f"{self.path} already holds a run: continue it with `icl-theory train --resume "
                f"{self.path}` (or resume() in Python; a run with no checkpoint yet starts again "
                "from step 0), or choose a new --out"
            )
        self.path.mkdir(parents=True, exist_ok=True)
        # config.json first: from then on the folder holds a run, which `resume` restarts from
        # step 0 if it is stopped before its first checkpoint (whatever else is missing).
        write_json_atomic(self.path / CONFIG_NAME, config.to_json())
        write_json_atomic(self.path / PRIOR_NAME, prior_to_data(config.prior))
        write_json_atomic(self.path / PROVENANCE_NAME, record)
        write_manifest(self.path, CHECKED)

    @staticmethod
    def start_record(kind: str, devices: list, extra: dict[str, Any]) -> dict[str, Any]:
        """A new run's provenance: where and how it ran, from its first instant (a run killed
        before its first checkpoint still says on how many devices it started)."""
        on = {"count": len(devices), "platform": devices[0].platform if devices else None}
        return provenance() | extra | {"devices": on, "segments": [segment(kind, 0)]}

    # Reading --------------------------------------------------------------------------------

    def verify(self) -> None:
        """Check config, prior and provenance against the manifest (a note once for a folder
        written before manifests were)."""
        if verify_manifest(self.path) or not self.holds_run() or self.path in _noted_unchecked:
            return
        _noted_unchecked.add(self.path)
        print(
            f"note: {self.path} has no {MANIFEST_NAME} (written before run folders had one): "
            "its config, prior and provenance are read unchecked",
            file=sys.stderr,
        )

    def recorded_config(self) -> TrainConfig:
        """The config in `config.json` (what a folder with no checkpoint yet continues with)."""
        path = self.path / CONFIG_NAME
        if not path.is_file():
            raise RunFolderError(
                f"{self.path} holds no run (neither {CHECKPOINT_NAME} nor {CONFIG_NAME}): pass "
                "the folder of a run started with `icl-theory train --out`"
            )
        self.verify()
        try:
            data = json.loads(path.read_bytes())
            if not isinstance(data, dict):
                raise TypeError("not a JSON object")
            return TrainConfig.from_json(data)
        except (ValueError, TypeError, UnicodeDecodeError) as error:
            raise RunFolderError(
                f"{path} is not a readable training config ({error}): the run cannot be "
                "continued; start a new one with `icl-theory train --out`"
            ) from error

    def config(self) -> TrainConfig:
        """The run's config: the checkpoint's (the budget an extension gave it) or, before the
        first checkpoint, `config.json`'s."""
        if self.has_checkpoint():
            return TrainConfig.from_json(self.header()["config"])
        return self.recorded_config()

    def header(self) -> dict[str, Any]:
        return read_header(self.checkpoint)

    def step(self) -> int:
        """The step of the checkpoint."""
        return int(self.header()["step"])

    def is_finished(self) -> bool:
        """Whether the checkpoint is at the end of the run's budget (finalised or not)."""
        return self.has_checkpoint() and self.step() >= self.config().steps

    def is_finalised(self) -> bool:
        return self.header().get("contents") == PARAMETERS_ONLY

    def stopped_early(self) -> bool:
        """Finalised before the end of its budget (`finalise --stop-early`): final at its
        step."""
        return self.is_finalised() and not self.is_finished()

    def prior(self) -> AbstractPrior:
        """The prior the run trained on, as it recorded it (runs older than `prior.json`:
        rebuilt from their config)."""
        path = self.path / PRIOR_NAME
        if not path.exists():
            return self.recorded_config().prior
        self.verify()
        try:
            return prior_from_data(json.loads(path.read_bytes()))
        except (ValueError, TypeError, KeyError, UnicodeDecodeError) as error:
            raise RunFolderError(
                f"{path} is not a readable prior ({error}): restore it from a copy"
            ) from error

    def provenance(self) -> dict[str, Any]:
        self.verify()
        return json.loads((self.path / PROVENANCE_NAME).read_bytes())

    def metrics(self) -> list[dict[str, Any]]:
        """The metrics records, each checked."""
        return read_records(self.metrics_path) if self.metrics_path.is_file() else []

    def load_state(self, like: Any) -> Any:
        self.verify()
        return load_checkpoint(self.checkpoint, like)[1]

    def snapshot_path(self, step: int) -> Path:
        return self.path / SNAPSHOTS_NAME / f"step-{step:09d}.eqx"

    def snapshot_steps(self) -> list[int]:
        return sorted(int(p.stem.split("-")[1]) for p in self.path.glob(f"{SNAPSHOTS_NAME}/*.eqx"))

    # Writing --------------------------------------------------------------------------------

    def save_state(self, config: TrainConfig, devices: int, state: Any, step: int) -> None:
        save_checkpoint(self.checkpoint, _header(config, devices, step), state)

    def save_pending_state(self, config: TrainConfig, devices: int, state: Any, step: int) -> None:
        """An ensemble member's next checkpoint, beside the current one until every member has
        written its own (`promote_pending`): a kill between members leaves them consistent."""
        save_checkpoint(self.pending_checkpoint, _header(config, devices, step), state)

    @property
    def pending_checkpoint(self) -> Path:
        return self.path / (CHECKPOINT_NAME + PENDING_SUFFIX)

    def promote_pending(self) -> None:
        if self.pending_checkpoint.exists():
            os.replace(self.pending_checkpoint, self.checkpoint)

    def save_snapshot(self, config: TrainConfig, devices: int, params: Any, step: int) -> None:
        header = _header(config, devices, step) | {"contents": PARAMETERS_ONLY}
        save_checkpoint(self.snapshot_path(step), header, params)

    def finalise(self, params: Any) -> None:
        """Rewrite the checkpoint with `params` alone (the header's step, config, devices)."""
        header = self.header()
        kept = {key: header[key] for key in ("step", "config", "devices") if key in header}
        save_checkpoint(self.checkpoint, kept | {"contents": PARAMETERS_ONLY}, params)

    def append_metrics(self, record: dict[str, Any]) -> None:
        append_record(self.metrics_path, record)

    def keep_metrics_to(self, step: int) -> None:
        """Drop the metrics written after `step` (a resumed run writes them again)."""
        path = self.metrics_path
        if not path.exists():
            return
        if not path.is_file():
            raise RunFolderError(
                f"{path} is not a file: move it aside (the run then continues without its "
                "earlier metrics)"
            )
        keep_records_to(path, step)

    def record_segment(self, kind: str, from_step: int) -> None:
        """Add a training segment to the provenance (and the manifest)."""
        self.verify()
        record_segment(self.path, kind, from_step)
        write_manifest(self.path, CHECKED)

    def rewrite_config(self, config: TrainConfig, state_like: Any | None) -> None:
        """Give the run a new config (an extended budget): in `config.json` and, when there is a
        checkpoint, in its header, loaded into `state_like`."""
        self.verify()
        write_json_atomic(self.path / CONFIG_NAME, config.to_json())
        write_manifest(self.path, CHECKED)
        if state_like is not None:
            header, state = load_checkpoint(self.checkpoint, state_like)
            kept = {key: value for key, value in header.items() if key not in ("format", "sha256")}
            save_checkpoint(self.checkpoint, kept | {"config": config.to_json()}, state)

    def copy_to(self, target: str | Path) -> "RunFolder":
        """A copy of this run in the new folder `target`."""
        if not (self.path / CONFIG_NAME).is_file():
            self.recorded_config()  # raises, naming what is missing
        self.verify()
        copy = RunFolder(target)
        if copy.path.exists():
            raise RunFolderError(
                f"{copy.path} already exists: choose a new folder to continue into"
            )
        copy.path.mkdir(parents=True)
        names = (*CHECKED, MANIFEST_NAME, METRICS_NAME, CHECKPOINT_NAME)
        for name in names:
            if (self.path / name).is_file():
                write_atomic(copy.path / name, (self.path / name).read_bytes())
        return copy


def _header(config: TrainConfig, devices: int, step: int) -> dict[str, Any]:
    return {"step": step, "config": config.to_json(), "devices": devices}


def settle_pending(folders: Sequence[RunFolder]) -> None:
    """Finish or undo an ensemble checkpoint that a kill interrupted. Every member writes its
    pending checkpoint, then each is promoted: if every member has either its pending one or a
    checkpoint already at that step, the promotion had begun and is completed; otherwise the
    pending ones are dropped and the members continue from their common earlier checkpoint."""
    pending = [f for f in folders if f.pending_checkpoint.exists()]
    if not pending:
        return
    step = read_header(pending[0].pending_checkpoint)["step"]
    begun = all(
        f.pending_checkpoint.exists() or (f.has_checkpoint() and f.step() == step) for f in folders
    )
    for folder in pending:
        if begun:
            folder.promote_pending()
        else:
            folder.pending_checkpoint.unlink()
