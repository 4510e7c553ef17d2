"""Bayesian linear regression on features that depend on one unknown frequency.

Model: `omega ~ Uniform[low, high]`, `beta ~ N(0, diag(prior_std^2))`,
`y_j = phi(x_j; omega) . beta + N(0, noise_std^2)`. A sinusoid given its axis (`phi = (sin, cos)`)
and a linear + sinusoid combination given the sinusoid's axis are this model. Given `omega` it is
`gaussian_linear_posterior`; what remains is the one-dimensional integral over `omega`.

With noise, the integral is adaptive Gauss-Legendre quadrature (`adaptive.py`), refined until
its error estimate is at float64 level: the posterior over `omega` narrows as data arrive, and
piles up against the band's edge when the data prefer a frequency outside it.

Without noise, a grid is the wrong tool: once the prompt has `p + 1` points (`p` features) the
posterior over `omega` is a finite set of point masses, at the roots of
`r(omega) = det[Phi_{<p+1}(omega), y_{<p+1}]` (the frequencies whose feature span contains the
data), which a grid never hits. So positions `<= p` use the quadrature (the density of `y_<i`
there is an ordinary integral over `omega`), and positions `> p` use the roots: found by sign
changes of `r` on a grid of `nodes` intervals and polished by bisection, each weighted by the
exact density of `y_{<p+1}` under the change of variables `(beta, omega) -> y`
(`p(omega) N(beta; 0, prior) / |det J|`), after which every further point is determined and only
raises the evidence's `order` (or contradicts the root). Roots closer together than the grid
spacing can be missed; `nodes` bounds that.
"""

from collections.abc import Callable

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from icl_theory.predictors.adaptive import adaptive_posterior
from icl_theory.predictors.evidence import PrefixPosterior, combine
from icl_theory.predictors.gaussian import (
    exclusive_cumsum,
    fit_tolerance,
    gaussian_linear_posterior,
)

Features = Callable[[Float[Array, ""]], Float[Array, "n_points n_features"]]

# At most this many roots of r(omega) per prompt are kept (the third point of a sinusoid prompt
# typically leaves one to four; extra ones are the first in frequency order).
MAX_ROOTS = 16
BISECTION_STEPS = 60


def frequency_marginal_posterior(
    features_at: Features,
    prior_std: Float[Array, " n_features"],
    noise_std: float,
    ys: Float[Array, " n_points"],
    low: float,
    high: float,
    nodes: int,
) -> PrefixPosterior:
    """Posterior predictive means and prefix evidences with `omega` integrated out.

    Args:
        features_at: `omega -> Phi(omega)`, the `(n_points, n_features)` feature matrix.
        prior_std: prior standard deviation of each coefficient (all positive).
        noise_std: observation noise, a Python float; 0 selects the exact noise-free path.
        ys: observations.
        low: the uniform frequency prior; `low == high` is a known frequency.
        high: the uniform frequency prior; `low == high` is a known frequency.
        nodes: intervals of the noise-free root search's grid.
    """
    if high == low:
        return gaussian_linear_posterior(
            features_at(jnp.asarray(low, ys.dtype)), prior_std, noise_std, ys
        )
    n_features = prior_std.shape[0]
    # Without noise, the positions after the first p + 1 points are decided by the roots of
    # r(omega), not by the integral: only the first ones drive the refinement.
    positions = jnp.arange(ys.shape[0])
    checked = positions >= 0 if noise_std > 0 else positions <= n_features
    # The mean's error is measured against the smallest coefficient scale: conservative for
    # every output scale the features can give.
    quadrature, _ = adaptive_posterior(
        lambda omega: gaussian_linear_posterior(features_at(omega), prior_std, noise_std, ys),
        low,
        high,
        jnp.min(prior_std).astype(ys.dtype),
        checked,
    )
    if noise_std > 0:
        return quadrature
    if ys.shape[0] <= n_features + 1:
        return quadrature
    roots = _root_posterior(features_at, prior_std, ys, low, high, nodes)
    after = jnp.arange(ys.shape[0]) > n_features
    # Noise-free data no root fits (outside the class): keep the quadrature's prediction; the
    # evidence is -inf either way, so a parent mixture gives this class no weight.
    use_roots = after & jnp.isfinite(roots.log_density)
    return PrefixPosterior(
        mean=jnp.where(use_roots, roots.mean, quadrature.mean),
        order=jnp.where(after, roots.order, quadrature.order),
        log_density=jnp.where(after, roots.log_density, quadrature.log_density),
    )


