"""Training runs: start one (from scratch or from another run's parameters), continue one
(resume, extend its budget, continue a copy), read its model and prior, finalise it.

A run folder is always recoverable: `resume` continues from the checkpoint, or, in a folder that
stopped before its first checkpoint (killed, interrupted or out of disk in its first steps), from
step 0 with the recorded config, which gives the same run as an uninterrupted one. The folder's
layout and checks are `run_folder.py`'s; the host loop is `loop.py`'s.

The checkpoint records how many devices the batch was sharded over: the data-parallel sums
differ in float32 round-off between device counts, so `resume` refuses another count unless told
`allow_device_change=True`.
"""

import dataclasses
import hashlib
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import numpy as np

from icl_theory.model.gpt2 import GPT2
from icl_theory.priors import AbstractPrior
from icl_theory.training.checkpoint import CHECKPOINT_NAME, load_checkpoint, read_header
from icl_theory.training.config import TrainConfig
from icl_theory.training.loop import Members, TrainingDivergedError, TrainResult, run_loop
from icl_theory.training.metrics_log import METRICS_NAME
from icl_theory.training.run_folder import (
    CONFIG_NAME,
    PARAMETERS_ONLY,
    PRIOR_NAME,
    PROVENANCE_NAME,
    RunFolder,
    RunFolderError,
)
from icl_theory.training.trainer import Trainer, TrainState, learning_rate_schedule


def train(
    config: TrainConfig,
    out: str | Path,
    *,
    progress: bool = True,
    stop_at: int | None = None,
    devices: list | None = None,
) -> TrainResult:
    """Train from scratch into the new folder `out` (it must not hold a run already).

    `stop_at` stops (with a checkpoint) once that step is reached, as Ctrl-C does; `resume`
    continues.
    """
    folder = RunFolder(out)
    check_warm_start(config)  # a bad warm start is refused before anything is written
    trainer = Trainer(config, devices)
    kind = "start" if config.init_from is None else "warm start"
    folder.create(config, RunFolder.start_record(kind, trainer.devices, warm_start_record(config)))
    (result,) = run_loop(
        Members([trainer]), initial_state(trainer), [folder], progress=progress, stop_at=stop_at
    )
    return result


def resume(
    out: str | Path,
    *,
    progress: bool = True,
    stop_at: int | None = None,
    devices: list | None = None,
    allow_device_change: bool = False,
    extend_to: int | None = None,
    into: str | Path | None = None,
) -> TrainResult:
    """Continue the run in `out` with the config it was started with: from its checkpoint, or
    from step 0 if it stopped before writing one.

    `extend_to` changes the run's budget to that many steps (more, or fewer) before continuing:
    allowed when the learning rate of every step already taken is unchanged by it (schedules
    `constant`, and `wsd` before its decay), so the result is the run that would have been
    planned that long from the start, bit for bit. A shorter budget drops the snapshot steps
    past it. `into` continues in a copy of the run made in that new folder and leaves `out` as
    it is: with `extend_to`, how a `wsd` run's decay is started from a stable checkpoint while
    the stable run goes on.
    """
    folder = RunFolder(out)
    if into is not None:
        folder = folder.copy_to(into)
    if extend_to is not None:
        _extend(folder, extend_to)
    if not folder.has_checkpoint():
        trainer = Trainer(folder.recorded_config(), devices)
        folder.keep_metrics_to(0)
        folder.record_segment("restart", 0)
        (result,) = run_loop(
            Members([trainer]), initial_state(trainer), [folder], progress=progress, stop_at=stop_at
        )
        return result
    header = folder.header()  # read and checked once
    config, step = TrainConfig.from_json(header["config"]), int(header["step"])
    finalised = header.get("contents") == PARAMETERS_ONLY
    if finalised or step >= config.steps:  # finished: nothing to do, nothing written
        return TrainResult(load_model(folder.path), step, interrupted=False, out=folder.path)
    trainer = Trainer(config, devices)
    recorded = header.get("devices", 1)
    if recorded != len(trainer.devices) and not allow_device_change:
        raise RunFolderError(
            f"{folder.path} was trained on {recorded} device(s) and this process has "
            f"{len(trainer.devices)}: the data-parallel sums would differ in round-off, so the "
            "continued run would not reproduce an uninterrupted one. Run with the same device "
            "count, or pass --allow-device-change to continue anyway"
        )
    state = trainer.place(folder.load_state(trainer.init_state()))
    folder.keep_metrics_to(int(state.step))
    folder.record_segment("resume" if extend_to is None else "extend", int(state.step))
    (result,) = run_loop(Members([trainer]), state, [folder], progress=progress, stop_at=stop_at)
    return result


def initial_state(trainer: Trainer) -> TrainState:
    """Step 0 of a run: a random initialisation, or, with `init_from`, that run's parameters
    with a fresh optimiser state (the data key is this run's own, from its seed)."""
    state = trainer.init_state()
    source = trainer.config.init_from
    if source is None:
        return state
    check_warm_start(trainer.config)
    params = load_model(source)
    opt_state = trainer.optimiser.init(eqx.filter(params, eqx.is_array))
    return trainer.place(TrainState(params, opt_state, state.step, state.data_key))


