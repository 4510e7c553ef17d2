"""The host loop of a training run and its folder.

    RUN/config.json       the TrainConfig (written once, atomically)
    RUN/prior.json        the prior it built, every field (`prior_to_data`; `load_prior`)
    RUN/metrics.jsonl     one JSON object per host call: step (steps taken), loss (mean over the
                          call), learning_rate (of its last step), steps_per_s;
                          and per evaluation: step, eval_error (per position, normalised)
    RUN/checkpoint.eqx    the latest checkpoint (atomic; see checkpoint.py); `finalise` keeps the
                          parameters alone once the run is finished
    RUN/provenance.json   package versions, git commit, machine
    RUN/snapshots/        parameters-only copies at `snapshot_steps` (`load_model(RUN, step)`)

A run folder is always recoverable: `resume` continues from the checkpoint, or, in a folder that
stopped before its first checkpoint (killed, interrupted or out of disk in its first steps), from
step 0 with the recorded config, which gives the same run as an uninterrupted one.

Ctrl-C (SIGINT) asks the loop to stop after the compiled call in flight; it then saves a
checkpoint and returns. A second Ctrl-C raises `KeyboardInterrupt` as soon as Python regains
control, which is at the end of that call. A NaN or infinite loss raises `TrainingDivergedError`
naming the step and leaves the last checkpoint (written before the bad steps) untouched.

The checkpoint records how many devices the batch was sharded over: the data-parallel sums
differ in float32 round-off between device counts, so `resume` refuses another count unless told
`allow_device_change=True`.
"""

import dataclasses
import hashlib
import json
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import numpy as np

from icl_theory.model.gpt2 import GPT2
from icl_theory.priors import AbstractPrior, prior_from_data, prior_to_data
from icl_theory.records import (
    provenance,
    record_segment,
    segment,
    write_atomic,
    write_json_atomic,
)
from icl_theory.training.checkpoint import (
    CHECKPOINT_NAME,
    load_checkpoint,
    read_header,
    save_checkpoint,
)
from icl_theory.training.config import TrainConfig
from icl_theory.training.progress import Progress
from icl_theory.training.trainer import (
    Trainer,
    TrainState,
    evaluation_set,
    learning_rate_schedule,
    normalised_error,
)

CONFIG_NAME = "config.json"
PROVENANCE_NAME = "provenance.json"
PRIOR_NAME = "prior.json"
# A finalised checkpoint's header says so; its data is the parameters alone.
PARAMETERS_ONLY = "parameters"
METRICS_NAME = "metrics.jsonl"
SNAPSHOTS_NAME = "snapshots"


class TrainingDivergedError(RuntimeError):
    pass


class RunFolderError(ValueError):
    """A run folder that cannot be used as asked (its message names the path and the fix)."""


@dataclass
class TrainResult:
    model: GPT2
    step: int
    interrupted: bool
    out: Path


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
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise RunFolderError(f"{out} is a file, not a folder: choose a new --out")
    if (out / CHECKPOINT_NAME).exists() or (out / CONFIG_NAME).exists():
        raise RunFolderError(
            f"{out} already holds a run: continue it with `icl-theory train --resume {out}` "
            "(or resume() in Python; a run with no checkpoint yet starts again from step 0), "
            "or choose a new --out"
        )
    check_warm_start(config)  # a bad warm start is refused before anything is written
    out.mkdir(parents=True, exist_ok=True)
    write_json_atomic(out / CONFIG_NAME, config.to_json())
    write_json_atomic(out / PRIOR_NAME, prior_to_data(config.build_prior()))
    kind = "start" if config.init_from is None else "warm start"
    start = provenance() | warm_start_record(config)
    write_json_atomic(out / PROVENANCE_NAME, start | {"segments": [segment(kind, 0)]})
    trainer = Trainer(config, devices)
    initial = initial_state(trainer)
    return _loop(trainer, initial, out, progress=progress, stop_at=stop_at)


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
    out = Path(out)
    if into is not None:
        out = _copy_run(out, Path(into))
    if extend_to is not None:
        _extend(out, extend_to)
    if not (out / CHECKPOINT_NAME).exists():
        trainer = Trainer(_recorded_config(out), devices)
        _truncate_metrics(out / METRICS_NAME, 0)
        record_segment(out, "restart", 0)
        return _loop(trainer, initial_state(trainer), out, progress=progress, stop_at=stop_at)
    header = read_header(out / CHECKPOINT_NAME)
    config = TrainConfig.from_json(header["config"])
    if header.get("contents") == PARAMETERS_ONLY:  # a finished run, finalised: nothing to do
        return TrainResult(load_model(out), int(header["step"]), interrupted=False, out=out)
    trainer = Trainer(config, devices)
    recorded = header.get("devices", 1)
    if recorded != len(trainer.devices) and not allow_device_change:
        raise RunFolderError(
            f"{out} was trained on {recorded} device(s) and this process has "
            f"{len(trainer.devices)}: the data-parallel sums would differ in round-off, so the "
            "continued run would not reproduce an uninterrupted one. Run with the same device "
            "count, or pass --allow-device-change to continue anyway"
        )
    _, state = load_checkpoint(out / CHECKPOINT_NAME, trainer.init_state())
    state = trainer.place(state)
    _truncate_metrics(out / METRICS_NAME, int(state.step))
    record_segment(out, "resume" if extend_to is None else "extend", int(state.step))
    return _loop(trainer, state, out, progress=progress, stop_at=stop_at)


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
    if not (source / CHECKPOINT_NAME).is_file():
        raise RunFolderError(
            f"init_from={str(source)!r} holds no checkpoint ({source / CHECKPOINT_NAME}): pass "
            "the folder of a trained run"
        )
    source_config = TrainConfig.from_json(read_header(source / CHECKPOINT_NAME)["config"])
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


