"""A Gaussian-process regressor with an RBF kernel, its hyperparameters fit on each prompt: the
smooth nonparametric learner against which "the model composes function classes" must be told
apart from "the model is merely smoother than an overconfident Bayes predictor".

For every prefix `y_<i`, each `(lengthscale, noise)` pair of a grid is scored by its marginal
likelihood with the signal variance profiled out (its maximiser `s^2 = y^T K^-1 y / i` in closed
form), and the best pair predicts `x_i` (type-II maximum likelihood, as a GP library fit per
prompt would do, without an optimiser's local optima or iteration counts).
"""

import equinox as eqx
import jax
import jax.numpy as jnp

from icl_theory._types import Preds, Xs, Ys
from icl_theory._validation import invalid
from icl_theory.predictors.base import AbstractPredictor

LENGTHSCALES = (0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5, 2.5, 4.0, 8.0)
NOISE_FRACTIONS = (1e-3, 1e-2, 0.1, 0.3)


class GaussianProcessRBF(AbstractPredictor):
    """RBF-kernel GP regression, `lengthscales` x `noise_fractions` chosen per prefix by
    marginal likelihood (noise as a fraction of the signal's standard deviation); predicts 0
    with no context. With one point every pair is equally likely; round-off picks one."""

    lengthscales: tuple[float, ...] = eqx.field(static=True, default=LENGTHSCALES)
    noise_fractions: tuple[float, ...] = eqx.field(static=True, default=NOISE_FRACTIONS)

    needs_float64 = True

    def __check_init__(self) -> None:
        for name in ("lengthscales", "noise_fractions"):
            values = getattr(self, name)
            if not values or any(v <= 0 for v in values):
                raise invalid("GaussianProcessRBF", name, values, "must be positive numbers")

    def __call__(self, xs: Xs, ys: Ys) -> Preds:
        n_points = xs.shape[0]
        squared = jnp.sum((xs[:, None, :] - xs[None, :, :]) ** 2, axis=-1)
        grid = jnp.asarray(
            [(ell, noise) for ell in self.lengthscales for noise in self.noise_fractions],
            xs.dtype,
        )

        def at(position):
            context = jnp.arange(n_points) < position
            pair = context[:, None] & context[None, :]

            def fit(hyper):
                ell, noise = hyper[0], hyper[1]
                kernel = jnp.exp(-0.5 * squared / ell**2)
                # Outside the prefix: the identity, and zero data, so the solve ignores them.
                covariance = jnp.where(pair, kernel + noise**2 * jnp.eye(n_points), 0.0)
                covariance = covariance + jnp.diag(jnp.where(context, 0.0, 1.0))
                data = jnp.where(context, ys, 0.0)
                factor = jnp.linalg.cholesky(covariance)
                solved = jax.scipy.linalg.cho_solve((factor, True), data)
                count = jnp.maximum(position, 1).astype(xs.dtype)
                signal = jnp.maximum(data @ solved / count, 1e-300)
                log_det = 2.0 * jnp.sum(jnp.log(jnp.diag(factor)))
                # Profiled marginal likelihood (constants dropped): -(i log s^2 + log det K) / 2.
                score = -0.5 * (count * jnp.log(signal) + log_det)
                cross = jnp.where(context, kernel[position], 0.0)
                return score, cross @ solved

            scores, means = jax.vmap(fit)(grid)
            best = jnp.argmax(jnp.where(jnp.isfinite(scores), scores, -jnp.inf))
            return jnp.where(position > 0, means[best], 0.0)

        return jax.vmap(at)(jnp.arange(n_points))


__all__ = ["GaussianProcessRBF"]