def check_warm_start(config: TrainConfig) -> None:
    """A clear error, before anything is written, for a warm start from a folder with no
    checkpoint or with another model than `config` builds."""
    if config.init_from is None:
        return
    source = Path(config.init_from)
    if not RunFolder(source).has_checkpoint():
        raise RunFolderError(
            f"init_from={str(source)!r} holds no checkpoint ({source / CHECKPOINT_NAME}): pass "
            "the folder of a trained run"
        )
    source_config = RunFolder(source).config()
    if source_config.model_config() != config.model_config():
        raise RunFolderError(
            f"init_from={str(source)!r} holds a {source_config.model!r} model for dim="
            f"{source_config.dim}, n_points={source_config.n_points}; this run builds "
            f"{config.model!r} for dim={config.dim}, n_points={config.n_points}: a warm start "
            "needs the same model, so match them"
        )


def warm_start_record(config: TrainConfig) -> dict[str, Any]:
    """What a warm-started run started from, for its provenance: the source folder, the step
    of its checkpoint and the checkpoint's SHA-256 (so a later change of the source shows)."""
    if config.init_from is None:
        return {}
    path = Path(config.init_from) / CHECKPOINT_NAME
    header = read_header(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    source = {"run": config.init_from, "step": int(header["step"]), "sha256": digest}
    return {"init_from": source}


def _extend(folder: RunFolder, steps: int) -> None:
    """Give the run in `out` a budget of `steps`, if that leaves every step taken unchanged."""
    out = folder.path
    header = folder.header() if folder.has_checkpoint() else None
    config = TrainConfig.from_json(header["config"]) if header else folder.recorded_config()
    taken = int(header["step"]) if header else 0
    if header and header.get("contents") == PARAMETERS_ONLY:
        raise RunFolderError(
            f"{out} is finalised (parameters only, no optimiser state): it cannot be continued"
        )
    if steps < taken:
        raise RunFolderError(
            f"--extend-to {steps} is below the {taken} steps {out} has already taken"
        )
    try:
        # Snapshots past a shortened budget would never be taken; the run planned that long
        # would not name them.
        kept_snapshots = tuple(step for step in config.snapshot_steps if step <= steps)
        extended = dataclasses.replace(config, steps=steps, snapshot_steps=kept_snapshots)
    except ValueError as error:
        raise RunFolderError(f"cannot give {out} a budget of {steps} steps: {error}") from error
    taken_steps = np.arange(taken)
    before = np.asarray(learning_rate_schedule(config)(taken_steps))
    after = np.asarray(learning_rate_schedule(extended)(taken_steps))
    if not np.array_equal(before, after):
        first = int(np.flatnonzero(before != after)[0])
        raise RunFolderError(
            f"a budget of {steps} steps changes the learning rate {out} already used (at step "
            f"{first}, under schedule={config.schedule!r}), so the result would not be the run "
            "planned that long: only `constant` runs and `wsd` runs before their decay extend. "
            "Start a new run instead"
        )
    like = Trainer(config, devices=jax.devices()[:1]).init_state() if header else None
    folder.rewrite_config(extended, like)


def load_prior(out: str | Path) -> AbstractPrior:
    """The prior a run trained on, as it recorded it (runs older than `prior.json`: rebuilt from
    their config)."""
    return RunFolder(out).prior()


def load_model(out: str | Path, step: int | None = None) -> GPT2:
    """The model of the run in `out`, from its checkpoint (full or finalised), or from its
    snapshot at `step` (`TrainConfig.snapshot_steps`)."""
    folder = RunFolder(out)
    path = folder.checkpoint if step is None else folder.snapshot_path(step)
    if step is not None and not path.is_file():
        raise FileNotFoundError(
            f"{out} keeps no snapshot at step {step}; it keeps "
            f"{folder.snapshot_steps() or 'none'} (TrainConfig.snapshot_steps)"
        )
    folder.verify()
    header = read_header(path)
    trainer = Trainer(TrainConfig.from_json(header["config"]), devices=jax.devices()[:1])
    state = trainer.init_state()
    if header.get("contents") == PARAMETERS_ONLY:
        return load_checkpoint(path, state.params)[1]
    return load_checkpoint(path, state)[1].params


def finalise(out: str | Path, *, stop_early: bool = False) -> Path:
    """Rewrite a finished run's checkpoint with its parameters only, without the optimiser state
    and data key (a third of the size for AdamW): the form in which a final model is kept. It
    loads and evaluates as before, and can no longer be continued. Atomic; a finalised run is
    left as it is. `stop_early` finalises a live run too: it ends at the step it reached (its
    header's step, below its config's `steps`), and is final from then on."""
    folder = RunFolder(out)
    if not folder.has_checkpoint():
        raise RunFolderError(
            f"{out} holds no checkpoint ({folder.checkpoint}): pass the folder of a finished run"
        )
    header = folder.header()
    if header.get("contents") == PARAMETERS_ONLY:
        return folder.checkpoint
    if not folder.is_finished() and not stop_early:
        raise RunFolderError(
            f"{out} is live (step {folder.step()} of {folder.config().steps}): finish it with "
            f"`icl-theory train --resume {out}` first, or end it where it stands with "
            "`icl-theory finalise --stop-early`"
        )
    folder.finalise(load_model(out))
    return folder.checkpoint


def snapshot_path(out: str | Path, step: int) -> Path:
    """Where a run keeps its parameters at `step` (`TrainConfig.snapshot_steps`)."""
    return RunFolder(out).snapshot_path(step)


__all__ = [
    "CONFIG_NAME",
    "METRICS_NAME",
    "PRIOR_NAME",
    "PROVENANCE_NAME",
    "RunFolderError",
    "TrainResult",
    "TrainingDivergedError",
    "load_model",
    "resume",
    "train",
]
