"""Sampling batches of prompts `(x_1, f(x_1), ..., x_n, f(x_n))` from a prior."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
from jax.typing import DTypeLike
from jaxtyping import Array, Int, PyTree

from icl_theory._types import BatchClasses, BatchMask, BatchXs, BatchYs, Count, IntScalar, Key
from icl_theory._validation import check_positive_int, invalid
from icl_theory.priors.base import AbstractPrior, dim_mask
from icl_theory.priors.inputs import AbstractInputDistribution, IsotropicGaussian
from icl_theory.priors.mixture import Mixture


class Prompts(eqx.Module):
    """A batch of prompts with per-prompt metadata.

    Attributes:
        xs: inputs; inactive coordinates and inactive points are exactly zero.
        ys: observations `f(x_i) + noise`; zero at inactive points.
        fs: noise-free values `f(x_i)` (the target Garg et al. score against); zero at inactive
            points.
        class_index: mixture component of each prompt (0 when the prior is not a mixture).
        point_mask: True at active points (the first `active_points` of each prompt).
        tasks: the sampled functions' parameters, batched along the leading axis.
    """

    xs: BatchXs
    ys: BatchYs
    fs: BatchYs
    class_index: BatchClasses
    point_mask: BatchMask
    tasks: PyTree

    @property
    def batch_size(self) -> int:
        return self.xs.shape[0]

    @property
    def n_points(self) -> int:
        return self.xs.shape[1]

    @property
    def dim(self) -> int:
        return self.xs.shape[2]


def sample_prompts(
    prior: AbstractPrior,
    key: Key,
    batch: int,
    n_points: int,
    *,
    inputs: AbstractInputDistribution | None = None,
    active_dims: Count | None = None,
    active_points: Count | None = None,
    classes: Int[Array, " batch"] | None = None,
    dtype: DTypeLike | None = None,
) -> Prompts:
    """Draw `batch` independent prompts of `n_points` points each.

    Deterministic in `key`; fixed shapes, so it can run inside `jit` (and the curriculum counts
    may be traced). Prompt `b` uses `jr.fold_in(key, b)`, so a prompt does not change when the
    batch size does.

    Args:
        prior: the prior over functions; a mixture draws its class per prompt.
        key: PRNG key.
        batch: output shape.
        n_points: output shape.
        inputs: input distribution (default `IsotropicGaussian()`).
        active_dims: curriculum counts; `None` means all are active.
        active_points: curriculum counts; `None` means all are active.
        classes: for a `Mixture`, the class of each prompt (how a training batch is composed,
            `icl_theory.training.composition`); `None` lets the mixture draw it with its weights.
            Each class's function is drawn from that class's own law either way.
        dtype: `jnp.float64` draws the prompts in float64 (what the exact Bayes predictors
            need: they refuse float32 data); `None` uses JAX's default (float32 unless x64 is on).

    Returns:
        a `Prompts` container.
    """
    check_positive_int("sample_prompts", "batch", batch)
    check_positive_int("sample_prompts", "n_points", n_points)
    if isinstance(active_dims, int) and not 1 <= active_dims <= prior.dim:
        raise invalid("sample_prompts", "active_dims", active_dims, f"must be in [1, {prior.dim}]")
    if isinstance(active_points, int) and not 1 <= active_points <= n_points:
        raise invalid(
            "sample_prompts", "active_points", active_points, f"must be in [1, {n_points}]"
        )
    if classes is not None:
        if not isinstance(prior, Mixture):
            raise invalid(
                "sample_prompts",
                "classes",
                "an array",
                f"sets the class of each prompt of a Mixture; {type(prior).__name__} has one class",
            )
        if jnp.shape(classes) != (batch,):
            raise invalid(
                "sample_prompts", "classes", jnp.shape(classes), f"must have shape ({batch},)"
            )
    if dtype is not None:
        wanted = jnp.dtype(dtype)
        if wanted not in (jnp.float32, jnp.float64):
            raise invalid("sample_prompts", "dtype", dtype, "is jnp.float32, jnp.float64 or None")
        if (wanted == jnp.float64) != _x64_enabled():
            with jax.enable_x64(wanted == jnp.float64):
                return sample_prompts(
                    prior,
                    key,
                    batch,
                    n_points,
                    inputs=inputs,
                    active_dims=active_dims,
                    active_points=active_points,
                    classes=classes,
                )
    inputs = IsotropicGaussian() if inputs is None else inputs
    # Always traced, so a curriculum never triggers a recompile.
    active_dims = jnp.asarray(prior.dim if active_dims is None else active_dims, jnp.int32)
    active_points = jnp.asarray(n_points if active_points is None else active_points, jnp.int32)
    return _sample_prompts(prior, inputs, key, batch, n_points, active_dims, active_points, classes)


def _x64_enabled() -> bool:
    """Whether JAX keeps float64 (inside `jax.enable_x64(True)` or with x64 on globally)."""
    return jax.dtypes.canonicalize_dtype(jnp.float64) == jnp.float64


@eqx.filter_jit
def _sample_prompts(
    prior: AbstractPrior,
    inputs: AbstractInputDistribution,
    key: Key,
    batch: int,
    n_points: int,
    active_dims: IntScalar,
    active_points: IntScalar,
    classes: Int[Array, " batch"] | None,
) -> Prompts:
    coordinate_mask = dim_mask(prior.dim, active_dims)
    point_mask = jnp.arange(n_points) < active_points

    def one_prompt(prompt_key: Key, forced_class: IntScalar | None):
        task_key, input_key, noise_key = jr.split(prompt_key, 3)
        task = prior.sample_task(task_key, active_dims)
        if forced_class is not None:
            task = prior.with_class(task, forced_class)  # type: ignore[attr-defined]
        xs = inputs.sample(input_key, n_points, prior.dim) * coordinate_mask[None, :]
        xs = jnp.where(point_mask[:, None], xs, 0.0)
        fs = jnp.where(point_mask, prior.evaluate(task, xs), 0.0)
        noise = prior.observation_std(task) * jr.normal(noise_key, (n_points,))
        ys = jnp.where(point_mask, fs + noise, 0.0)
        return xs, ys, fs, prior.class_index(task), point_mask, task

    keys = jax.vmap(lambda b: jr.fold_in(key, b))(jnp.arange(batch))
    return Prompts(*jax.vmap(one_prompt)(keys, classes))
