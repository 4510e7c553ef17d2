"""Two-layer ReLU networks, Garg et al.'s prior:
`f(x) = sum_i a_i ReLU(w_i . x)`, `w_i ~ N(0, I_dim)`, `a_i ~ N(0, output_std^2)` with
`output_std^2 = 2 / hidden` by default, so that `Var f(x) = |x|^2`."""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Float

from icl_theory._types import Count, IntScalar, Key, Point, Scalar, Xs, Ys
from icl_theory._validation import check_nonnegative, check_positive, check_positive_int
from icl_theory.priors._sites import iid_normal
from icl_theory.priors.base import AbstractPrior, dim_mask, zero_class


class ReluTask(eqx.Module):
    """A ReLU network's weights: `f(x) = output_weights . ReLU(hidden_weights @ x)`."""

    hidden_weights: Float[Array, "hidden dim"]
    output_weights: Float[Array, " hidden"]


class ReluNetwork(AbstractPrior):
    """Random two-layer ReLU network without biases (Garg et al.: hidden width r = 100).

    Attributes:
        dim: input dimension.
        hidden: hidden width `r`.
        output_std: standard deviation of the output weights; `None` means `sqrt(2 / hidden)`.
        noise_std: observation noise `sigma` (0 allowed).
    """

    dim: int = eqx.field(static=True)
    hidden: int = eqx.field(static=True, default=100)
    output_std: float | None = None
    noise_std: float = 0.0

    def __check_init__(self) -> None:
        check_positive_int("ReluNetwork", "dim", self.dim)
        check_positive_int("ReluNetwork", "hidden", self.hidden)
        if self.output_std is not None:
            check_positive("ReluNetwork", "output_std", self.output_std)
        check_nonnegative("ReluNetwork", "noise_std", self.noise_std)

    @property
    def output_scale(self) -> float:
        return math.sqrt(2.0 / self.hidden) if self.output_std is None else self.output_std

    def sample_task(self, key: Key, active_dims: Count) -> ReluTask:
        hidden_key, output_key = jr.split(key)
        hidden_weights = jr.normal(hidden_key, (self.hidden, self.dim))
        hidden_weights = hidden_weights * dim_mask(self.dim, active_dims)[None, :]
        output_weights = self.output_scale * jr.normal(output_key, (self.hidden,))
        return ReluTask(hidden_weights, output_weights)

    def evaluate(self, task: ReluTask, xs: Xs) -> Ys:
        return jax.nn.relu(xs @ task.hidden_weights.T) @ task.output_weights

    def observation_std(self, task: ReluTask) -> Scalar:
        return jnp.asarray(self.noise_std, dtype=task.output_weights.dtype)

    def class_index(self, task: ReluTask) -> IntScalar:
        return zero_class()

    def output_variance(self, x: Point, active_dims: Count | None = None) -> Scalar:
        # w.x ~ N(0, |x|^2) and E[ReLU(z)^2] = Var(z) / 2 for a centred Gaussian z.
        x = x * dim_mask(self.dim, active_dims)
        return self.hidden * self.output_scale**2 * jnp.sum(x**2) / 2.0

    def with_unit_output_variance(self) -> "AbstractPrior":
        return eqx.tree_at(
            lambda p: p.output_std,
            self,
            math.sqrt(2.0 / (self.hidden * self.dim)),
            is_leaf=lambda node: node is None,
        )

    def numpyro_function(self, xs: Xs) -> tuple[Ys, Scalar]:
        hidden_weights = iid_normal("hidden_weights", 1.0, (self.hidden, self.dim))
        output_weights = iid_normal("output_weights", self.output_scale, (self.hidden,))
        f = jax.nn.relu(xs @ hidden_weights.T) @ output_weights
        return f, jnp.asarray(self.noise_std)
