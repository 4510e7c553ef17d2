"""Exact Bayes-optimal (posterior predictive mean) predictors for the priors.

`bayes_predictor(prior)` returns the predictor for any prior that has one (`has_bayes_predictor`
asks; `register_bayes_predictor` adds one for a new prior). Every Bayes predictor
also exposes `posterior(xs, ys) -> PrefixPosterior` (predictions plus the evidence of each prefix),
which is what lets mixtures and pools be built from their components' posteriors exactly.
"""

import abc
import math
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Bool, Float

from icl_theory._types import Preds, Xs, Ys
from icl_theory.predictors.base import (
    AbstractPredictor,
    check_input_precision,
    require_float64,
)
from icl_theory.predictors.evidence import MixedPosterior, PrefixPosterior, combine
from icl_theory.predictors.gaussian import gaussian_linear_posterior, point_mass_posterior
from icl_theory.priors import AbstractPrior, DenseLinear, FinitePool, Mixture, SparseLinear


class AbstractBayesPredictor(AbstractPredictor):
    needs_float64 = True
    refuses_float32 = True

    @abc.abstractmethod
    def posterior(self, xs: Xs, ys: Ys) -> PrefixPosterior:
        """Predictions and prefix evidences for one prompt (float64 inputs)."""

    def __call__(self, xs: Xs, ys: Ys) -> Preds:
        require_float64(xs)
        return self.posterior(xs, ys).mean

    def predict_defined(self, xs: Xs, ys: Ys) -> tuple[Preds, Bool[Array, " n_points"]]:
        require_float64(xs)
        posterior = self.posterior(xs, ys)
        return posterior.mean, ~jnp.isneginf(posterior.log_density)

    def class_weights(self, xs: Xs, ys: Ys) -> Float[Array, "classes n_points"]:
        """`p(class | y_<i)` over the prior's `classes` at each position (one class: 1)."""
        return jnp.ones((1, ys.shape[0]), xs.dtype)


class DenseBayes(AbstractBayesPredictor):
    """Dense linear, Gaussian prior: ridge with `lambda = sigma^2 / tau^2`; at `sigma = 0` the
    minimum-norm interpolant for `n <= d` and exact prediction after."""

    prior: DenseLinear

    def posterior(self, xs: Xs, ys: Ys) -> PrefixPosterior:
        prior_std = jnp.full((self.prior.dim,), self.prior.tau, xs.dtype)
        return gaussian_linear_posterior(xs, prior_std, self.prior.noise_std, ys)


class SparseBayes(AbstractBayesPredictor):
    """k-sparse linear: exact enumeration of the `C(d, k)` supports, each weighted by its
    evidence; exact prediction from `k + 1` noise-free points."""

    prior: SparseLinear

    def support_posterior(self, xs: Xs, ys: Ys) -> MixedPosterior:
        supports = self.prior.supports()
        prior_std = jnp.full((self.prior.k,), self.prior.tau, xs.dtype)

        def one_support(support):
            return gaussian_linear_posterior(xs[:, support], prior_std, self.prior.noise_std, ys)

        per_support = jax.vmap(one_support)(supports)
        log_prior = jnp.full((supports.shape[0],), -math.log(supports.shape[0]), xs.dtype)
        return combine(log_prior, per_support.mean, per_support.order, per_support.log_density)

    def posterior(self, xs: Xs, ys: Ys) -> PrefixPosterior:
        return self.support_posterior(xs, ys).posterior


class MixtureBayes(AbstractBayesPredictor):
    """Mixture of priors: class posterior from each class's evidence and the mixing weights;
    the prediction is the class-posterior-weighted average of the class predictions."""

    prior: Mixture
    components: tuple[AbstractBayesPredictor, ...]

    def __init__(self, prior: Mixture):
        self.prior = prior
        self.components = tuple(bayes_predictor(c) for c in prior.components)

    def class_weights(self, xs: Xs, ys: Ys) -> Float[Array, "classes n_points"]:
        return self.class_posterior(xs, ys).weights

    def class_posterior(self, xs: Xs, ys: Ys) -> MixedPosterior:
        """Posterior over classes at each position (`weights`: `(n_classes, n_points)`), given
        `y_<i`; at position 0 it equals the mixing weights."""
        posteriors = [c.posterior(xs, ys) for c in self.components]
        stacked = jax.tree.map(lambda *leaves: jnp.stack(leaves), *posteriors)
        log_prior = jnp.log(jnp.asarray(self.prior.weights, xs.dtype))
        return combine(log_prior, stacked.mean, stacked.order, stacked.log_density)

    def posterior(self, xs: Xs, ys: Ys) -> PrefixPosterior:
        return self.class_posterior(xs, ys).posterior