def _copy_run(source: Path, target: Path) -> Path:
    """A copy of the run folder `source` in the new folder `target`."""
    if not (source / CONFIG_NAME).is_file():
        _recorded_config(source)  # raises, naming what is missing
    if target.exists():
        raise RunFolderError(f"{target} already exists: choose a new folder to continue into")
    target.mkdir(parents=True)
    for name in (CONFIG_NAME, PRIOR_NAME, PROVENANCE_NAME, METRICS_NAME, CHECKPOINT_NAME):
        if (source / name).is_file():
            write_atomic(target / name, (source / name).read_bytes())
    return target


def _extend(out: Path, steps: int) -> None:
    """Give the run in `out` a budget of `steps`, if that leaves every step taken unchanged."""
    has_checkpoint = (out / CHECKPOINT_NAME).exists()
    header = read_header(out / CHECKPOINT_NAME) if has_checkpoint else None
    config = TrainConfig.from_json(header["config"]) if header else _recorded_config(out)
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
    write_json_atomic(out / CONFIG_NAME, extended.to_json())
    if header:  # the checkpoint's header names the budget too: a resume reads it from there
        trainer = Trainer(config, devices=jax.devices()[:1])
        _, state = load_checkpoint(out / CHECKPOINT_NAME, trainer.init_state())
        kept = {key: value for key, value in header.items() if key not in ("format", "sha256")}
        save_checkpoint(out / CHECKPOINT_NAME, kept | {"config": extended.to_json()}, state)


def _recorded_config(out: Path) -> TrainConfig:
    """The config of a run folder that has no checkpoint yet."""
    path = out / CONFIG_NAME
    if not path.is_file():
        raise RunFolderError(
            f"{out} holds no run (neither {CHECKPOINT_NAME} nor {CONFIG_NAME}): pass the folder "
            "of a run started with `icl-theory train --out`"
        )
    try:
        data = json.loads(path.read_bytes())
        if not isinstance(data, dict):
            raise TypeError("not a JSON object")
        return TrainConfig.from_json(data)
    except (ValueError, TypeError, UnicodeDecodeError) as error:
        raise RunFolderError(
            f"{path} is not a readable training config ({error}): the run cannot be continued; "
            "start a new one with `icl-theory train --out`"
        ) from error


def load_prior(out: str | Path) -> AbstractPrior:
    """The prior a run trained on, as it recorded it (runs older than `prior.json`: rebuilt from
    their config)."""
    out = Path(out)
    if (out / PRIOR_NAME).exists():
        return prior_from_data(json.loads((out / PRIOR_NAME).read_text()))
    return _recorded_config(out).build_prior()


