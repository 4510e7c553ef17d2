"""Reading a run's training curves (`metrics.jsonl`): the monitoring records, the compiled
training time, and when the loss left its initial plateau."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from icl_theory.training.run_folder import RunFolder


@dataclass(frozen=True)
class Curves:
    """A run's curves: the training loss (each record the mean over one compiled call) and the
    monitoring error per context length, each with the steps at which it was recorded."""

    loss_steps: np.ndarray
    loss: np.ndarray
    eval_steps: np.ndarray
    eval_error: np.ndarray
    """`(evaluations, n_points)`: error at 0 .. n_points - 1 examples in context."""
    training_seconds: float
    """The time of the timed compiled calls (compilation, evaluation and checkpoints excluded)."""


def read_curves(run: str | Path) -> Curves:
    """A run's recorded training loss and monitoring errors, by step, and its training time."""
    records = RunFolder(run).metrics()
    losses = [r for r in records if "loss" in r]
    evals = [r for r in records if "eval_error" in r]
    return Curves(
        loss_steps=np.array([r["step"] for r in losses], dtype=np.int64),
        loss=np.array([r["loss"] for r in losses], dtype=np.float64),
        eval_steps=np.array([r["step"] for r in evals], dtype=np.int64),
        eval_error=np.array([r["eval_error"] for r in evals], dtype=np.float64),
        training_seconds=training_seconds(records),
    )


def training_seconds(records: list[dict]) -> float:
    """The sum of the timed compiled calls (compilation, evaluation and checkpoints excluded)."""
    seconds, previous = 0.0, 0
    for record in records:
        if "steps_per_s" in record:
            seconds += (record["step"] - previous) / record["steps_per_s"]
            previous = record["step"]
    return seconds


def plateau_exit(steps: np.ndarray, loss: np.ndarray, level: float = 0.9) -> int | None:
    """The first recorded step from which the loss stays below `level` to the end of the curve:
    when the run left its initial plateau for good. `None` if the last record is not below it.

    With the loss divided by the class's output variance (`normalise_loss`), the plateau is at
    1, the zero predictor's loss; 0.9 lies several standard deviations of a 100-step mean below
    it (batch 64), so noise on the plateau does not count as leaving it.
    """
    steps, loss = np.asarray(steps), np.asarray(loss)
    if steps.shape != loss.shape or steps.ndim != 1:
        raise ValueError(f"steps {steps.shape} and loss {loss.shape} must be equal 1-d shapes")
    above = np.flatnonzero(~(loss < level))  # NaN counts as not below
    if above.size == 0:
        return int(steps[0]) if steps.size else None
    last_above = int(above[-1])
    return None if last_above == steps.size - 1 else int(steps[last_above + 1])


def last_monitoring_error(records: list[dict]) -> list[float] | None:
    """The normalised error per position on the fixed monitoring prompts at the last step that
    measured it (`None` before the first)."""
    errors = [record["eval_error"] for record in records if "eval_error" in record]
    return errors[-1] if errors else None
