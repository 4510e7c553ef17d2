"""Bayes predictors for the classes with a frequency: sinusoids, and the linear + sinusoid
convex combination (the out-of-distribution test of Yadlowsky et al.).

Both are a sum over the sinusoid's axis `j` (uniform prior) of `frequency_marginal_posterior`:
given `j` and `omega` the function is linear in Gaussian coefficients, which integrate out
exactly; `omega` is integrated by adaptive quadrature with noise and by root finding without
(`frequency.py`).
"""

import math

import equinox as eqx
import jax
import jax.numpy as jnp

from icl_theory._types import Xs, Ys
from icl_theory._validation import check_positive_int, invalid
from icl_theory.predictors.bayes import (
    AbstractBayesPredictor,
    DenseBayes,
    register_bayes_predictor,
)
from icl_theory.predictors.evidence import MixedPosterior, PrefixPosterior, combine
from icl_theory.predictors.frequency import frequency_marginal_posterior
from icl_theory.priors import ConvexCombination, DenseLinear, Sinusoid
from icl_theory.priors.sinusoid import sinusoid_features

# Intervals of the grid on which the noise-free roots of r(omega) are searched for (sign changes,
# then bisection); the integral over omega itself is adaptive (`adaptive.py`).
DEFAULT_NODES = 1024


class SinusoidBayes(AbstractBayesPredictor):
    """Sinusoid class: exact sum over the axis, exact Gaussian integral over the coefficients,
    adaptive quadrature (noisy) or root finding (noise-free) over the frequency; `nodes` is the
    root search's grid."""

    prior: Sinusoid
    nodes: int = eqx.field(static=True, default=DEFAULT_NODES)

    def __check_init__(self) -> None:
        check_positive_int("SinusoidBayes", "nodes", self.nodes)

    def axis_posterior(self, xs: Xs, ys: Ys) -> MixedPosterior:
        """Posterior over the sinusoid's axis at each position (`weights`: `(dim, n_points)`)."""
        prior = self.prior
        prior_std = jnp.full((2,), prior.amplitude_std, xs.dtype)

        def one_axis(coordinate):
            return frequency_marginal_posterior(
                lambda omega: sinusoid_features(coordinate, omega),
                prior_std,
                prior.noise_std,
                ys,
                prior.freq_low,
                prior.freq_high,
                self.nodes,
            )

        return _sum_over_axes(jax.vmap(one_axis, in_axes=1)(xs))

    def posterior(self, xs: Xs, ys: Ys) -> PrefixPosterior:
        return self.axis_posterior(xs, ys).posterior


class ConvexBayes(AbstractBayesPredictor):
    """The oracle for `alpha * dense linear + (1 - alpha) * sinusoid` (either order): given the
    sinusoid's axis and frequency, the combination is Bayesian linear regression on the features
    `[alpha x, (1 - alpha) sin(omega x_j), (1 - alpha) cos(omega x_j)]` with the two classes'
    prior scales, so the same axis sum and frequency integral are exact for it."""

    prior: ConvexCombination
    nodes: int = eqx.field(static=True, default=DEFAULT_NODES)

    def __check_init__(self) -> None:
        check_positive_int("ConvexBayes", "nodes", self.nodes)
        if _linear_and_sinusoid(self.prior) is None:
            raise invalid(
                "ConvexBayes",
                "prior",
                self.prior.label,
                "the exact Bayes predictor covers DenseLinear with Sinusoid (either order); use "
                "the NUTS predictor for other pairs",
            )
        if self.prior.alpha in (0.0, 1.0):
            raise invalid(
                "ConvexBayes",
                "prior.alpha",
                self.prior.alpha,
                "must lie strictly inside (0, 1); bayes_predictor(prior) handles the end points",
            )

    def posterior(self, xs: Xs, ys: Ys) -> PrefixPosterior:
        parts = _linear_and_sinusoid(self.prior)
        assert parts is not None  # checked at construction
        linear, sinusoid, alpha = parts
        prior_std = jnp.concatenate(
            [
                jnp.full((linear.dim,), linear.tau, xs.dtype),
                jnp.full((2,), sinusoid.amplitude_std, xs.dtype),
            ]
        )

        def one_axis(coordinate):
            def features_at(omega):
                periodic = sinusoid_features(coordinate, omega)
                return jnp.concatenate([alpha * xs, (1.0 - alpha) * periodic], axis=1)

            return frequency_marginal_posterior(
                features_at,
                prior_std,
                self.prior.noise_std,
                ys,
                sinusoid.freq_low,
                sinusoid.freq_high,
                self.nodes,
            )

        return _sum_over_axes(jax.vmap(one_axis, in_axes=1)(xs)).posterior


def _sum_over_axes(per_axis: PrefixPosterior) -> MixedPosterior:
    n_axes = per_axis.mean.shape[0]
    log_prior = jnp.full((n_axes,), -math.log(n_axes), per_axis.mean.dtype)
    return combine(log_prior, per_axis.mean, per_axis.order, per_axis.log_density)


def _linear_and_sinusoid(prior: ConvexCombination) -> tuple[DenseLinear, Sinusoid, float] | None:
    """The dense and sinusoid parts of a combination and the dense part's weight (`None` for any
    other pair)."""
    first, second = prior.first, prior.second
    if isinstance(first, DenseLinear) and isinstance(second, Sinusoid):
        return first, second, prior.alpha
    if isinstance(first, Sinusoid) and isinstance(second, DenseLinear):
        return second, first, 1.0 - prior.alpha
    return None


def _convex_bayes(prior: ConvexCombination) -> AbstractBayesPredictor | None:
    parts = _linear_and_sinusoid(prior)
    if parts is None:  # only DenseLinear with Sinusoid has a closed form here
        return None
    linear, sinusoid, alpha = parts
    # At the end points the combination is one class; its own predictor is exact and cheaper
    # (and the combined features would carry a zero prior scale).
    if alpha == 1.0:
        return DenseBayes(eqx.tree_at(lambda p: p.noise_std, linear, prior.noise_std))
    if alpha == 0.0:
        return SinusoidBayes(eqx.tree_at(lambda p: p.noise_std, sinusoid, prior.noise_std))
    return ConvexBayes(prior)


register_bayes_predictor(Sinusoid, SinusoidBayes)
register_bayes_predictor(ConvexCombination, _convex_bayes)
