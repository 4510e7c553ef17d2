"""Exact Bayesian linear regression on fixed features, for every prefix in one pass.

Model: `y_j = phi_j . beta + eps_j`, `beta ~ N(0, diag(prior_std^2))`, `eps_j ~ N(0, noise_std^2)`.
Dense linear (`phi = x`), a k-sparse support (`phi = x_S`), a sinusoid given its axis and
frequency (`phi = (sin, cos)`) and a linear + sinusoid combination (`phi` stacked) are all this
model.

The filter walks the prompt once (`lax.scan`), keeping the posterior `N(mu, Sigma)` of `beta`
given `y_<j`. At step `j` it emits the posterior predictive mean `phi_j . mu` (the Bayes
prediction at position `j`) and the evidence of `y_<j`, which accumulates as the sum of the
one-step predictive log densities `log N(y_j; phi_j . mu, v_j)`,
`v_j = phi_j^T Sigma phi_j + noise_std^2` (the chain rule of the marginal likelihood). This is the
same posterior as the primal ridge form `(X^T X + lambda I)^{-1} X^T y` and the dual form
`X^T (X X^T + lambda I)^{-1} y` (tested against both), at `O(n p^2)` for all `n` prefixes.

Noise-free limit: when `v_j` vanishes (relative to the prior predictive variance at `phi_j`),
the prefix already determines `y_j`. The observation then carries no information and is not
absorbed; if it matches the prediction (within `RESIDUAL_TOLERANCE` prior standard deviations,
wide enough for data rounded to float32) it raises the evidence's `order` by one, else the
hypothesis is contradicted (`log_density = -inf`); see `evidence.py`. For the dense class this
gives the minimum-norm interpolant for `n <= d` and exact prediction after; for a k-sparse support
exact prediction from `k + 1` points.
"""

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from icl_theory.predictors.evidence import PrefixPosterior

# A predictive variance below this fraction of the prior predictive variance counts as zero.
DEGENERATE_VARIANCE = 1e-10
# A residual within this many prior predictive standard deviations counts as an exact fit:
# far above float32 rounding of the data (about 1e-7), far below a genuine misfit.
RESIDUAL_TOLERANCE = 1e-4


def gaussian_linear_posterior(
    features: Float[Array, "n_points n_features"],
    prior_std: Float[Array, " n_features"],
    noise_std: Float[Array, ""] | float,
    ys: Float[Array, " n_points"],
) -> PrefixPosterior:
    """Posterior predictive means and prefix evidences of Bayesian linear regression.

    **Arguments:**
    - `features`: `phi_j` for each point (row `j` is only used from position `j` on).
    - `prior_std`: prior standard deviation of each coefficient.
    - `noise_std`: observation noise (0 allowed: the noise-free limit).
    - `ys`: observations (`ys[j]` is only used after position `j`).

    **Returns:** a `PrefixPosterior`; computed in the dtype of `features` (float64 for Bayes).
    """
    dtype = features.dtype
    n_features = features.shape[1]
    noise_var = jnp.asarray(noise_std, dtype) ** 2
    prior_var = prior_std.astype(dtype) ** 2

    def step(carry, row):
        mu, sigma, order, log_density = carry
        phi, y = row
        mean = phi @ mu
        sigma_phi = sigma @ phi
        variance = jnp.maximum(phi @ sigma_phi, 0.0) + noise_var
        prior_predictive = phi**2 @ prior_var + noise_var
        degenerate = variance <= DEGENERATE_VARIANCE * prior_predictive
        residual = y - mean
        fits = jnp.abs(residual) <= RESIDUAL_TOLERANCE * jnp.sqrt(prior_predictive)
        # Informative observation: the Kalman (recursive least squares) update.
        safe_variance = jnp.where(degenerate, 1.0, variance)
        gain = sigma_phi / safe_variance
        new_sigma = sigma - jnp.outer(gain, sigma_phi)
        new_sigma = 0.5 * (new_sigma + new_sigma.T)
        step_log_density = -0.5 * (
            jnp.log(2 * jnp.pi * safe_variance) + residual**2 / safe_variance
        )
        informative = (
            mu + gain * residual,
            new_sigma,
            order,
            log_density + step_log_density,
        )
        # Determined observation: nothing to learn; it either fits exactly or contradicts.
        determined = (mu, sigma, order + fits, jnp.where(fits, log_density, -jnp.inf))
        new_carry = jax.tree.map(lambda a, b: jnp.where(degenerate, b, a), informative, determined)
        return new_carry, (mean, order, log_density)

    init = (
        jnp.zeros((n_features,), dtype),
        jnp.diag(prior_var),
        jnp.zeros((), jnp.int32),
        jnp.zeros((), dtype),
    )
    _, (mean, order, log_density) = jax.lax.scan(step, init, (features, ys.astype(dtype)))
    return PrefixPosterior(mean, order, log_density)


def point_mass_posterior(
    values: Float[Array, " n_points"],
    noise_std: Float[Array, ""] | float,
    ys: Float[Array, " n_points"],
    scale: Float[Array, ""] | float,
) -> PrefixPosterior:
    """A hypothesis that knows `f` exactly (a finite pool's member): predictions `values`, and
    the evidence of `y_<i` under `N(values, noise_std^2)`, with the same noise-free rule as
    `gaussian_linear_posterior` (`scale` is the prior standard deviation used for tolerance)."""
    dtype = values.dtype
    residual = ys.astype(dtype) - values
    noise_var = jnp.asarray(noise_std, dtype) ** 2
    safe_var = jnp.where(noise_var > 0, noise_var, 1.0)
    if_noisy = -0.5 * (jnp.log(2 * jnp.pi * safe_var) + residual**2 / safe_var)
    fits = jnp.abs(residual) <= RESIDUAL_TOLERANCE * jnp.asarray(scale, dtype)
    if_exact = jnp.where(fits, 0.0, -jnp.inf)
    noisy = noise_var > 0
    step_log_density = jnp.where(noisy, if_noisy, if_exact)
    step_order = jnp.where(noisy, 0, fits.astype(jnp.int32))
    return PrefixPosterior(values, exclusive_cumsum(step_order), exclusive_cumsum(step_log_density))


def exclusive_cumsum(steps: Array) -> Array:
    """`out[i] = sum(steps[:i])` (evidence of the prefix before position i); -inf safe."""
    return jnp.concatenate([jnp.zeros((1,), steps.dtype), jnp.cumsum(steps)[:-1]])