def load_model(out: str | Path, step: int | None = None) -> GPT2:
    """The model of the run in `out`, from its checkpoint (full or finalised), or from its
    snapshot at `step` (`TrainConfig.snapshot_steps`)."""
    path = Path(out) / CHECKPOINT_NAME if step is None else snapshot_path(out, step)
    if step is not None and not path.is_file():
        kept = sorted(int(p.stem.split("-")[1]) for p in path.parent.glob("step-*.eqx"))
        raise FileNotFoundError(
            f"{out} keeps no snapshot at step {step}; it keeps {kept or 'none'} "
            "(TrainConfig.snapshot_steps)"
        )
    header = read_header(path)
    trainer = Trainer(TrainConfig.from_json(header["config"]), devices=jax.devices()[:1])
    state = trainer.init_state()
    if header.get("contents") == PARAMETERS_ONLY:
        return load_checkpoint(path, state.params)[1]
    return load_checkpoint(path, state)[1].params


def finalise(out: str | Path) -> Path:
    """Rewrite a finished run's checkpoint with its parameters only, without the optimiser state
    and data key (a third of the size for AdamW): the form in which a final model is kept. It
    loads and evaluates as before, and can no longer be continued. Atomic; a finalised run is
    left as it is."""
    path = Path(out) / CHECKPOINT_NAME
    header = read_header(path)
    if header.get("contents") == PARAMETERS_ONLY:
        return path
    config = TrainConfig.from_json(header["config"])
    if int(header["step"]) < config.steps:
        raise RunFolderError(
            f"{out} is live (step {header['step']} of {config.steps}): finish it with "
            f"`icl-theory train --resume {out}` first; only a finished run is finalised"
        )
    kept = {key: header[key] for key in ("step", "config", "devices") if key in header}
    save_checkpoint(path, kept | {"contents": PARAMETERS_ONLY}, load_model(out))
    return path


class _Members:
    """The models a host loop trains: one (`Trainer.run_chunk` as it is) or an ensemble (the
    same compiled step vmapped over stacked states, see `ensemble.py`). Losses and errors come
    back with a leading member axis either way."""

    def __init__(self, trainers: list[Trainer]):
        self.trainers = trainers
        self.eval_prompts = [evaluation_set(trainer) for trainer in trainers]
        self.stacked = len(trainers) > 1
        if self.stacked:
            step = trainers[0]._chunk
            self._chunk = jax.jit(
                lambda state, length: jax.vmap(lambda one: step(one, length))(state),
                static_argnums=1,
                donate_argnums=0,
            )

    def chunk(self, state: TrainState, length: int) -> tuple[TrainState, np.ndarray]:
        if self.stacked:
            state, losses = self._chunk(state, length)
            return state, np.asarray(losses)
        state, losses = self.trainers[0].run_chunk(state, length)
        return state, np.asarray(losses)[None]

    def member(self, state: TrainState, index: int) -> TrainState:
        return jax.tree.map(lambda leaf: leaf[index], state) if self.stacked else state

    def eval_errors(self, state: TrainState, index: int) -> np.ndarray:
        trainer = self.trainers[index]
        params = self.member(state, index).params
        return np.asarray(normalised_error(params, trainer.prior, self.eval_prompts[index]))


def _loop(
    trainer: Trainer, state: TrainState, out: Path, *, progress: bool, stop_at: int | None
) -> TrainResult:
    (result,) = _members_loop(_Members([trainer]), state, [out], progress, stop_at)
    return result


