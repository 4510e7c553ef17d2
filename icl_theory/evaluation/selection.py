"""Which class is a predictor following? The implied mixture weight, next to the Bayes posterior.

For one context `(x_<i, y_<i)` let `m(q)` be the predictor's prediction at a query `q`, and
`a(q)`, `b(q)` the predictions of the Bayes predictors of two classes A and B (each class's own
posterior mean) at the same query. The **implied weight** of A is the least-squares `beta` in

    m(q) ~ beta * a(q) + (1 - beta) * b(q)        over Q queries q ~ the input distribution,

    beta = sum_q (m - b)(a - b) / sum_q (a - b)^2,

and `unexplained = sum_q (m - beta a - (1 - beta) b)^2 / sum_q (m - b)^2` says how much of the
predictor's departure from B the one-parameter family misses (0: it is exactly a blend of the two
class predictors; 1: the blend explains nothing).

Why this estimator: the mixture's Bayes predictor is *exactly* such a blend with
`beta = p(A | context)`, the same weight at every query (the posterior mean is the posterior-
weighted average of the class posterior means), so for it the implied weight equals the class
posterior and `unexplained = 0` (tested). For a transformer, `beta` near the Bayes posterior with
small `unexplained` is "selects the class like Bayes"; `beta` between 0 and 1 with large
`unexplained` (e.g. at intermediate sparsity) means it follows neither class. `beta` is undefined
where `a = b` at every query (no context, or enough points that both classes interpolate), and
where either class's prior gives the context probability zero (noise-free data outside that
class: its Bayes predictor has no posterior, and what it falls back to is not a prediction to
regress on). It is NaN there.
"""

from typing import NamedTuple

import jax
import numpy as np
from jaxtyping import ArrayLike

from icl_theory._types import Key
from icl_theory.predictors import AbstractPredictor, predict, predict_where_defined
from icl_theory.priors.inputs import AbstractInputDistribution, IsotropicGaussian

# Below this (relative to the predictions' scale) the two class predictors agree and beta is
# not identified.
IDENTIFIABLE = 1e-6


class ImpliedWeight(NamedTuple):
    """Per prompt and position (float64 NumPy arrays, NaN where beta is not identified)."""

    weight: np.ndarray
    unexplained: np.ndarray


def posterior_defined(
    predictor: AbstractPredictor, xs: ArrayLike, ys: ArrayLike, *, chunk: int = 256
) -> np.ndarray:
    """`(prompts, points)`: where `predictor` has a prediction given `y_<i`
    (`AbstractPredictor.predict_defined`: a Bayes predictor has none where its prior gives the
    prefix probability zero)."""
    xs, ys = np.asarray(xs), np.asarray(ys)
    parts = []
    for start in range(0, xs.shape[0], chunk):
        _, defined = predict_where_defined(
            predictor, xs[start : start + chunk], ys[start : start + chunk]
        )
        parts.append(np.asarray(defined))
    return np.concatenate(parts)


def sample_queries(
    key: Key, n_queries: int, dim: int, inputs: AbstractInputDistribution | None = None
) -> np.ndarray:
    """`(n_queries, dim)` float64 query inputs (isotropic Gaussian unless `inputs` is given)."""
    inputs = IsotropicGaussian() if inputs is None else inputs
    with jax.enable_x64(True):
        return np.asarray(inputs.sample(key, n_queries, dim), np.float64)


class ImpliedFunction(NamedTuple):
    """Per prompt and position (float64 NumPy arrays): `weights` `(prompts, points, dim)`, the
    least-squares linear function through the predictor's query predictions, and `nonlinear`
    `(prompts, points)`, the share of the predictions' energy it leaves unexplained."""

    weights: np.ndarray
    nonlinear: np.ndarray


def linear_fit(m: np.ndarray, queries: np.ndarray) -> ImpliedFunction:
    """Least-squares `w` of `m[..., q] ~ queries[q] . w` (min-norm if `queries` is rank
    deficient), and `nonlinear = sum_q (m - queries w)^2 / sum_q m^2` (NaN where `m` is 0)."""
    weights = np.einsum("dq,...q->...d", np.linalg.pinv(queries), m)
    residual = np.sum((m - weights @ queries.T) ** 2, axis=-1)
    energy = np.sum(m**2, axis=-1)
    nonlinear = np.where(energy > 0, residual / np.where(energy > 0, energy, 1.0), np.nan)
    return ImpliedFunction(weights=weights, nonlinear=nonlinear)


