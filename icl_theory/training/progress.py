"""A terminal progress display for long runs: step, loss, the latest monitoring error, steps/s
and time left (rich)."""

from types import TracebackType

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import Progress as RichProgress


class Progress:
    """`with Progress(total, start, enabled) as bar: bar.update(step, loss, steps_per_s)`;
    does nothing when disabled. Until the first update it says "compiling": the first call
    compiles the training step, tens of seconds in which there is no loss to show.

    The loss is labelled `normalised loss` when `normalised` (each prompt's squared error over
    its class's output variance: predicting 0 scores about 1); `monitor(errors)` adds the latest
    monitoring error at the last position (always normalised), comparable across priors."""

    def __init__(self, total: int, start: int, *, enabled: bool, normalised: bool = False):
        self._bar = (
            RichProgress(
                TextColumn("[bold]train"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[status]}"),
                TimeElapsedColumn(),
                TextColumn("left"),
                TimeRemainingColumn(),
            )
            if enabled
            else None
        )
        self._total, self._start = total, start
        self._task = None
        self._loss_label = "normalised loss" if normalised else "loss"
        self._monitored = ""

    def __enter__(self) -> "Progress":
        if self._bar is not None:
            self._bar.__enter__()
            self._task = self._bar.add_task(
                "train", total=self._total, completed=self._start, status="compiling"
            )
        return self

    def update(self, step: int, loss: float, steps_per_s: float) -> None:
        if self._bar is not None and self._task is not None:
            status = f"{self._loss_label} {loss:.4f}{self._monitored}  {steps_per_s:.1f} steps/s"
            self._bar.update(self._task, completed=step, status=status)

    def monitor(self, errors: list[float]) -> None:
        """Show the monitoring error at the last position from the next update on."""
        self._monitored = f"  error at {len(errors) - 1} examples {errors[-1]:.3f}"

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.__exit__(kind, error, traceback)
