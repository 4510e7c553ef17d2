"""Convex combinations `alpha * f1 + (1 - alpha) * f2` of two independent draws.

Used only for evaluation out of distribution (Yadlowsky et al.: a model pretrained on the union of
linear functions and sinusoids, tested on their combinations). Noise is the combination's own,
added once to the combined value; the components' noise levels are not used.
"""

import equinox as eqx
import jax.numpy as jnp
import jax.random as jr
import numpyro
from jaxtyping import Array, Bool

from icl_theory._types import Count, IntScalar, Key, Point, Scalar, Xs, Ys
from icl_theory._validation import check_nonnegative, invalid
from icl_theory.priors.base import AbstractPrior, Task, zero_class


class PairTask(eqx.Module):
    """A convex combination's task: one task of each of its two priors."""

    first: Task
    second: Task


class ConvexCombination(AbstractPrior):
    """`alpha * first + (1 - alpha) * second` plus `N(0, noise_std^2)` noise.

    Attributes:
        first: priors of the same `dim`, drawn independently.
        second: priors of the same `dim`, drawn independently.
        alpha: weight of `first`, in [0, 1].
        noise_std: observation noise of the combined function.
    """

    first: AbstractPrior
    second: AbstractPrior
    alpha: float
    noise_std: float = 0.0
    dim: int = eqx.field(static=True, init=False)

    def __post_init__(self) -> None:
        self.dim = self.first.dim

    def __check_init__(self) -> None:
        if self.first.dim != self.second.dim:
            raise invalid(
                "ConvexCombination",
                "second",
                f"dim={self.second.dim}",
                f"must have the same dim as first (dim={self.first.dim})",
            )
        if not 0.0 <= self.alpha <= 1.0:
            raise invalid("ConvexCombination", "alpha", self.alpha, "must lie in [0, 1]")
        check_nonnegative("ConvexCombination", "noise_std", self.noise_std)

    def sample_task(self, key: Key, active_dims: Count) -> PairTask:
        first_key, second_key = jr.split(key)
        return PairTask(
            self.first.sample_task(first_key, active_dims),
            self.second.sample_task(second_key, active_dims),
        )

    def evaluate(self, task: PairTask, xs: Xs) -> Ys:
        first = self.first.evaluate(task.first, xs)
        second = self.second.evaluate(task.second, xs)
        return self.alpha * first + (1.0 - self.alpha) * second

    def observation_std(self, task: PairTask) -> Scalar:
        return jnp.asarray(self.noise_std)

    def class_index(self, task: PairTask) -> IntScalar:
        return zero_class()

    @property
    def label(self) -> str:
        return f"ConvexCombination({self.first.label}, {self.second.label}, alpha={self.alpha:g})"

    def relevant_inputs(self, task: PairTask) -> Bool[Array, " dim"]:
        return self.first.relevant_inputs(task.first) | self.second.relevant_inputs(task.second)

    def output_variance(self, x: Point, active_dims: Count | None = None) -> Scalar:
        first = self.first.output_variance(x, active_dims)
        second = self.second.output_variance(x, active_dims)
        return self.alpha**2 * first + (1.0 - self.alpha) ** 2 * second

    def min_active_dims(self) -> int:
        return max(self.first.min_active_dims(), self.second.min_active_dims())

    def with_unit_output_variance(self) -> "AbstractPrior":
        """Each component at unit variance (the combination itself then has
        `alpha^2 + (1 - alpha)^2 <= 1`, as a model pretrained on unit-variance classes sees it)."""
        return type(self)(
            self.first.with_unit_output_variance(),
            self.second.with_unit_output_variance(),
            self.alpha,
            self.noise_std,
        )

    def numpyro_function(self, xs: Xs) -> tuple[Ys, Scalar]:
        with numpyro.handlers.scope(prefix="first", divider="/"):
            first, _ = self.first.numpyro_function(xs)
        with numpyro.handlers.scope(prefix="second", divider="/"):
            second, _ = self.second.numpyro_function(xs)
        return self.alpha * first + (1.0 - self.alpha) * second, jnp.asarray(self.noise_std)
