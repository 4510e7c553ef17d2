"""Exact Bayesian linear regression on fixed features, for every prefix in one pass.

Model: `y_j = phi_j . beta + eps_j`, `beta ~ N(0, diag(prior_std^2))`, `eps_j ~ N(0, noise_std^2)`.
Dense linear (`phi = x`), a k-sparse support (`phi = x_S`), a sinusoid given its axis and
frequency (`phi = (sin, cos)`) and a linear + sinusoid combination (`phi` stacked) are all this
model.

The filter walks the prompt once (`lax.scan`). At step `j` it emits the posterior predictive mean
of `y_j` given `y_<j` (the Bayes prediction at position `j`) and the evidence of `y_<j`, which
accumulates as the sum of the one-step predictive log densities (the chain rule of the marginal
likelihood). This is the same posterior as the primal and dual ridge forms (tested against both).

Why not the textbook Kalman filter: its covariance `Sigma` tends to zero along observed
directions as the noise does, and in floating point it cannot tell a covariance of `noise^2` from
round-off once `noise` is below about `1e-8`. So the filter works in the prior-whitened features
`a_j = phi_j * prior_std` and splits the coefficient space into

- the *observed* subspace spanned by the rows seen so far, kept as an orthonormal basis `Q`
  (Gram-Schmidt, applied twice, which makes it orthogonal to working precision), where the
  posterior is `N(u, noise^2 K)` with `K = (noise^2 I + B^T B)^{-1}` (`B`: the rows in the basis);
- its complement, where the posterior is still the prior.

A new row `a = Q c + a_perp` is *informative* when `|a_perp| > 0` (it extends the basis) and
*determined* otherwise. Every update is a closed-form function of `noise^2` that stays finite
as `noise -> 0`, so the same code is the exact noisy filter at any noise and converges to the
noise-free limit, which it also computes directly at `noise = 0`.

Noise-free limit (`noise = 0`, see `evidence.py`): an informative row is absorbed as the
minimum-norm interpolant; a determined row carries a density `N(r; 0, noise^2 (1 + c^T K c))`,
which as `noise -> 0` is a factor `1 / noise` (raising the evidence's `order` by one) times
`(2 pi (1 + c^T K c))^{-1/2}` if its residual `r` is zero, and zero otherwise. "Zero" is decided
to the precision of float64 data: `r` must lie within a bound on the round-off of computing it
(`fit_tolerance`), which scales with the magnitudes involved and with the conditioning of the
rows already seen. Anything larger is a genuine misfit. `docs/bayes.md` states the guarantees.
"""

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from icl_theory.predictors.evidence import PrefixPosterior

# A row whose component outside the observed subspace is below this many units of round-off
# (times the number of features) relative to its norm is in the subspace: Gram-Schmidt applied
# twice leaves a residue of a few units of round-off, and a genuine new direction of random
# data is this close to the subspace with probability about 1e-13.
RANK_ROUNDOFF = 64.0
# A determined residual within this many units of the round-off bound of `fit_tolerance` is an
# exact fit. The bound is first-order and the rows are few, so a factor of 64 covers its
# constants; the measured ratio on true hypotheses stays below 1 (tests/test_exact_limits.py).
FIT_ROUNDOFF = 64.0


def fit_tolerance(
    dtype: jnp.dtype,
    y: Float[Array, "*points"],
    prediction_scale: Float[Array, "*points"],
    sensitivity: Float[Array, "*points"],
    data_scale: Float[Array, ""],
) -> Float[Array, "*points"]:
    """The largest residual that round-off alone can produce when a noise-free prediction is
    compared with the observation `y`.

    The prediction is the exact interpolant of data perturbed by round-off of relative size
    `eps` (backward stability of the orthogonal updates): each earlier row `i` moves by at most
    `eps (|y_i| + |a_i| |beta|)`, whose root sum of squares is `eps * data_scale`, and the
    interpolant's value at the new row moves by at most `sensitivity * data_scale`, where
    `sensitivity = |a^T B^+|` is the norm of the map from earlier observations to this
    prediction (`sqrt(c^T K c)`; it grows with the rows' condition number). The new residual
    itself is computed to within `eps (|y| + prediction_scale)`.
    """
    eps = jnp.finfo(dtype).eps
    return FIT_ROUNDOFF * eps * (jnp.abs(y) + prediction_scale + sensitivity * data_scale)