def off_support_share(weights: np.ndarray, relevant: np.ndarray) -> np.ndarray:
    """Share of each implied function's squared norm on coordinates the true function does not
    depend on: `sum_{j not relevant} w_j^2 / sum_j w_j^2`.

    `weights` `(prompts, points, dim)`, `relevant` `(prompts, dim)` booleans
    (`AbstractPrior.relevant_inputs`: a sparse function's support). 0 for a predictor that found
    the support (noise-free sparse Bayes from k + 1 examples), about `(d - k) / d` of the energy
    for one that spreads it evenly. NaN where every coordinate is relevant (nothing to find) or
    `w` is 0.
    """
    off = ~np.asarray(relevant, bool)[:, None, :]
    energy = np.sum(weights**2, axis=-1)
    share = np.sum(np.where(off, weights**2, 0.0), axis=-1) / np.where(energy > 0, energy, 1.0)
    defined = off.any(axis=-1) & (energy > 0)
    return np.where(defined, share, np.nan)


def blend_weight(
    m: np.ndarray, a: np.ndarray, b: np.ndarray, defined: np.ndarray | None = None
) -> ImpliedWeight:
    """Least-squares `beta` of `m ~ beta a + (1 - beta) b` over the last axis (queries); NaN
    where `defined` (the leading axes, `posterior_defined` of both classes) is False."""
    direction = a - b
    offset = m - b
    scale = np.maximum(np.mean(m**2 + a**2 + b**2, axis=-1), 1e-30)
    denominator = np.sum(direction**2, axis=-1)
    identified = denominator > IDENTIFIABLE * scale * m.shape[-1]
    if defined is not None:
        identified = identified & defined
    weight = np.sum(offset * direction, axis=-1) / np.where(identified, denominator, 1.0)
    residual = np.sum((offset - weight[..., None] * direction) ** 2, axis=-1)
    departure = np.sum(offset**2, axis=-1)
    unexplained = residual / np.maximum(departure, 1e-30)
    return ImpliedWeight(
        weight=np.where(identified, weight, np.nan),
        unexplained=np.where(identified, unexplained, np.nan),
    )


def query_predictions(
    predictor: AbstractPredictor,
    xs: ArrayLike,
    ys: ArrayLike,
    queries: ArrayLike,
    *,
    chunk: int = 16,
) -> np.ndarray:
    """`out[p, i, q]` (float64): the prediction at query `q` from prompt `p`'s context
    `(xs[:i], ys[:i])`.

    Each (prompt, position, query) is one call with position `i` replaced by the query (causality
    makes the later points irrelevant). The copies are built in float64 NumPy and passed in the
    predictor's precision (float64 for Bayes); `chunk` prompts at a time bound their memory.
    """
    xs, ys, queries = (np.asarray(a, np.float64) for a in (xs, ys, queries))
    n_prompts, n_points, dim = xs.shape
    n_queries = queries.shape[0]
    positions = np.arange(n_points)
    replace = (positions[:, None, None] == positions[None, None, :])[None, ..., None]
    dtype = np.float64 if predictor.needs_float64 else np.float32
    parts = []
    for start in range(0, n_prompts, chunk):
        x, y = xs[start : start + chunk], ys[start : start + chunk]
        size = x.shape[0]
        copies = np.where(replace, queries[None, None, :, None, :], x[:, None, None])
        y_copies = np.broadcast_to(y[:, None, None], (size, n_points, n_queries, n_points))
        flat = predict(
            predictor,
            copies.reshape(-1, n_points, dim).astype(dtype),
            y_copies.reshape(-1, n_points).astype(dtype),
        )
        flat = np.asarray(flat, np.float64).reshape(size, n_points, n_queries, n_points)
        # Copy (i, q) is read at position i.
        parts.append(flat[:, positions, :, positions].transpose(1, 0, 2))
    return np.concatenate(parts)


__all__ = [
    "ImpliedFunction",
    "ImpliedWeight",
    "blend_weight",
    "linear_fit",
    "off_support_share",
    "posterior_defined",
    "query_predictions",
    "sample_queries",
]
