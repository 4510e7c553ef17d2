"""Posteriors over discrete hypotheses, for every prefix at once, with noise-free limits.

Each hypothesis `h` (a sparse support, a mixture class, a pool member, a sinusoid axis and
frequency node) reports, for every position `i`, its prediction `E_h[f(x_i) | y_<i]` and the
marginal likelihood of the prefix `y_<i` as a pair `(order, log_density)`.

Why a pair: without noise, the classes' densities live on sets of different dimension (a k-sparse
function makes `y_<i` lie on a k-dimensional set once `i > k`, a dense one only once `i > d`). With
noise `eps -> 0`, each observation that a hypothesis already determines exactly contributes a
factor of order `1/eps` to its likelihood, so the likelihood behaves as
`eps^(-order) * exp(log_density)`. The correct limit therefore compares hypotheses first by
`order` (the number of observations they predicted exactly) and only then by `log_density`; a
hypothesis that an observation contradicts has `log_density = -inf`. With noise, `order` stays 0
and this is the ordinary posterior. A jitter would instead turn the comparison into whatever the
jitter makes of `log(eps)` against the densities.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int


class PrefixPosterior(eqx.Module):
    """For one prompt: at each position `i`, the posterior mean of `f(x_i)` given `y_<i`, and the
    evidence of `y_<i` as `(order, log_density)` (see the module docstring)."""

    mean: Float[Array, " n_points"]
    order: Int[Array, " n_points"]
    log_density: Float[Array, " n_points"]


class MixedPosterior(eqx.Module):
    """The result of combining hypotheses: the posterior of the union, and the posterior weight
    of each hypothesis at each position."""

    posterior: PrefixPosterior
    weights: Float[Array, "hypotheses n_points"]


def combine(
    log_prior: Float[Array, " hypotheses"],
    mean: Float[Array, "hypotheses n_points"],
    order: Int[Array, "hypotheses n_points"],
    log_density: Float[Array, "hypotheses n_points"],
) -> MixedPosterior:
    """Posterior over hypotheses at every position, and the resulting mixture posterior.

    Among the hypotheses that fit the prefix (finite `log_density`), only those of the highest
    `order` keep weight (the `eps -> 0` limit); within them, weights are
    `prior * exp(log_density)`, normalised. If no hypothesis fits (noise-free data outside the
    prior's support, e.g. out of distribution), the weights fall back to the prior and the
    union's `log_density` is `-inf`, so that a parent mixture gives this branch no weight.
    """
    fits = jnp.isfinite(log_density)
    top_order = jnp.max(jnp.where(fits, order, -1), axis=0)
    eligible = fits & (order == top_order[None, :])
    scores = jnp.where(eligible, log_prior[:, None] + log_density, -jnp.inf)
    any_fit = jnp.any(eligible, axis=0)
    total = jax.nn.logsumexp(jnp.where(any_fit[None, :], scores, 0.0), axis=0)
    weights = jnp.where(
        any_fit[None, :],
        jnp.exp(scores - total[None, :]),
        jax.nn.softmax(log_prior)[:, None] * jnp.ones_like(scores),
    )
    posterior = PrefixPosterior(
        mean=jnp.sum(weights * mean, axis=0),
        order=jnp.where(any_fit, top_order, 0),
        log_density=jnp.where(any_fit, total, -jnp.inf),
    )
    return MixedPosterior(posterior, weights)
