"""Several models of one config, differing only in their seed (and the run they warm-start
from), trained in one compiled step: the training step `vmap`ped over stacked parameters,
optimiser states and data keys.

Each member keeps a run folder of its own, written exactly as a single run writes it (config,
prior, metrics, provenance, checkpoint), so everything that reads runs reads members. A member
is the single run of its config to float32 round-off, not bit for bit: the batched matrix
products sum in another order. Its checkpoint is an ordinary one: `resume` continues a member
alone, `resume_ensemble` the members together. An ensemble stopped before its first checkpoint
starts again from step 0 in the same folders, as a single run does.
"""

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path

import jax
import jax.numpy as jnp

from icl_theory.records import write_json_atomic
from icl_theory.training.config import TrainConfig
from icl_theory.training.loop import Members, TrainResult, run_loop
from icl_theory.training.run import check_warm_start, initial_state, train, warm_start_record
from icl_theory.training.run_folder import RunFolder, RunFolderError, settle_pending
from icl_theory.training.trainer import Trainer, TrainState

MEMBER_PREFIX = "seed"
ENSEMBLE_NAME = "ensemble.json"


def train_ensemble(
    configs: Sequence[TrainConfig],
    outs: Sequence[str | Path],
    *,
    progress: bool = True,
    stop_at: int | None = None,
) -> list[TrainResult]:
    """Train the models of `configs` (equal but for `seed` and `init_from`) together, each into
    its new run folder in `outs`. One config trains as a single run (`train`)."""
    folders = [RunFolder(out) for out in outs]
    _check_members(configs, folders)
    settle_pending(folders)
    if len(configs) == 1:
        return [train(configs[0], outs[0], progress=progress, stop_at=stop_at)]
    for config in configs:
        check_warm_start(config)
    for config, folder in zip(configs, folders, strict=True):
        if folder.holds_run() and not _started_as(folder, config):
            raise RunFolderError(
                f"{folder.path} already holds a run: continue the ensemble with "
                f"`icl-theory train --resume {folder.path.parent}` (resume_ensemble in Python), "
                "or choose a new --out"
            )
    trainers = [Trainer(config, jax.devices()[:1]) for config in configs]
    for config, folder, trainer in zip(configs, folders, trainers, strict=True):
        if folder.holds_run():  # this ensemble, stopped before its first checkpoint
            folder.keep_metrics_to(0)
            folder.record_segment("restart", 0)
            continue
        extra = warm_start_record(config) | {"ensemble": len(configs)}
        kind = "start" if config.init_from is None else "warm start"
        folder.create(config, RunFolder.start_record(kind, trainer.devices, extra))
    state = _stack([initial_state(trainer) for trainer in trainers])
    return run_loop(Members(trainers), state, folders, progress=progress, stop_at=stop_at)


def resume_ensemble(
    outs: Sequence[str | Path], *, progress: bool = True, stop_at: int | None = None
) -> list[TrainResult]:
    """Continue the members in `outs` together: from their checkpoints, which must all be at
    the same step (as an ensemble leaves them), or from step 0 when none has one yet (stopped
    before its first checkpoint; a member with a config but no checkpoint is such a run)."""
    folders = [RunFolder(out) for out in outs]
    settle_pending(folders)
    missing = [str(f.path) for f in folders if not f.holds_run()]
    if missing:
        raise RunFolderError(f"{missing} hold no run: pass the folders of an ensemble's members")
    with_checkpoint = [f for f in folders if f.has_checkpoint()]
    if with_checkpoint and len(with_checkpoint) < len(folders):
        raise RunFolderError(
            f"{[str(f.path) for f in with_checkpoint]} have checkpoints and the other members "
            "none: continue each with `icl-theory train --resume RUN` instead"
        )
    configs = [folder.config() for folder in folders]
    _check_members(configs, folders)
    trainers = [Trainer(config, jax.devices()[:1]) for config in configs]
    if not with_checkpoint:
        for folder in folders:
            folder.keep_metrics_to(0)
            folder.record_segment("restart", 0)
        state = _stack([initial_state(trainer) for trainer in trainers])
        return run_loop(Members(trainers), state, folders, progress=progress, stop_at=stop_at)
    if any(folder.is_finalised() for folder in folders):
        raise RunFolderError(
            f"some of {[str(f.path) for f in folders]} are finalised: nothing to continue"
        )
    steps = {folder.step() for folder in folders}
    if len(steps) > 1:
        raise RunFolderError(
            f"the members {[str(f.path) for f in folders]} are at different steps "
            f"{sorted(steps)}: continue each with `icl-theory train --resume RUN` instead"
        )
    (step,) = steps
    states = [
        folder.load_state(t.init_state()) for folder, t in zip(folders, trainers, strict=True)
    ]
    if step < configs[0].steps:
        for folder in folders:
            folder.keep_metrics_to(step)
            folder.record_segment("resume", step)
    return run_loop(Members(trainers), _stack(states), folders, progress=progress, stop_at=stop_at)


