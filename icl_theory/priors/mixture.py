"""Mixtures of priors: the class is drawn per prompt with the given weights.

Drawing per prompt (not per batch, as Panwar et al. do, nor one step per class, as Bai et al. do)
makes the expected training loss at every step exactly the mixture-prior objective, whose optimum
is the mixture's Bayes predictor.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpyro
import numpyro.distributions as dist
from jaxtyping import Array, Bool, Float, Int

from icl_theory._types import Count, IntScalar, Key, Point, Scalar, Xs, Ys
from icl_theory._validation import check_probabilities, invalid
from icl_theory.priors._sites import sample_site
from icl_theory.priors.base import AbstractPrior, Task


class MixtureTask(eqx.Module):
    """Every component's task is drawn (fixed shapes under `jit`); `component` picks one."""

    component: IntScalar
    tasks: tuple[Task, ...]


class Mixture(AbstractPrior):
    """`sum_c weights[c] * components[c]`, drawn per prompt; `class_index` is the component.

    Attributes:
        components: two or more priors of the same `dim` (one component is allowed too, and
            equals that component).
        weights: mixing weights, non-negative, summing to 1; `None` means uniform.
    """

    components: tuple[AbstractPrior, ...]
    weights: tuple[float, ...]
    dim: int = eqx.field(static=True)

    def __init__(
        self, components: tuple[AbstractPrior, ...], weights: tuple[float, ...] | None = None
    ):
        components = tuple(components)
        if not components:
            raise invalid("Mixture", "components", components, "needs at least one prior")
        dims = [c.dim for c in components]
        if len(set(dims)) != 1:
            raise invalid("Mixture", "components", dims, "all components must have the same dim")
        if weights is None:
            weights = tuple(1.0 / len(components) for _ in components)
        weights = tuple(float(w) for w in weights)
        if len(weights) != len(components):
            raise invalid(
                "Mixture", "weights", weights, f"needs one weight per component ({len(components)})"
            )
        check_probabilities("Mixture", "weights", weights)
        self.components = components
        self.weights = weights
        self.dim = dims[0]

    def sample_task(self, key: Key, active_dims: Count) -> MixtureTask:
        class_key, *task_keys = jr.split(key, len(self.components) + 1)
        component = jr.categorical(class_key, jnp.log(jnp.asarray(self.weights)))
        tasks = tuple(
            c.sample_task(k, active_dims) for c, k in zip(self.components, task_keys, strict=True)
        )
        return MixtureTask(component.astype(jnp.int32), tasks)

    def with_class(self, task: MixtureTask, component: IntScalar) -> MixtureTask:
        """The task with its class set to `component`: every component's function is drawn
        whatever the class, so this is a draw from that component's own law."""
        return MixtureTask(jnp.asarray(component, jnp.int32), task.tasks)

    def evaluate(self, task: MixtureTask, xs: Xs) -> Ys:
        values = [c.evaluate(t, xs) for c, t in zip(self.components, task.tasks, strict=True)]
        return jnp.stack(values)[task.component]

    def observation_std(self, task: MixtureTask) -> Scalar:
        stds = [c.observation_std(t) for c, t in zip(self.components, task.tasks, strict=True)]
        return jnp.stack(stds)[task.component]

    def class_index(self, task: MixtureTask) -> IntScalar:
        return task.component

    @property
    def classes(self) -> tuple[AbstractPrior, ...]:
        return self.components

    @property
    def class_weights(self) -> tuple[float, ...]:
        return self.weights

    def relevant_inputs(self, task: MixtureTask) -> Bool[Array, " dim"]:
        relevant = [c.relevant_inputs(t) for c, t in zip(self.components, task.tasks, strict=True)]
        return jnp.stack(relevant)[task.component]

    def output_variance(self, x: Point, active_dims: Count | None = None) -> Scalar:
        variances = jnp.stack([c.output_variance(x, active_dims) for c in self.components])
        return jnp.asarray(self.weights, dtype=variances.dtype) @ variances

    def min_active_dims(self) -> int:
        return max(c.min_active_dims() for c in self.components)

    def with_unit_output_variance(self) -> "AbstractPrior":
        return type(self)(
            tuple(c.with_unit_output_variance() for c in self.components), self.weights
        )

    def numpyro_function(self, xs: Xs) -> tuple[Ys, Scalar]:
        # One model for the whole mixture: a discrete class site (enumerable, or marginalised by
        # the Bayes code) and every component's latents under its own name scope. Components not
        # selected keep their prior, so the marginal law of the selected function is exact.
        component = sample_site("class", dist.Categorical(probs=jnp.asarray(self.weights)))
        values, stds = [], []
        for index, prior in enumerate(self.components):
            with numpyro.handlers.scope(prefix=f"c{index}", divider="/"):
                f, std = prior.numpyro_function(xs)
            values.append(f)
            stds.append(std)
        return jnp.stack(values)[component], jnp.stack(stds)[component]


def drawn_class_variance(
    prior: AbstractPrior,
    xs: Float[Array, "batch n_points dim"],
    class_index: Int[Array, " batch"],
    active_dims: Count | None = None,
) -> Float[Array, "batch n_points"]:
    """`E[f(x_i)^2 | class]` at every point, for the class that drew each prompt (the prior
    itself when it is not a mixture). Traceable: training divides its loss by it
    (`normalise_loss`) and evaluation its errors.

    For a mixture this is the drawn component's variance, not the mixture's: dividing dense
    prompts by the mixture's variance would score the zero predictor 1.6 on them and 0.4 on
    sparse ones (d = 8, k = 2), and per-class curves would not share an axis.
    """
    classes = prior.classes

    def per_prompt(points, index):
        variances = [
            jax.vmap(lambda x, c=c: c.output_variance(x, active_dims))(points) for c in classes
        ]
        return jnp.stack(variances)[index]

    return jax.vmap(per_prompt)(xs, class_index)
