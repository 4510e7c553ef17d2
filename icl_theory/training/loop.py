"""The host loop: compiled calls of the training step, metrics, monitoring evaluations,
snapshots and checkpoints, for one model or a vmapped ensemble of them, each member writing its
own run folder.

Ctrl-C (SIGINT) asks the loop to stop after the compiled call in flight; it then saves a
checkpoint and returns. A second Ctrl-C raises `KeyboardInterrupt` as soon as Python regains
control, which is at the end of that call. A NaN or infinite loss raises `TrainingDivergedError`
naming the step and leaves the last checkpoint (written before the bad steps) untouched.
"""

import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jax
import numpy as np

from icl_theory import interrupt
from icl_theory.model.gpt2 import GPT2
from icl_theory.training.progress import Progress
from icl_theory.training.run_folder import RunFolder
from icl_theory.training.trainer import Trainer, TrainState, evaluation_set, normalised_error


class TrainingDivergedError(RuntimeError):
    """The training loss became NaN or infinite; the message says from which checkpoint the run
    can continue and what to change."""


@dataclass
class TrainResult:
    """What a training call returns: the model, the step it reached, whether Ctrl-C stopped it, and
    its run folder."""

    model: GPT2
    step: int
    interrupted: bool
    out: Path


class Members:
    """The models a host loop trains: one (`Trainer.run_chunk` as it is) or an ensemble (the
    same compiled step vmapped over stacked states, see `ensemble.py`). Losses and errors come
    back with a leading member axis either way."""

    def __init__(self, trainers: list[Trainer]):
        self.trainers = trainers
        self.eval_prompts = [evaluation_set(trainer) for trainer in trainers]
        self.stacked = len(trainers) > 1
        if self.stacked:
            step = trainers[0].chunk
            self._stacked_chunk = jax.jit(
                lambda state, length: jax.vmap(lambda one: step(one, length))(state),
                static_argnums=1,
                donate_argnums=0,
            )

    def chunk(self, state: TrainState, length: int) -> tuple[TrainState, np.ndarray]:
        if self.stacked:
            state, losses = self._stacked_chunk(state, length)
            return state, np.asarray(losses)
        state, losses = self.trainers[0].run_chunk(state, length)
        return state, np.asarray(losses)[None]

    def member(self, state: TrainState, index: int) -> TrainState:
        return jax.tree.map(lambda leaf: leaf[index], state) if self.stacked else state

    def eval_errors(self, state: TrainState, index: int) -> np.ndarray:
        trainer = self.trainers[index]
        params = self.member(state, index).params
        return np.asarray(normalised_error(params, trainer.prior, self.eval_prompts[index]))


def run_loop(
    members: Members,
    state: TrainState,
    folders: list[RunFolder],
    *,
    progress: bool,
    stop_at: int | None,
) -> list[TrainResult]:
    """Train `members` from `state` to their budget (or `stop_at`, or Ctrl-C), writing each
    member's metrics, snapshots and checkpoints into its folder."""
    config = members.trainers[0].config  # the members share their schedule
    devices = len(members.trainers[0].devices)
    step = int(members.member(state, 0).step)
    interrupted, steps_run = False, 0
    with (
        sigint_requests_stop() as stop_requested,
        Progress(config.steps, step, enabled=progress, normalised=config.normalise_loss) as bar,
    ):
        while step < config.steps:
            if stop_requested() and steps_run == 0:  # Ctrl-C came before the first step
                interrupted = True
                break
            length = min(config.steps_per_call, config.steps - step)
            start = time.perf_counter()
            new_state, losses = members.chunk(state, length)  # (members, length); waits
            elapsed = time.perf_counter() - start
            for folder, member_losses in zip(folders, losses, strict=True):
                _check_finite(folder, member_losses, step)
            state, step, steps_run = new_state, step + length, steps_run + length
            rate = length / elapsed
            learning_rate = members.trainers[0].learning_rate(step - 1)  # of the last step
            for index, folder in enumerate(folders):
                loss = float(losses[index].mean())
                record = {"step": step, "loss": loss, "learning_rate": learning_rate}
                folder.append_metrics(record | {"steps_per_s": rate})
            bar.update(step, float(losses.mean()), rate)
            if step % config.eval_every == 0 or step == config.steps:
                errors = [members.eval_errors(state, i).tolist() for i in range(len(folders))]
                for folder, error in zip(folders, errors, strict=True):
                    folder.append_metrics({"step": step, "eval_error": error})
                bar.monitor(errors[0])  # the first member's: one line has room for one
            if step in config.snapshot_steps:
                for index, folder in enumerate(folders):
                    params = members.member(state, index).params
                    folder.save_snapshot(members.trainers[index].config, devices, params, step)
            stopping = stop_requested() or (stop_at is not None and step >= stop_at)
            if step % config.checkpoint_every == 0 or step == config.steps or stopping:
                _save_states(members, state, folders, devices, step)
            if stopping:
                interrupted = step < config.steps
                break
    return [
        TrainResult(members.member(state, index).params, step, interrupted, folder.path)
        for index, folder in enumerate(folders)
    ]


def _save_states(
    members: Members, state: TrainState, folders: list[RunFolder], devices: int, step: int
) -> None:
    """Each member's checkpoint; an ensemble's in two phases (all written, then all promoted),
    so that a kill in between leaves members that `settle_pending` makes consistent."""
    if len(folders) == 1:
        folders[0].save_state(members.trainers[0].config, devices, state, step)
        return
    for index, folder in enumerate(folders):
        member = members.member(state, index)
        folder.save_pending_state(members.trainers[index].config, devices, member, step)
    for folder in folders:
        folder.promote_pending()


def _check_finite(folder: RunFolder, losses: np.ndarray, step: int) -> None:
    bad = np.flatnonzero(~np.isfinite(losses))
    if bad.size:
        kept = (
            f"the last good checkpoint in {folder.path} is unchanged"
            if folder.has_checkpoint()
            else f"no checkpoint had been written yet in {folder.path}"
        )
        raise TrainingDivergedError(
            f"the loss became {losses[bad[0]]} at step {step + int(bad[0])}; {kept}. Lower "
            "learning_rate or clip_norm, or check the prior's scale (output_scale='unit'), and "
            "start a new run"
        )


@contextmanager
def sigint_requests_stop() -> Iterator[Any]:
    """The first Ctrl-C asks the loop to stop after the call in flight; the second aborts. One
    that came earlier, while the command prepared the run (`interrupt.deferred`), counts."""
    requested = interrupt.take()

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