class PoolBayes(AbstractBayesPredictor):
    """Finite task pool: the posterior over the pool's members (Raventós et al.'s dMMSE), a
    softmax of their log-likelihoods; with no context, the pool's mean function."""

    prior: FinitePool

    def member_posterior(self, xs: Xs, ys: Ys) -> MixedPosterior:
        base = self.prior.base
        scale = jnp.sqrt(jnp.mean(jax.vmap(base.output_variance)(xs)) + 1e-300)

        def one_member(task):
            values = base.evaluate(task, xs).astype(xs.dtype)
            return point_mass_posterior(values, base.observation_std(task), ys, scale)

        per_member = jax.vmap(one_member)(self.prior.tasks)
        log_prior = jnp.full((self.prior.size,), -math.log(self.prior.size), xs.dtype)
        return combine(log_prior, per_member.mean, per_member.order, per_member.log_density)

    def posterior(self, xs: Xs, ys: Ys) -> PrefixPosterior:
        return self.member_posterior(xs, ys).posterior


def class_posteriors(
    predictor: AbstractBayesPredictor,
    xs: Float[ArrayLike, "batch n_points dim"],
    ys: Float[ArrayLike, "batch n_points"],
) -> Float[Array, "batch classes n_points"]:
    """`p(class | y_<i)` at every position of a batch of prompts (float64, jit-compiled)."""
    check_input_precision(predictor, xs, ys)
    with jax.enable_x64(True):
        return _class_posteriors(
            predictor, jnp.asarray(xs, jnp.float64), jnp.asarray(ys, jnp.float64)
        )


@eqx.filter_jit
def _class_posteriors(predictor: AbstractBayesPredictor, xs: Array, ys: Array) -> Array:
    return jax.vmap(predictor.class_weights)(xs, ys)


def prefix_posteriors(
    predictor: AbstractBayesPredictor,
    xs: Float[ArrayLike, "batch n_points dim"],
    ys: Float[ArrayLike, "batch n_points"],
) -> PrefixPosterior:
    """`predictor.posterior` over a batch of prompts (float64, jit-compiled): the predictions and
    the evidence of every prefix, whose `log_density` is `-inf` where the predictor's prior gives
    the prefix probability zero (noise-free data outside its support: no posterior there)."""
    check_input_precision(predictor, xs, ys)
    with jax.enable_x64(True):
        return _prefix_posteriors(
            predictor, jnp.asarray(xs, jnp.float64), jnp.asarray(ys, jnp.float64)
        )


@eqx.filter_jit
def _prefix_posteriors(predictor: AbstractBayesPredictor, xs: Array, ys: Array) -> PrefixPosterior:
    return jax.vmap(predictor.posterior)(xs, ys)


BayesFactory = Callable[[Any], "AbstractBayesPredictor | None"]
_FACTORIES: dict[type[AbstractPrior], BayesFactory] = {}


class NoBayesPredictor(ValueError):
    """The prior has no registered exact Bayes predictor."""


def register_bayes_predictor(prior_type: type[AbstractPrior], factory: BayesFactory) -> None:
    """Make `factory(prior)` the exact Bayes predictor of every `prior_type` instance (and of
    its subclasses'). The factory returns `None` for an instance it does not cover (e.g. a
    convex combination of a pair without a closed form)."""
    _FACTORIES[prior_type] = factory


def find_bayes_predictor(prior: AbstractPrior) -> AbstractBayesPredictor | None:
    """The exact Bayes predictor of `prior`, or `None` when none is registered for it."""
    for cls in type(prior).__mro__:
        if cls in _FACTORIES:
            return _FACTORIES[cls](prior)
    return None


def has_bayes_predictor(prior: AbstractPrior) -> bool:
    """Whether `prior` has an exact Bayes predictor (`bayes_predictor` would give one)."""
    return find_bayes_predictor(prior) is not None


def bayes_predictor(prior: AbstractPrior) -> AbstractBayesPredictor:
    """The exact Bayes predictor of `prior`; `NoBayesPredictor` when none is registered."""
    predictor = find_bayes_predictor(prior)
    if predictor is None:
        raise NoBayesPredictor(
            f"no exact Bayes predictor is registered for {prior.label}; register one with "
            "icl_theory.predictors.register_bayes_predictor, or use the NUTS predictor "
            "(icl_theory.predictors.NutsPredictor)"
        )
    return predictor


def _mixture_bayes(prior: Mixture) -> MixtureBayes | None:
    if not all(has_bayes_predictor(c) for c in prior.components):
        return None
    return MixtureBayes(prior)


register_bayes_predictor(DenseLinear, DenseBayes)
register_bayes_predictor(SparseLinear, SparseBayes)
register_bayes_predictor(Mixture, _mixture_bayes)
register_bayes_predictor(FinitePool, PoolBayes)

__all__ = [
    "AbstractBayesPredictor",
    "DenseBayes",
    "MixtureBayes",
    "NoBayesPredictor",
    "PoolBayes",
    "SparseBayes",
    "bayes_predictor",
    "class_posteriors",
    "find_bayes_predictor",
    "has_bayes_predictor",
    "prefix_posteriors",
    "register_bayes_predictor",
]
