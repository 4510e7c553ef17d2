"""The prior protocol: what every function class provides.

A prior is an Equinox module holding hyperparameters only. Sampling a function is split in two
so that shapes stay fixed under `jit`: `sample_task` draws the function's latent parameters (a
small PyTree, the "task"), and `evaluate` applies them to inputs. Inputs come from a separate
input distribution (`icl_theory.priors.inputs`), so any class can be paired with any input shift.

Every prior also writes itself as a NumPyro program (`numpyro_function`), so that its sampler can
be checked against an independent implementation and so that MCMC can serve as a fallback or a
cross-check for the closed-form Bayes predictors.
"""

import abc
from typing import Any

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float

from icl_theory._types import Count, IntScalar, Key, Point, Scalar, Xs, Ys

Task = Any
"""The latent parameters of one sampled function (a PyTree whose structure each prior defines)."""


class AbstractPrior(eqx.Module):
    """A prior over functions `R^dim -> R`, observed with Gaussian noise.

    Concrete priors are final: they define all their fields in one place and vary by wrapping
    (`Mixture`, `ConvexCombination`, `FinitePool`), never by subclassing.
    """

    dim: eqx.AbstractVar[int]

    @abc.abstractmethod
    def sample_task(self, key: Key, active_dims: Count) -> Task:
        """Draw one function's parameters.

        Args:
            key: PRNG key.
            active_dims: curriculum dimension count; coordinates `>= active_dims` are inactive
                (their inputs are zero, and e.g. sparse supports are drawn among the active ones).
        """

    @abc.abstractmethod
    def evaluate(self, task: Task, xs: Xs) -> Ys:
        """Noise-free values `f(x_i)` of the sampled function at each row of `xs`."""

    @abc.abstractmethod
    def observation_std(self, task: Task) -> Scalar:
        """Standard deviation of the Gaussian observation noise for this task."""

    @abc.abstractmethod
    def class_index(self, task: Task) -> IntScalar:
        """Which mixture component drew the task (0 for a prior that is not a mixture)."""

    @abc.abstractmethod
    def output_variance(self, x: Point, active_dims: Count | None = None) -> Scalar:
        """`E[f(x)^2]` over the prior at a fixed query `x`, noise excluded.

        All priors here have mean zero, so this is the error of the zero predictor at `x`;
        dividing squared errors by it puts every class on one axis (the zero predictor scores 1).
        """

    @property
    def classes(self) -> tuple["AbstractPrior", ...]:
        """The classes whose prompts are told apart in results (`class_index` picks one): the
        prior itself, or a mixture's components."""
        return (self,)

    @property
    def class_weights(self) -> tuple[float, ...]:
        """The prior probability of each of `classes`."""
        return (1.0,)

    @property
    def label(self) -> str:
        """A short name for tables and legends: the class name, plus the field that tells two
        instances apart where the name alone does not (`SparseLinear(k=2)`)."""
        return type(self).__name__

    def relevant_inputs(self, task: Task) -> Bool[Array, " dim"]:
        """Which input coordinates the sampled function depends on. All of them unless the class
        knows better (a sparse function's support); the implied-linear-function diagnostic
        measures a predictor's weight off them."""
        return jnp.ones((self.dim,), bool)

    def min_active_dims(self) -> int:
        """The fewest active input coordinates (under a curriculum) on which this class can draw
        its functions: 1 unless a class needs more (k for k-sparse)."""
        return 1

    @abc.abstractmethod
    def with_unit_output_variance(self) -> "AbstractPrior":
        """The same class rescaled so that `E_x[output_variance(x)] = 1` for `x ~ N(0, I_dim)`.

        This is Panwar et al.'s per-class output normalisation; the default raw scales follow
        Garg et al. (e.g. `Var f = dim` for dense linear, `k` for k-sparse).
        """

    @abc.abstractmethod
    def numpyro_function(self, xs: Xs) -> tuple[Ys, Scalar]:
        """Inside a NumPyro model: sample the latents as sites, return `(f(xs), noise std)`.

        The full-dimension prior (no curriculum). `icl_theory.priors.probabilistic.prior_model`
        adds the observation site.
        """


def dim_mask(dim: int, active_dims: Count | None) -> Float[Array, " dim"]:
    """1.0 on active coordinates, 0.0 on inactive ones (all active when `active_dims` is None)."""
    if active_dims is None:
        return jnp.ones((dim,))
    return (jnp.arange(dim) < active_dims).astype(jnp.zeros(()).dtype)


def zero_class() -> IntScalar:
    return jnp.zeros((), dtype=jnp.int32)
