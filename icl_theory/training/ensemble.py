"""Several models of one config, differing only in their seed, trained in one compiled step:
the training step `vmap`ped over stacked parameters, optimiser states and data keys.

Each member keeps a run folder of its own, written exactly as a single run writes it (config,
prior, metrics, provenance, checkpoint), so everything that reads runs reads members. A member
is the single run of its config to float32 round-off, not bit for bit: the batched matrix
products sum in another order. Its checkpoint is an ordinary one: `resume` continues a member
alone, `resume_ensemble` the members together.
"""

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import jax
import jax.numpy as jnp

from icl_theory.priors import prior_to_data
from icl_theory.records import provenance, record_segment, segment, write_json_atomic
from icl_theory.training.checkpoint import CHECKPOINT_NAME, load_checkpoint, read_header
from icl_theory.training.config import TrainConfig
from icl_theory.training.run import (
    CONFIG_NAME,
    METRICS_NAME,
    PARAMETERS_ONLY,
    PRIOR_NAME,
    PROVENANCE_NAME,
    RunFolderError,
    TrainResult,
    _Members,
    _members_loop,
    _truncate_metrics,
    check_warm_start,
    initial_state,
    train,
    warm_start_record,
)
from icl_theory.training.trainer import Trainer, TrainState


def train_ensemble(
    configs: Sequence[TrainConfig],
    outs: Sequence[str | Path],
    *,
    progress: bool = True,
    stop_at: int | None = None,
) -> list[TrainResult]:
    """Train the models of `configs` (equal but for `seed`) together, each into its new run
    folder in `outs`. One config trains as a single run (`train`)."""
    outs = [Path(out) for out in outs]
    _check_members(configs, outs)
    if len(configs) == 1:
        return [train(configs[0], outs[0], progress=progress, stop_at=stop_at)]
    trainers = [Trainer(config, jax.devices()[:1]) for config in configs]
    for config in configs:
        check_warm_start(config)
    for config, out in zip(configs, outs, strict=True):
        if (out / CHECKPOINT_NAME).exists() or (out / CONFIG_NAME).exists():
            raise RunFolderError(
                f"{out} already holds a run: continue the ensemble with resume_ensemble (or "
                "`icl-theory train --resume` on its folders), or choose new folders"
            )
        out.mkdir(parents=True, exist_ok=True)
        write_json_atomic(out / CONFIG_NAME, config.to_json())
        write_json_atomic(out / PRIOR_NAME, prior_to_data(config.build_prior()))
        kind = "start" if config.init_from is None else "warm start"
        record = provenance() | warm_start_record(config) | {"ensemble": len(configs)}
        record |= {"segments": [segment(kind, 0)]}
        write_json_atomic(out / PROVENANCE_NAME, record)
    state = _stack([initial_state(trainer) for trainer in trainers])
    return _members_loop(_Members(trainers), state, outs, progress, stop_at)


def resume_ensemble(
    outs: Sequence[str | Path], *, progress: bool = True, stop_at: int | None = None
) -> list[TrainResult]:
    """Continue the members in `outs` together from their checkpoints, which must all be at the
    same step (as an ensemble leaves them)."""
    outs = [Path(out) for out in outs]
    headers = [read_header(out / CHECKPOINT_NAME) for out in outs]
    if any(header.get("contents") == PARAMETERS_ONLY for header in headers):
        raise RunFolderError(f"some of {[str(o) for o in outs]} are finalised: nothing to continue")
    steps = {int(header["step"]) for header in headers}
    if len(steps) > 1:
        raise RunFolderError(
            f"the members {[str(o) for o in outs]} are at different steps {sorted(steps)}: "
            "continue each with `icl-theory train --resume RUN` instead"
        )
    configs = [TrainConfig.from_json(header["config"]) for header in headers]
    _check_members(configs, outs)
    trainers = [Trainer(config, jax.devices()[:1]) for config in configs]
    states = [
        load_checkpoint(out / CHECKPOINT_NAME, trainer.init_state())[1]
        for out, trainer in zip(outs, trainers, strict=True)
    ]
    for out in outs:
        _truncate_metrics(out / METRICS_NAME, int(headers[0]["step"]))
        record_segment(out, "resume", int(headers[0]["step"]))
    return _members_loop(_Members(trainers), _stack(states), outs, progress, stop_at)


def seed_folders(out: str | Path, seeds: Sequence[int]) -> list[Path]:
    """`OUT/seed{S}` for each seed: where the CLI puts an ensemble's members."""
    return [Path(out) / f"seed{seed}" for seed in seeds]


def _check_members(configs: Sequence[TrainConfig], outs: Sequence[Path]) -> None:
    if not configs or len(configs) != len(outs):
        raise ValueError(f"one run folder per config: {len(configs)} configs, {len(outs)} folders")
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


__all__ = ["resume_ensemble", "seed_folders", "train_ensemble"]
