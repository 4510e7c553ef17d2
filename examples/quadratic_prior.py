"""A new function class, defined outside the package through its public API: random quadratic
forms `f(x) = x^T A x` with i.i.d. Gaussian entries `A_ij ~ N(0, scale^2)`.

Everything a new class needs is in this one file:

1. the prior: sampling, evaluation, output variance, and its NumPyro model;
2. its registration, so that prior specs (`"quadratic(scale=0.5)"`, `"dense + quadratic"`), the
   command line and saved runs know it by name;
3. its exact Bayes predictor: `f` is linear in the `d^2` features `x_i x_j` with a Gaussian prior
   on the weights `A_ij`, so the posterior is Bayesian linear regression on those features;
4. `main`: a short training run on the new class and an evaluation against that Bayes predictor.

Run it from the repository root: `python -m examples.quadratic_prior` (about a minute on a CPU).
The test suite imports it, so the parametrised prior tests cover `Quadratic` too, and runs `main`.
"""

import math
import sys
import tempfile
from pathlib import Path

import equinox as eqx
import jax.numpy as jnp
import jax.random as jr
import numpyro
import numpyro.distributions as dist
from jaxtyping import Array, Float, Int

from icl_theory.evaluation import EvalResults, evaluate
from icl_theory.predictors import (
    AbstractBayesPredictor,
    PrefixPosterior,
    gaussian_linear_posterior,
    register_bayes_predictor,
)
from icl_theory.priors import AbstractPrior, dim_mask, register_prior
from icl_theory.training import TrainConfig, load_model, train

Xs = Float[Array, "n_points dim"]
Ys = Float[Array, " n_points"]
Scalar = Float[Array, ""]
Count = int | Int[Array, ""]


class QuadraticTask(eqx.Module):
    """One quadratic form: its matrix `A` (zero outside the active coordinates)."""

    a: Float[Array, "dim dim"]


class Quadratic(AbstractPrior):
    """`f(x) = x^T A x`, `A_ij ~ N(0, scale^2)` i.i.d., observed with `N(0, noise_std^2)` noise.

    Attributes:
        dim: input dimension.
        scale: standard deviation of each entry of `A`.
        noise_std: observation noise (0 allowed).
    """

    dim: int = eqx.field(static=True)
    scale: float = 1.0
    noise_std: float = 0.0

    def __check_init__(self) -> None:
        if self.dim < 1:
            raise ValueError(f"Quadratic.dim={self.dim} is invalid: must be a positive integer")
        if not self.scale > 0:
            raise ValueError(f"Quadratic.scale={self.scale} is invalid: must be > 0")
        if not self.noise_std >= 0:
            raise ValueError(f"Quadratic.noise_std={self.noise_std} is invalid: must be >= 0")

    def sample_task(self, key: Array, active_dims: Count) -> QuadraticTask:
        mask = dim_mask(self.dim, active_dims)
        a = self.scale * jr.normal(key, (self.dim, self.dim))
        return QuadraticTask(a * mask[:, None] * mask[None, :])

    def evaluate(self, task: QuadraticTask, xs: Xs) -> Ys:
        return jnp.einsum("ni,ij,nj->n", xs, task.a, xs)

    def observation_std(self, task: QuadraticTask) -> Scalar:
        return jnp.asarray(self.noise_std, dtype=task.a.dtype)

    def class_index(self, task: QuadraticTask) -> Int[Array, ""]:
        return jnp.zeros((), jnp.int32)

    def output_variance(self, x: Float[Array, " dim"], active_dims: Count | None = None) -> Scalar:
        # Var(sum_ij A_ij x_i x_j) = scale^2 sum_ij x_i^2 x_j^2 = scale^2 |x|^4.
        x = x * dim_mask(self.dim, active_dims)
        return self.scale**2 * jnp.sum(x**2) ** 2

    def with_unit_output_variance(self) -> "Quadratic":
        # E|x|^4 = d^2 + 2d for x ~ N(0, I_d).
        return eqx.tree_at(lambda p: p.scale, self, 1.0 / math.sqrt(self.dim**2 + 2 * self.dim))

    def numpyro_function(self, xs: Xs) -> tuple[Ys, Scalar]:
        a = numpyro.sample(
            "a", dist.Normal(0.0, self.scale).expand([self.dim, self.dim]).to_event(2)
        )
        return jnp.einsum("ni,ij,nj->n", xs, a, xs), jnp.asarray(self.noise_std)


class QuadraticBayes(AbstractBayesPredictor):
    """Exact: Bayesian linear regression on the features `vec(x x^T)` with prior std `scale`
    on each weight; at `noise_std = 0` its noise-free limit (exact prediction once the
    `d (d + 1) / 2` distinct features are determined)."""

    prior: Quadratic

    def posterior(self, xs: Xs, ys: Ys) -> PrefixPosterior:
        features = (xs[:, :, None] * xs[:, None, :]).reshape(xs.shape[0], -1)
        prior_std = jnp.full((self.prior.dim**2,), self.prior.scale, xs.dtype)
        return gaussian_linear_posterior(features, prior_std, self.prior.noise_std, ys)


register_prior("quadratic", Quadratic)
register_bayes_predictor(Quadratic, QuadraticBayes)


def main(out: Path, steps: int = 300) -> EvalResults:
    """Train a tiny transformer on noisy 2-D quadratic forms and evaluate it next to the exact
    Bayes predictor (added by `evaluate` from the registry)."""
    config = TrainConfig(
        prior=Quadratic(dim=2, scale=0.5, noise_std=0.1),
        n_points=9,
        model="tiny",
        steps=steps,
        learning_rate=1e-3,
        warmup_steps=50,
        eval_every=100,
        checkpoint_every=100,
    )
    train(config, out / "run", progress=False)
    # x^T A x has output variance scale^2 |x|^4, which vanishes near x = 0: errors over the
    # class's mean output variance, so that a few prompts near 0 do not dominate every mean.
    results = evaluate(
        {"transformer": load_model(out / "run")},
        config.prior,
        config.n_points,
        normalise="class_mean",
    )
    results.save(out / "results.npz")
    return results


if __name__ == "__main__":
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp())
    evaluated = main(folder)
    for name in evaluated.names:
        print(name, " ".join(f"{e:.3f}" for e in evaluated.mean(name)))
    print(f"results in {folder / 'results.npz'}")