def _started_as(folder: RunFolder, config: TrainConfig) -> bool:
    """Whether `folder` holds a member started with `config` and stopped before its first
    checkpoint (killed while the ensemble compiled, say): starting it again is then the same as
    continuing it from step 0."""
    return not folder.has_checkpoint() and folder.recorded_config() == config


def train_seeds(
    config: TrainConfig, seeds: Sequence[int], out: str | Path, *, progress: bool = True
) -> list[TrainResult]:
    """One model per seed, trained together into `OUT/seed{S}`. The ensemble is recorded first
    in `OUT/ensemble.json`, so that `resume_seeds(OUT)`, or the same call again, continues it
    whenever it was stopped, even before every member's folder was written."""
    out = Path(out)
    record = {"seeds": list(seeds), "config": config.to_json()}
    path = out / ENSEMBLE_NAME
    if path.exists() and _read_ensemble(path) != record:
        raise RunFolderError(
            f"{out} already holds another ensemble ({path}): continue it with `icl-theory train "
            f"--resume {out}`, or choose a new --out"
        )
    if not path.exists():
        out.mkdir(parents=True, exist_ok=True)
        write_json_atomic(path, record)
    configs = [dataclasses.replace(config, seed=seed) for seed in seeds]
    return train_ensemble(configs, seed_folders(out, seeds), progress=progress)


def resume_seeds(out: str | Path, *, progress: bool = True) -> list[TrainResult]:
    """Continue the ensemble in `out`: from its members' checkpoints, or, stopped before its
    first one, from step 0 (members not yet written are started)."""
    path = Path(out) / ENSEMBLE_NAME
    if not path.exists():  # written before ensembles were recorded: its members as found
        return resume_ensemble(member_folders(out), progress=progress)
    record = _read_ensemble(path)
    config = TrainConfig.from_json(record["config"])
    folders = seed_folders(out, record["seeds"])
    settle_pending([RunFolder(folder) for folder in folders])
    if all(RunFolder(folder).has_checkpoint() for folder in folders):
        return resume_ensemble(folders, progress=progress)
    configs = [dataclasses.replace(config, seed=seed) for seed in record["seeds"]]
    return train_ensemble(configs, folders, progress=progress)


def is_ensemble(out: str | Path) -> bool:
    """Whether `out` is an ensemble's folder (its members in `OUT/seed*`)."""
    return (Path(out) / ENSEMBLE_NAME).is_file() or bool(member_folders(out))


def _read_ensemble(path: Path) -> dict:
    try:
        record = json.loads(path.read_bytes())
        if not isinstance(record, dict) or {"seeds", "config"} - set(record):
            raise ValueError("not an ensemble record")
        return record
    except (ValueError, UnicodeDecodeError) as error:
        raise RunFolderError(
            f"{path} is damaged ({error}): restore it, or continue each member with "
            "`icl-theory train --resume RUN`"
        ) from error


def seed_folders(out: str | Path, seeds: Sequence[int]) -> list[Path]:
    """`OUT/seed{S}` for each seed: where the CLI puts an ensemble's members."""
    return [Path(out) / f"{MEMBER_PREFIX}{seed}" for seed in seeds]


def member_folders(out: str | Path) -> list[Path]:
    """The members' folders of the ensemble in `out` (`OUT/seed*` holding a run), by seed."""
    found = [p for p in Path(out).glob(f"{MEMBER_PREFIX}*") if RunFolder(p).holds_run()]
    return sorted(found, key=lambda p: (len(p.name), p.name))


def _check_members(configs: Sequence[TrainConfig], folders: Sequence[RunFolder]) -> None:
    if not configs or len(configs) != len(folders):
        raise ValueError(
            f"one run folder per config: {len(configs)} configs, {len(folders)} folders"
        )
    # Members may differ in their seed and in the run they warm-start from, nothing else: the
    # compiled step is the first member's, vmapped.
    free = ("seed", "init_from")
    first = dataclasses.replace(configs[0], seed=0, init_from=None)
    for config in configs[1:]:
        if dataclasses.replace(config, seed=0, init_from=None) != first:
            raise ValueError(
                "the members of an ensemble differ in their seed and init_from only; these "
                "configs differ in "
                + ", ".join(
                    f.name
                    for f in dataclasses.fields(TrainConfig)
                    if f.name not in free and getattr(config, f.name) != getattr(configs[0], f.name)
                )
            )
    if len({c.seed for c in configs}) != len(configs):
        raise ValueError(f"the members' seeds repeat: {[c.seed for c in configs]}")


def _stack(states: list[TrainState]) -> TrainState:
    return jax.tree.map(lambda *leaves: jnp.stack(leaves), *states)


__all__ = [
    "is_ensemble",
    "member_folders",
    "resume_ensemble",
    "resume_seeds",
    "seed_folders",
    "train_ensemble",
    "train_seeds",
]
