"""Each prior's sampler agrees in distribution with its NumPyro model (an independent
implementation of the same prior, which the MCMC predictors condition)."""

from functools import partial

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from numpyro.infer import Predictive
from priors_zoo import ZOO
from stats import assert_mean_close, assert_same_distribution

from icl_theory.priors import AbstractPrior, DenseLinear, SparseLinear, prior_model

N = 4_000


def sampler_outputs(prior: AbstractPrior, xs, n: int, seed: int) -> np.ndarray:
    def one(key):
        task_key, noise_key = jr.split(key)
        task = prior.sample_task(task_key, prior.dim)
        f = prior.evaluate(task, xs)
        return f + prior.observation_std(task) * jr.normal(noise_key, f.shape)

    return np.asarray(jax.vmap(one)(jr.split(jr.key(seed), n)))


def model_outputs(prior: AbstractPrior, xs, n: int, seed: int) -> np.ndarray:
    draws = Predictive(partial(prior_model, prior), num_samples=n)(jr.key(seed), xs)
    return np.asarray(draws["y"])


@pytest.mark.parametrize("noise_std", [0.0, 0.4])
@pytest.mark.parametrize("name", sorted(ZOO))
def test_sampler_and_numpyro_model_agree_in_distribution(name, noise_std):
    prior = ZOO[name](3, noise_std)
    xs = jr.normal(jr.key(100), (3, 3))
    ours = sampler_outputs(prior, xs, N, seed=1)
    theirs = model_outputs(prior, xs, N, seed=2)
    # Marginal laws of each output and of two projections that mix the outputs (the joint law
    # matters: e.g. a shared weight vector correlates the points). Five KS tests at alpha = 1e-4
    # each: false alarm below 5e-4 for a correct pair.
    projections = np.array([[1.0, 1.0, 1.0], [1.0, -2.0, 0.5]])
    for a, b in zip(
        [*ours.T, *(ours @ projections.T).T], [*theirs.T, *(theirs @ projections.T).T], strict=True
    ):
        assert_same_distribution(a, b)


def test_dense_model_covariance_matches_the_closed_form():
    """For Gaussian priors both sides must also match `tau^2 X X^T + sigma^2 I` exactly."""
    prior = DenseLinear(dim=3, tau=0.7, noise_std=0.4)
    xs = jr.normal(jr.key(101), (3, 3))
    covariance = np.asarray(prior.tau**2 * xs @ xs.T + prior.noise_std**2 * jnp.eye(3))
    for outputs in (sampler_outputs(prior, xs, N, 3), model_outputs(prior, xs, N, 4)):
        outer = (outputs[:, :, None] * outputs[:, None, :]).reshape(N, -1)
        assert_mean_close(outer, covariance.ravel())


def test_sparse_model_enumerates_every_support():
    prior = SparseLinear(dim=5, k=2)
    table = np.asarray(prior.supports())
    assert table.shape == (10, 2)
    assert len({tuple(row) for row in table}) == 10
    assert np.all(table[:, 0] < table[:, 1])
