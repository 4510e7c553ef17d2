"""Classical in-context baselines, vectorised over every prefix (no Python loop over positions).

Each is a predictor in the sense of `base.py`; the ones Garg et al. (2022) compare against, with
their conventions: 0 with no context, k-NN averages fewer neighbours when fewer are available.
"""

import equinox as eqx
import jax
import jax.numpy as jnp

from icl_theory._types import Preds, Xs, Ys
from icl_theory._validation import check_positive, check_positive_int
from icl_theory.predictors.base import AbstractPredictor
from icl_theory.predictors.gaussian import gaussian_linear_posterior


def _prefix_masks(n_points: int) -> jax.Array:
    """`masks[i, j]` is 1 when point `j` is in the context of position `i` (`j < i`)."""
    positions = jnp.arange(n_points)
    return (positions[None, :] < positions[:, None]).astype(jnp.float32)


class ZeroPredictor(AbstractPredictor):
    """Always the prior mean, 0: the normaliser's reference (its normalised error is 1)."""

    def __call__(self, xs: Xs, ys: Ys) -> Preds:
        return jnp.zeros_like(ys)


class Averaging(AbstractPredictor):
    """`w = mean_{j<i} y_j x_j`, predict `w . x_i` (one step of gradient descent from 0)."""

    def __call__(self, xs: Xs, ys: Ys) -> Preds:
        weighted = ys[:, None] * xs
        exclusive = jnp.cumsum(weighted, axis=0) - weighted
        counts = jnp.maximum(jnp.arange(xs.shape[0]), 1).astype(xs.dtype)
        return jnp.sum(exclusive * xs, axis=1) / counts


class LeastSquares(AbstractPredictor):
    """Minimum-norm least squares `pinv(X_<i) y_<i` per prefix (float64: rank-deficient and
    near-square systems are where float32 pseudo-inverses go wrong)."""

    needs_float64 = True

    def __call__(self, xs: Xs, ys: Ys) -> Preds:
        masks = _prefix_masks(xs.shape[0]).astype(xs.dtype)

        # Rows outside the prefix are zeroed: zero rows leave the min-norm solution unchanged.
        def at(position, mask):
            w = jnp.linalg.pinv(xs * mask[:, None]) @ (ys * mask)
            return xs[position] @ w

        return jax.vmap(at)(jnp.arange(xs.shape[0]), masks)


class Ridge(AbstractPredictor):
    """Ridge regression `(X^T X + lambda I)^{-1} X^T y` per prefix (`lambda > 0`); it is the Bayes
    predictor of dense linear regression with `tau = 1`, `sigma^2 = lambda`."""

    regularisation: float

    def __check_init__(self) -> None:
        check_positive("Ridge", "regularisation", self.regularisation)

    def __call__(self, xs: Xs, ys: Ys) -> Preds:
        prior_std = jnp.ones((xs.shape[1],), xs.dtype)
        noise_std = jnp.sqrt(jnp.asarray(self.regularisation, xs.dtype))
        return gaussian_linear_posterior(xs, prior_std, noise_std, ys).mean


class Lasso(AbstractPredictor):
    """Lasso per prefix, with scikit-learn's objective (as Garg et al. use it, no intercept):
    `(1 / (2 i)) |y_<i - X_<i w|^2 + alpha |w|_1`, solved by FISTA with a fixed iteration count
    (so it compiles once and vectorises over prefixes and prompts)."""

    alpha: float
    iterations: int = eqx.field(static=True, default=1000)

    def __check_init__(self) -> None:
        check_positive("Lasso", "alpha", self.alpha)
        check_positive_int("Lasso", "iterations", self.iterations)

    def __call__(self, xs: Xs, ys: Ys) -> Preds:
        masks = _prefix_masks(xs.shape[0]).astype(xs.dtype)
        return jax.vmap(lambda p, m: xs[p] @ self.solve(xs * m[:, None], ys * m, m.sum()))(
            jnp.arange(xs.shape[0]), masks
        )

    def solve(self, xs: Xs, ys: Ys, count: jax.Array) -> jax.Array:
        count = jnp.maximum(count, 1.0)
        gram = xs.T @ xs / count
        correlation = xs.T @ ys / count
        # Step 1/L with L the largest eigenvalue of the Gram matrix (the gradient's Lipschitz
        # constant); guarded for an empty prefix, where the solution is 0 anyway.
        lipschitz = jnp.maximum(jnp.linalg.eigvalsh(gram)[-1], 1e-12)
        threshold = self.alpha / lipschitz

        def step(state, _):
            w, z, t = state
            gradient = gram @ z - correlation
            u = z - gradient / lipschitz
            w_next = jnp.sign(u) * jnp.maximum(jnp.abs(u) - threshold, 0.0)
            t_next = 0.5 * (1.0 + jnp.sqrt(1.0 + 4.0 * t**2))
            z_next = w_next + ((t - 1.0) / t_next) * (w_next - w)
            return (w_next, z_next, t_next), None

        zero = jnp.zeros((xs.shape[1],), xs.dtype)
        (w, _, _), _ = jax.lax.scan(
            step, (zero, zero, jnp.ones((), xs.dtype)), None, length=self.iterations
        )
        return w


class NearestNeighbours(AbstractPredictor):
    """Mean `y` of the `k` nearest earlier inputs (Euclidean); fewer while fewer exist."""

    k: int = eqx.field(static=True, default=3)

    def __check_init__(self) -> None:
        check_positive_int("NearestNeighbours", "k", self.k)

    def __call__(self, xs: Xs, ys: Ys) -> Preds:
        n_points = xs.shape[0]
        distances = jnp.sum((xs[:, None, :] - xs[None, :, :]) ** 2, axis=-1)
        in_context = _prefix_masks(n_points) > 0
        distances = jnp.where(in_context, distances, jnp.inf)
        k = min(self.k, n_points)
        _, nearest = jax.lax.top_k(-distances, k)
        available = jnp.minimum(jnp.arange(n_points), k)
        chosen = jnp.arange(k)[None, :] < available[:, None]
        total = jnp.sum(jnp.where(chosen, ys[nearest], 0.0), axis=1)
        return total / jnp.maximum(available, 1).astype(ys.dtype)