def _root_posterior(
    features_at: Features,
    prior_std: Float[Array, " n_features"],
    ys: Float[Array, " n_points"],
    low: float,
    high: float,
    nodes: int,
) -> PrefixPosterior:
    """The noise-free posterior at positions `> p`: a mixture over the roots of `r(omega)`."""
    n_features = prior_std.shape[0]
    head = n_features + 1

    def residual(omega):
        return jnp.linalg.det(jnp.concatenate([features_at(omega)[:head], ys[:head, None]], 1))

    edges = jnp.linspace(low, high, nodes + 1, dtype=ys.dtype)
    values = jax.vmap(residual)(edges)
    crossing = jnp.sign(values[:-1]) * jnp.sign(values[1:]) < 0
    (index,) = jnp.nonzero(crossing, size=MAX_ROOTS, fill_value=0)
    valid = jnp.arange(MAX_ROOTS) < jnp.sum(crossing)

    def bisect(left, right):
        left_value = residual(left)

        def halve(_, bracket):
            lo, hi, lo_value = bracket
            mid = 0.5 * (lo + hi)
            mid_value = residual(mid)
            same_side = jnp.sign(mid_value) == jnp.sign(lo_value)
            return (
                jnp.where(same_side, mid, lo),
                jnp.where(same_side, hi, mid),
                jnp.where(same_side, mid_value, lo_value),
            )

        lo, hi, _ = jax.lax.fori_loop(0, BISECTION_STEPS, halve, (left, right, left_value))
        return 0.5 * (lo + hi)

    omegas = jax.vmap(bisect)(edges[index], edges[index + 1])
    per_root = jax.vmap(lambda omega: _one_root(features_at, prior_std, ys, omega, high - low))(
        omegas
    )
    log_density = jnp.where(valid[:, None], per_root.log_density, -jnp.inf)
    log_prior = jnp.zeros((MAX_ROOTS,), ys.dtype)
    return combine(log_prior, per_root.mean, per_root.order, log_density).posterior


def _one_root(
    features_at: Features,
    prior_std: Float[Array, " n_features"],
    ys: Float[Array, " n_points"],
    omega: Float[Array, ""],
    width: float,
) -> PrefixPosterior:
    """One root `omega*`: `beta*` solves the first `p + 1` points exactly; the density of those
    points is `p(omega*) N(beta*; 0, prior) / |det d y / d(beta, omega)|`; later points are
    determined (each fit raises `order` by one and multiplies the density by its noise -> 0
    constant, a misfit gives `-inf`)."""
    n_features = prior_std.shape[0]
    head = n_features + 1
    phi = features_at(omega)
    beta, *_ = jnp.linalg.lstsq(phi[:head], ys[:head])
    d_phi = jax.jacfwd(features_at)(omega)
    jacobian = jnp.concatenate([phi[:head], (d_phi[:head] @ beta)[:, None]], axis=1)
    _, log_abs_det = jnp.linalg.slogdet(jacobian)
    log_beta_prior = jnp.sum(
        -0.5 * jnp.log(2 * jnp.pi * prior_std**2) - 0.5 * (beta / prior_std) ** 2
    )
    head_log_density = -jnp.log(width) + log_beta_prior - log_abs_det
    mean = phi @ beta
    # Exact fit to the precision of the data, as in `gaussian_linear_posterior`: the root and
    # `beta` are exact for head data moved by round-off, and the gradient of a later prediction
    # with respect to `(beta, omega)`, mapped through the head's Jacobian, says how far that
    # moves the prediction.
    gradients = jnp.concatenate([phi, (d_phi @ beta)[:, None]], axis=1)
    inverse = jnp.linalg.inv(jacobian)
    sensitivity = jnp.linalg.norm(gradients @ inverse, axis=1)  # |J^-T g_j| per point
    prediction_scale = jnp.linalg.norm(phi, axis=1) * jnp.linalg.norm(beta)
    data_scale = jnp.linalg.norm(jnp.abs(ys[:head]) + prediction_scale[:head])
    tolerance = fit_tolerance(ys.dtype, ys, prediction_scale, sensitivity, data_scale)
    fits = jnp.abs(ys - mean) <= tolerance
    checked = jnp.arange(ys.shape[0]) >= head
    step_fit = jnp.where(checked, fits, True)
    # Evidence of y_<i for i > p: the head's density, then per later fitted point one order and
    # the factor (2 pi w)^(-1/2) of its density N(0; 0, noise^2 w) as noise -> 0, where
    # w = 1 + g^T K g and K, the scaled covariance of (beta, omega), starts at (J^T J)^(-1) and
    # absorbs each fitted point (the same limit as `gaussian_linear_posterior`).

    def absorb(k, point):
        gradient, used = point
        kg = k @ gradient
        w = 1.0 + jnp.maximum(gradient @ kg, 0.0)
        k = jnp.where(used, k - jnp.outer(kg, kg) / w, k)
        return k, jnp.where(used, -0.5 * jnp.log(2 * jnp.pi * w), 0.0)

    _, constants = jax.lax.scan(absorb, inverse @ inverse.T, (gradients, checked & fits))
    order = exclusive_cumsum((checked & fits).astype(jnp.int32))
    all_fit_before = exclusive_cumsum((~step_fit).astype(jnp.int32)) == 0
    log_density = jnp.where(
        all_fit_before, head_log_density + exclusive_cumsum(constants), -jnp.inf
    )
    return PrefixPosterior(mean, order, log_density)