def _members_loop(
    members: _Members,
    state: TrainState,
    outs: list[Path],
    progress: bool,
    stop_at: int | None,
) -> list[TrainResult]:
    config = members.trainers[0].config  # the members differ in their seed only
    step = int(members.member(state, 0).step)
    interrupted = False
    with (
        _sigint_requests_stop() as stop_requested,
        Progress(config.steps, step, enabled=progress) as bar,
    ):
        while step < config.steps:
            length = min(config.steps_per_call, config.steps - step)
            start = time.perf_counter()
            new_state, losses = members.chunk(state, length)  # (members, length); waits
            elapsed = time.perf_counter() - start
            for out, member_losses in zip(outs, losses, strict=True):
                bad = np.flatnonzero(~np.isfinite(member_losses))
                if bad.size:
                    kept = (
                        f"the last good checkpoint in {out} is unchanged"
                        if (out / CHECKPOINT_NAME).exists()
                        else f"no checkpoint had been written yet in {out}"
                    )
                    raise TrainingDivergedError(
                        f"the loss became {member_losses[bad[0]]} at step {step + int(bad[0])}; "
                        f"{kept}. Lower learning_rate or clip_norm, or check the prior's scale "
                        "(output_scale='unit'), and start a new run"
                    )
            state, step = new_state, step + length
            rate = length / elapsed
            learning_rate = members.trainers[0].learning_rate(step - 1)  # of the last step
            for index, out in enumerate(outs):
                record = {
                    "step": step,
                    "loss": float(losses[index].mean()),
                    "learning_rate": learning_rate,
                    "steps_per_s": rate,
                }
                _append_metrics(out / METRICS_NAME, record)
            bar.update(step, float(losses.mean()), rate)
            if step % config.eval_every == 0 or step == config.steps:
                for index, out in enumerate(outs):
                    error = members.eval_errors(state, index)
                    _append_metrics(
                        out / METRICS_NAME, {"step": step, "eval_error": error.tolist()}
                    )
            if step in config.snapshot_steps:
                for index, out in enumerate(outs):
                    _save_snapshot(out, members.trainers[index], members.member(state, index))
            stopping = stop_requested() or (stop_at is not None and step >= stop_at)
            if step % config.checkpoint_every == 0 or step == config.steps or stopping:
                for index, out in enumerate(outs):
                    _save(out, members.trainers[index], members.member(state, index))
            if stopping:
                interrupted = step < config.steps
                break
    return [
        TrainResult(members.member(state, index).params, step, interrupted, out)
        for index, out in enumerate(outs)
    ]


def _save(out: Path, trainer: Trainer, state: TrainState) -> None:
    header = {
        "step": int(state.step),
        "config": trainer.config.to_json(),
        "devices": len(trainer.devices),
    }
    save_checkpoint(out / CHECKPOINT_NAME, header, state)


def snapshot_path(out: str | Path, step: int) -> Path:
    """Where a run keeps its parameters at `step` (`TrainConfig.snapshot_steps`)."""
    return Path(out) / SNAPSHOTS_NAME / f"step-{step:09d}.eqx"


def _save_snapshot(out: Path, trainer: Trainer, state: TrainState) -> None:
    step = int(state.step)
    header = {"step": step, "config": trainer.config.to_json(), "devices": len(trainer.devices)}
    save_checkpoint(snapshot_path(out, step), header | {"contents": PARAMETERS_ONLY}, state.params)


def _append_metrics(path: Path, record: dict[str, Any]) -> None:
    with path.open("a") as file:
        file.write(json.dumps(record) + "\n")


def _truncate_metrics(path: Path, step: int) -> None:
    """Drop records written after the checkpoint (a resumed run writes them again), and a last
    line cut short by a crash. Any other line that is not a metrics record stops the resume with
    a message naming it: it is not ours to delete."""
    if not path.exists():
        return
    if not path.is_file():
        raise RunFolderError(
            f"{path} is not a file: move it aside (the run then continues without its earlier "
            "metrics)"
        )
    try:
        lines = path.read_bytes().decode().splitlines()
    except UnicodeDecodeError as error:
        raise RunFolderError(
            f"{path} is not text (byte {error.start} is not UTF-8): it is damaged; move it aside "
            "(the run then continues without its earlier metrics)"
        ) from error
    kept = []
    for number, line in enumerate(lines, start=1):
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            if number == len(lines):  # cut short by a crash: written again on resume
                continue
            record = None
        if not isinstance(record, dict) or type(record.get("step")) is not int:
            raise RunFolderError(
                f"{path} line {number} is not a metrics record (a JSON object with an integer "
                "step): fix or delete that line, or move the file aside"
            )
        if record["step"] <= step:
            kept.append(line)
    write_atomic(path, "".join(line + "\n" for line in kept).encode())


@contextmanager
def _sigint_requests_stop() -> Iterator[Any]:
    """The first Ctrl-C asks the loop to stop after the call in flight; the second aborts."""
    requested = False

    def handler(signum, frame):
        nonlocal requested
        if requested:
            raise KeyboardInterrupt
        requested = True

    try:
        previous = signal.signal(signal.SIGINT, handler)
    except ValueError:  # not the main thread: leave Ctrl-C alone
        yield lambda: False
        return
    try:
        yield lambda: requested
    finally:
        signal.signal(signal.SIGINT, previous)


__all__ = [
    "RunFolderError",
    "TrainResult",
    "TrainingDivergedError",
    "load_model",
    "resume",
    "train",
]
