"""The host loop of a training run and its folder.

    RUN/config.json       the TrainConfig (written once, atomically)
    RUN/metrics.jsonl     one JSON object per host call: step, loss, learning_rate, steps_per_s;
                          and per evaluation: step, eval_error (per position, normalised)
    RUN/checkpoint.eqx    the latest checkpoint (atomic; see checkpoint.py)
    RUN/provenance.json   package versions, git commit, machine

Ctrl-C (SIGINT) finishes the compiled call in flight, saves a checkpoint and returns; a second
Ctrl-C aborts at once. A NaN or infinite loss raises `TrainingDivergedError` naming the step and
leaves the last checkpoint (written before the bad steps) untouched.
"""

import json
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jax
import numpy as np

from icl_theory.model.gpt2 import GPT2
from icl_theory.records import provenance, write_atomic, write_json_atomic
from icl_theory.training.checkpoint import (
    CHECKPOINT_NAME,
    load_checkpoint,
    read_header,
    save_checkpoint,
)
from icl_theory.training.config import TrainConfig
from icl_theory.training.progress import Progress
from icl_theory.training.trainer import Trainer, TrainState, evaluation_set, normalised_error


class TrainingDivergedError(RuntimeError):
    pass


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
    if (out / CHECKPOINT_NAME).exists() or (out / "config.json").exists():
        raise FileExistsError(
            f"{out} already holds a run: continue it with `icl-theory train --resume {out}` "
            "(or resume() in Python), or choose a new --out"
        )
    out.mkdir(parents=True, exist_ok=True)
    write_json_atomic(out / "config.json", config.to_json())
    write_json_atomic(out / "provenance.json", provenance())
    trainer = Trainer(config, devices)
    return _loop(trainer, trainer.init_state(), out, progress=progress, stop_at=stop_at)


def resume(
    out: str | Path,
    *,
    progress: bool = True,
    stop_at: int | None = None,
    devices: list | None = None,
) -> TrainResult:
    """Continue the run in `out` from its checkpoint, with the config it was started with."""
    out = Path(out)
    header = read_header(out / CHECKPOINT_NAME)
    config = TrainConfig.from_json(header["config"])
    trainer = Trainer(config, devices)
    _, state = load_checkpoint(out / CHECKPOINT_NAME, trainer.init_state())
    state = trainer.place(state)
    _truncate_metrics(out / "metrics.jsonl", int(state.step))
    return _loop(trainer, state, out, progress=progress, stop_at=stop_at)


def load_model(out: str | Path) -> GPT2:
    """The model of the run in `out`, from its checkpoint."""
    path = Path(out) / CHECKPOINT_NAME
    config = TrainConfig.from_json(read_header(path)["config"])
    trainer = Trainer(config, devices=jax.devices()[:1])
    _, state = load_checkpoint(path, trainer.init_state())
    return state.params


def _loop(
    trainer: Trainer, state: TrainState, out: Path, *, progress: bool, stop_at: int | None
) -> TrainResult:
    config = trainer.config
    eval_prompts = evaluation_set(trainer)
    step = int(state.step)
    interrupted = False
    with (
        _sigint_requests_stop() as stop_requested,
        Progress(config.steps, step, enabled=progress) as bar,
    ):
        while step < config.steps:
            length = min(config.steps_per_call, config.steps - step)
            start = time.perf_counter()
            new_state, losses = trainer.run_chunk(state, length)
            losses = np.asarray(losses)  # waits for the call
            elapsed = time.perf_counter() - start
            bad = np.flatnonzero(~np.isfinite(losses))
            if bad.size:
                raise TrainingDivergedError(
                    f"the loss became {losses[bad[0]]} at step {step + int(bad[0])}; the last "
                    f"good checkpoint in {out} is unchanged. Lower learning_rate or clip_norm, "
                    "or check the prior's scale (output_scale='unit')"
                )
            state, step = new_state, step + length
            record = {
                "step": step,
                "loss": float(losses.mean()),
                "learning_rate": trainer.learning_rate(step),
                "steps_per_s": length / elapsed,
            }
            _append_metrics(out / "metrics.jsonl", record)
            bar.update(step, record["loss"], record["steps_per_s"])
            if step % config.eval_every == 0 or step == config.steps:
                error = normalised_error(state.params, trainer.prior, eval_prompts)
                _append_metrics(
                    out / "metrics.jsonl", {"step": step, "eval_error": np.asarray(error).tolist()}
                )
            stopping = stop_requested() or (stop_at is not None and step >= stop_at)
            if step % config.checkpoint_every == 0 or step == config.steps or stopping:
                _save(out, trainer, state)
            if stopping:
                interrupted = step < config.steps
                break
    return TrainResult(state.params, step, interrupted, out)


def _save(out: Path, trainer: Trainer, state: TrainState) -> None:
    header = {"step": int(state.step), "config": trainer.config.to_json()}
    save_checkpoint(out / CHECKPOINT_NAME, header, state)


def _append_metrics(path: Path, record: dict[str, Any]) -> None:
    with path.open("a") as file:
        file.write(json.dumps(record) + "\n")


def _truncate_metrics(path: Path, step: int) -> None:
    """Drop records written after the checkpoint (a resumed run writes them again)."""
    if not path.exists():
        return
    kept = []
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:  # a line cut short by a crash: written again on resume
            continue
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


__all__ = ["TrainResult", "TrainingDivergedError", "load_model", "resume", "train"]
