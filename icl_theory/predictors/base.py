"""The predictor protocol shared by the Bayes predictors, the baselines and the transformer.

A predictor maps one prompt `(xs: (n, d), ys: (n,))` to `preds: (n,)`, where `preds[i]` depends
only on `xs[:i+1]` and `ys[:i]` (prefix-causal); with no context it predicts the prior mean, 0.
Batching is `jax.vmap` outside; `predict` does that, under `jit`, in the precision the predictor
asks for.
"""

import abc
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Bool, Float

from icl_theory._types import BatchXs, BatchYs, Preds, Xs, Ys


class AbstractPredictor(eqx.Module):
    """One prompt in, one prediction per position out (see the module docstring)."""

    # Exact Bayes computations run in float64 (noise-free limits, near-singular systems).
    needs_float64: ClassVar[bool] = False
    # An exact predictor refuses data already rounded to float32: a noise-free prompt rounded to
    # float32 is no longer in its class, and the posterior computed from it only looks exact.
    refuses_float32: ClassVar[bool] = False

    @abc.abstractmethod
    def __call__(self, xs: Xs, ys: Ys) -> Preds:
        """`preds[i]` from `xs[:i+1]` and `ys[:i]`."""

    def predict_defined(self, xs: Xs, ys: Ys) -> tuple[Preds, Bool[Array, " n_points"]]:
        """The predictions, and where each is one. Everywhere, except for a predictor with a
        prior that gives the prefix `y_<i` probability zero (a Bayes predictor on noise-free data
        outside its class): it has no posterior there, and what it falls back to is not a
        prediction."""
        return self(xs, ys), jnp.ones(ys.shape, bool)


def predict(
    predictor: AbstractPredictor,
    xs: Float[ArrayLike, "batch n_points dim"],
    ys: Float[ArrayLike, "batch n_points"],
) -> Float[Array, "batch n_points"]:
    """Run `predictor` on a batch of prompts (vmapped, jit-compiled), in float64 when it needs it.

    Inputs may be JAX or NumPy arrays; float64 NumPy inputs keep their precision for float64
    predictors. Returns float64 predictions for float64 predictors, else the inputs' dtype.
    """
    check_input_precision(predictor, xs, ys)
    if predictor.needs_float64:
        with jax.enable_x64(True):
            return _batched(predictor, jnp.asarray(xs, jnp.float64), jnp.asarray(ys, jnp.float64))
    return _batched(predictor, jnp.asarray(xs), jnp.asarray(ys))


def predict_where_defined(
    predictor: AbstractPredictor,
    xs: Float[ArrayLike, "batch n_points dim"],
    ys: Float[ArrayLike, "batch n_points"],
) -> tuple[Float[Array, "batch n_points"], Bool[Array, "batch n_points"]]:
    """`predictor.predict_defined` on a batch, like `predict` (precision, `jit`)."""
    check_input_precision(predictor, xs, ys)
    if predictor.needs_float64:
        with jax.enable_x64(True):
            return _batched_defined(
                predictor, jnp.asarray(xs, jnp.float64), jnp.asarray(ys, jnp.float64)
            )
    return _batched_defined(predictor, jnp.asarray(xs), jnp.asarray(ys))


@eqx.filter_jit
def _batched_defined(predictor: AbstractPredictor, xs: BatchXs, ys: BatchYs):
    return jax.vmap(predictor.predict_defined)(xs, ys)


@eqx.filter_jit
def _batched(predictor: AbstractPredictor, xs: BatchXs, ys: BatchYs) -> BatchYs:
    return jax.vmap(predictor)(xs, ys)


def check_input_precision(predictor: AbstractPredictor, *arrays: ArrayLike) -> None:
    """A clear error when data rounded to less than float64 reach an exact predictor."""
    if not predictor.refuses_float32:
        return
    for name, array in zip(("xs", "ys"), arrays, strict=False):
        dtype = getattr(array, "dtype", None)
        if dtype is not None and jnp.issubdtype(dtype, jnp.floating) and dtype != jnp.float64:
            raise ValueError(
                f"{name} has dtype {dtype}: {type(predictor).__name__} is exact only on float64 "
                "data (a noise-free prompt rounded to float32 is no longer in its class, and its "
                "posterior would only look exact). Draw the prompts in float64: "
                "sample_prompts(prior, key, batch, n_points, dtype=jnp.float64), or pass "
                "float64 arrays."
            )


def require_float64(xs: Array) -> None:
    """Bayes predictors refuse to run silently in float32, where their noise-free limits break."""
    if xs.dtype != jnp.float64:
        raise ValueError(
            f"this Bayes predictor computes in float64 but got {xs.dtype} inputs: call it through "
            "icl_theory.predictors.predict(...), which enables float64, or inside "
            "`with jax.enable_x64(True):` with float64 arrays."
        )
