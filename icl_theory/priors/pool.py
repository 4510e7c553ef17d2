"""A finite task pool (Raventós et al. 2023): `size` functions drawn once from a base prior;
each prompt uses one of them, uniformly at random."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Bool

from icl_theory._types import Count, IntScalar, Key, Point, Scalar, Xs, Ys
from icl_theory._validation import check_positive_int, invalid
from icl_theory.priors._sites import uniform_choice
from icl_theory.priors.base import AbstractPrior, Task


class FinitePool(AbstractPrior):
    """Uniform over `size` tasks drawn from `base` with `jr.key(seed)` (full dimension).

    Attributes:
        base: the prior the pool is drawn from.
        size: number of tasks `M` in the pool.
        seed: integer seed of the pool draw, so a pool is reproducible from its config alone.
        tasks: the drawn tasks, stacked along a leading axis of length `size` (derived).

    `output_variance` is the base prior's: the pool is a sample from it, so errors on the pool and
    on the base class share one scale. `class_index` is the pool member's index, which makes the
    pool a uniform mixture of point masses, as its Bayes predictor treats it.
    """

    base: AbstractPrior
    size: int = eqx.field(static=True)
    seed: int = eqx.field(static=True)
    tasks: Task
    dim: int = eqx.field(static=True)

    def __init__(self, base: AbstractPrior, size: int, seed: int = 0):
        check_positive_int("FinitePool", "size", size)
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise invalid("FinitePool", "seed", seed, "must be an integer >= 0")
        if isinstance(base, FinitePool):
            raise invalid("FinitePool", "base", "FinitePool", "a pool of a pool is not supported")
        self.base = base
        self.size = size
        self.seed = seed
        self.dim = base.dim
        keys = jr.split(jr.key(seed), size)
        self.tasks = jax.vmap(lambda k: base.sample_task(k, base.dim))(keys)

    def _member(self, index: IntScalar) -> Task:
        return jax.tree_util.tree_map(lambda leaf: leaf[index], self.tasks)

    def sample_task(self, key: Key, active_dims: Count) -> tuple[IntScalar, Task]:
        # The pool's functions are fixed, so the curriculum cannot restrict them; inactive
        # coordinates still have zero inputs.
        index = jr.randint(key, (), 0, self.size)
        return index, self._member(index)

    def evaluate(self, task: tuple[IntScalar, Task], xs: Xs) -> Ys:
        return self.base.evaluate(task[1], xs)

    def observation_std(self, task: tuple[IntScalar, Task]) -> Scalar:
        return self.base.observation_std(task[1])

    def relevant_inputs(self, task: tuple[IntScalar, Task]) -> Bool[Array, " dim"]:
        return self.base.relevant_inputs(task[1])

    def class_index(self, task: tuple[IntScalar, Task]) -> IntScalar:
        return task[0].astype(jnp.int32)

    def output_variance(self, x: Point, active_dims: Count | None = None) -> Scalar:
        return self.base.output_variance(x, active_dims)

    def with_unit_output_variance(self) -> "AbstractPrior":
        # The base samplers scale a fixed standard draw, so the same seed gives the same pool,
        # rescaled.
        return type(self)(self.base.with_unit_output_variance(), self.size, self.seed)

    def numpyro_function(self, xs: Xs) -> tuple[Ys, Scalar]:
        index = uniform_choice("member", self.size)
        task = self._member(index)
        return self.base.evaluate(task, xs), self.base.observation_std(task)
