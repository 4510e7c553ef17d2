"""Garg et al.'s curriculum: the active dimension and point counts grow in steps during training.

Shapes never change: inactive coordinates and points are masked (see `sample_prompts`), so one
compiled training step serves the whole schedule, and the counts may be traced values.
"""

import dataclasses

import jax.numpy as jnp

from icl_theory._types import Count
from icl_theory._validation import check_positive_int, invalid


@dataclasses.dataclass(frozen=True)
class Curriculum:
    """Counts start at `*_start` and grow by `*_increment` every `interval` steps up to `*_end`.

    `Curriculum.garg(dim=20, n_points=41)` is Garg et al.'s schedule (5 -> 20 dimensions by 1 and
    11 -> 41 points by 2 every 2,000 steps); `Curriculum.constant` switches it off.
    """

    dims_start: int
    """Active input coordinates at step 0 (the rest are zero)."""
    dims_end: int
    """Active input coordinates at the end (at most the prior's dimension)."""
    points_start: int
    """Active (x, y) pairs per prompt at step 0 (the rest are masked out of the loss)."""
    points_end: int
    """Active pairs per prompt at the end (at most n_points)."""
    dims_increment: int = 1
    """Coordinates added every interval."""
    points_increment: int = 2
    """Pairs added every interval."""
    interval: int = 2000
    """Training steps between increments."""

    def __post_init__(self) -> None:
        for name in (
            "dims_start",
            "dims_end",
            "points_start",
            "points_end",
            "dims_increment",
            "points_increment",
            "interval",
        ):
            check_positive_int("Curriculum", name, getattr(self, name))
        if self.dims_start > self.dims_end:
            raise invalid(
                "Curriculum", "dims_start", self.dims_start, f"must be <= dims_end={self.dims_end}"
            )
        if self.points_start > self.points_end:
            raise invalid(
                "Curriculum",
                "points_start",
                self.points_start,
                f"must be <= points_end={self.points_end}",
            )

    @classmethod
    def garg(cls, dim: int = 20, n_points: int = 41) -> "Curriculum":
        return cls(
            dims_start=min(5, dim),
            dims_end=dim,
            points_start=min(11, n_points),
            points_end=n_points,
        )

    @classmethod
    def constant(cls, dim: int, n_points: int) -> "Curriculum":
        return cls(dims_start=dim, dims_end=dim, points_start=n_points, points_end=n_points)

    def check_compatible(self, dim: int, n_points: int) -> None:
        """Raise if the schedule does not fit a prior of `dim` or prompts of `n_points`."""
        if self.dims_end > dim:
            raise invalid(
                "Curriculum", "dims_end", self.dims_end, f"must be <= the prior's dim={dim}"
            )
        if self.points_end > n_points:
            raise invalid(
                "Curriculum", "points_end", self.points_end, f"must be <= n_points={n_points}"
            )

    def active_dims(self, step: Count) -> Count:
        grown = self.dims_start + (step // self.interval) * self.dims_increment
        return jnp.minimum(grown, self.dims_end)

    def active_points(self, step: Count) -> Count:
        grown = self.points_start + (step // self.interval) * self.points_increment
        return jnp.minimum(grown, self.points_end)
