"""Dense linear regression: `w ~ N(0, tau^2 I_dim)`, `y = w.x + eps`, `eps ~ N(0, sigma^2)`."""

import math

import equinox as eqx
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Bool, Float

from icl_theory._types import Count, IntScalar, Key, Point, Scalar, Xs, Ys
from icl_theory._validation import check_nonnegative, check_positive, check_positive_int
from icl_theory.priors._sites import iid_normal
from icl_theory.priors.base import AbstractPrior, dim_mask, zero_class


class LinearTask(eqx.Module):
    """A linear function `f(x) = w.x` (zero on inactive coordinates)."""

    w: Float[Array, " dim"]


class AbstractLinearPrior(AbstractPrior):
    """Linear functions `f(x) = w.x` observed with Gaussian noise; subclasses set the law of `w`."""

    noise_std: eqx.AbstractVar[float]

    def evaluate(self, task: LinearTask, xs: Xs) -> Ys:
        return xs @ task.w

    def observation_std(self, task: LinearTask) -> Scalar:
        return jnp.asarray(self.noise_std, dtype=task.w.dtype)

    def class_index(self, task: LinearTask) -> IntScalar:
        return zero_class()

    def relevant_inputs(self, task: LinearTask) -> Bool[Array, " dim"]:
        return task.w != 0


class DenseLinear(AbstractLinearPrior):
    """Garg et al.'s linear class; `tau = 1` gives their raw scale `Var f(x) = |x|^2`.

    Attributes:
        dim: input dimension.
        tau: prior standard deviation of each weight.
        noise_std: observation noise `sigma` (0 allowed: noise-free prompts).
    """

    dim: int = eqx.field(static=True)
    tau: float = 1.0
    noise_std: float = 0.0

    def __check_init__(self) -> None:
        check_positive_int("DenseLinear", "dim", self.dim)
        check_positive("DenseLinear", "tau", self.tau)
        check_nonnegative("DenseLinear", "noise_std", self.noise_std)

    def sample_task(self, key: Key, active_dims: Count) -> LinearTask:
        w = self.tau * jr.normal(key, (self.dim,))
        return LinearTask(w * dim_mask(self.dim, active_dims))

    def output_variance(self, x: Point, active_dims: Count | None = None) -> Scalar:
        x = x * dim_mask(self.dim, active_dims)
        return self.tau**2 * jnp.sum(x**2)

    def with_unit_output_variance(self) -> "AbstractPrior":
        return eqx.tree_at(lambda p: p.tau, self, 1.0 / math.sqrt(self.dim))

    def numpyro_function(self, xs: Xs) -> tuple[Ys, Scalar]:
        w = iid_normal("w", self.tau, (self.dim,))
        return xs @ w, jnp.asarray(self.noise_std)