def gaussian_linear_posterior(
    features: Float[Array, "n_points n_features"],
    prior_std: Float[Array, " n_features"],
    noise_std: Float[Array, ""] | float,
    ys: Float[Array, " n_points"],
) -> PrefixPosterior:
    """Posterior predictive means and prefix evidences of Bayesian linear regression.

    Args:
        features: `phi_j` for each point (row `j` is only used from position `j` on).
        prior_std: prior standard deviation of each coefficient.
        noise_std: observation noise (0 allowed: the noise-free limit).
        ys: observations (`ys[j]` is only used after position `j`).

    Returns:
        a `PrefixPosterior`; computed in the dtype of `features` (float64 for Bayes).
    """
    dtype = features.dtype
    n_features = features.shape[1]
    eps = jnp.finfo(dtype).eps
    noise_var = jnp.asarray(noise_std, dtype) ** 2
    noisy = noise_var > 0
    rows = features * prior_std.astype(dtype)[None, :]
    slots = jnp.arange(n_features)

    def step(carry, row):
        basis, rank, u, k, data_scale_sq, order, log_density = carry
        a, y = row
        norm_a = jnp.linalg.norm(a)
        # Coordinates in the observed basis and the part outside it; the second pass removes
        # what round-off left of the first.
        c = basis.T @ a
        a_perp = a - basis @ c
        c_more = basis.T @ a_perp
        c = c + c_more
        a_perp = a_perp - basis @ c_more
        rho = jnp.linalg.norm(a_perp)
        informative = (rho > RANK_ROUNDOFF * n_features * eps * norm_a) & (rank < n_features)

        mean = c @ u
        residual = y - mean
        kc = k @ c
        c_k_c = jnp.maximum(c @ kc, 0.0)
        w = 1.0 + c_k_c

        # Informative: extend the basis by a_perp / rho (slot `rank`) and update exactly.
        new_slot = (slots == rank).astype(dtype)
        variance_new = rho**2 + noise_var * w
        safe_variance_new = jnp.where(informative, variance_new, 1.0)
        safe_rho = jnp.where(informative, rho, 1.0)
        cross = -rho * kc / safe_variance_new
        k_new = (
            k
            - noise_var * jnp.outer(kc, kc) / safe_variance_new
            + jnp.outer(new_slot, cross)
            + jnp.outer(cross, new_slot)
            + jnp.outer(new_slot, new_slot) * (w / safe_variance_new)
        )
        u_new = u + noise_var * kc * residual / safe_variance_new
        u_new = u_new + new_slot * (rho * residual / safe_variance_new)
        basis_new = basis + jnp.outer(a_perp / safe_rho, new_slot)
        log_density_new = log_density + _normal_log_density(residual, safe_variance_new)

        # Determined: the row lies in the observed subspace (Sherman-Morrison in K's scale).
        k_det = k - jnp.outer(kc, kc) / w
        u_det = u + kc * residual / w
        safe_noise_var = jnp.where(noisy, noise_var, 1.0)
        noisy_log_density = log_density + _normal_log_density(residual, safe_noise_var * w)
        tolerance = fit_tolerance(
            dtype, y, norm_a * jnp.linalg.norm(u), jnp.sqrt(c_k_c), jnp.sqrt(data_scale_sq)
        )
        fits = jnp.abs(residual) <= tolerance
        exact_log_density = jnp.where(fits, log_density - 0.5 * jnp.log(2 * jnp.pi * w), -jnp.inf)
        log_density_det = jnp.where(noisy, noisy_log_density, exact_log_density)
        order_det = order + jnp.where(noisy, 0, fits.astype(jnp.int32))

        def pick(if_new, if_determined):
            return jnp.where(informative, if_new, if_determined)

        u_next = pick(u_new, u_det)
        row_scale = jnp.abs(y) + norm_a * jnp.linalg.norm(u_next)
        new_carry = (
            pick(basis_new, basis),
            rank + informative.astype(jnp.int32),
            u_next,
            pick(k_new, k_det),
            data_scale_sq + row_scale**2,
            pick(order, order_det),
            pick(log_density_new, log_density_det),
        )
        return new_carry, (mean, order, log_density)

    init = (
        jnp.zeros((n_features, n_features), dtype),
        jnp.zeros((), jnp.int32),
        jnp.zeros((n_features,), dtype),
        jnp.zeros((n_features, n_features), dtype),
        jnp.zeros((), dtype),
        jnp.zeros((), jnp.int32),
        jnp.zeros((), dtype),
    )
    _, (mean, order, log_density) = jax.lax.scan(step, init, (rows, ys.astype(dtype)))
    return PrefixPosterior(mean, order, log_density)


def _normal_log_density(residual: Array, variance: Array) -> Array:
    return -0.5 * (jnp.log(2 * jnp.pi * variance) + residual**2 / variance)


def point_mass_posterior(
    values: Float[Array, " n_points"],
    noise_std: Float[Array, ""] | float,
    ys: Float[Array, " n_points"],
    scale: Float[Array, ""] | float,
) -> PrefixPosterior:
    """A hypothesis that knows `f` exactly (a finite pool's member): predictions `values`, and
    the evidence of `y_<i` under `N(values, noise_std^2)`. Noise-free, an observation fits when
    it equals the value to within the round-off of evaluating `f` twice (`fit_tolerance` with
    no earlier rows; `scale`, the prior's output standard deviation, stands for the size of the
    terms `f` sums)."""
    dtype = values.dtype
    residual = ys.astype(dtype) - values
    noise_var = jnp.asarray(noise_std, dtype) ** 2
    safe_var = jnp.where(noise_var > 0, noise_var, 1.0)
    if_noisy = -0.5 * (jnp.log(2 * jnp.pi * safe_var) + residual**2 / safe_var)
    magnitude = jnp.abs(values) + jnp.asarray(scale, dtype)
    no_earlier_rows = jnp.zeros_like(values)
    tolerance = fit_tolerance(
        dtype, ys.astype(dtype), magnitude, no_earlier_rows, jnp.zeros((), dtype)
    )
    fits = jnp.abs(residual) <= tolerance
    # The noise -> 0 limit of N(0; 0, noise^2): order one, and the constant the Gaussian filter
    # also keeps, so that a pool and a Gaussian class of equal order compare exactly.
    if_exact = jnp.where(fits, -0.5 * jnp.log(2 * jnp.pi), -jnp.inf)
    noisy = noise_var > 0
    step_log_density = jnp.where(noisy, if_noisy, if_exact)
    step_order = jnp.where(noisy, 0, fits.astype(jnp.int32))
    return PrefixPosterior(values, exclusive_cumsum(step_order), exclusive_cumsum(step_log_density))


def exclusive_cumsum(steps: Array) -> Array:
    """`out[i] = sum(steps[:i])` (evidence of the prefix before position i); -inf safe."""
    return jnp.concatenate([jnp.zeros((1,), steps.dtype), jnp.cumsum(steps)[:-1]])
