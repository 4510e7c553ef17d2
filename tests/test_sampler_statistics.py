"""Sampler statistics against the priors' defining laws, with stated false-alarm rates
(see `stats.py`; every seed is fixed)."""

import itertools
import math

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from priors_zoo import ZOO
from scipy import stats as scipy_stats
from stats import (
    assert_binomial,
    assert_distribution,
    assert_mean_close,
    assert_uniform_counts,
)

from icl_theory import sample_prompts
from icl_theory.priors import (
    AbstractPrior,
    DenseLinear,
    FinitePool,
    Mixture,
    ReluNetwork,
    Sinusoid,
    SparseLinear,
)

N = 20_000


def draw_tasks(prior: AbstractPrior, n: int, active_dims: int | None = None, seed: int = 0):
    active = jnp.asarray(prior.dim if active_dims is None else active_dims)
    return jax.vmap(lambda k: prior.sample_task(k, active))(jr.split(jr.key(seed), n))


def test_dense_weights_have_mean_zero_and_covariance_tau_squared_identity():
    prior = DenseLinear(dim=4, tau=0.7)
    w = np.asarray(draw_tasks(prior, N).w)
    assert_mean_close(w, 0.0)
    outer = (w[:, :, None] * w[:, None, :]).reshape(N, -1)
    assert_mean_close(outer, (0.7**2 * np.eye(4)).ravel())


@pytest.mark.parametrize(("dim", "k", "active"), [(5, 2, 5), (6, 2, 3), (4, 4, 4), (5, 1, 5)])
def test_sparse_support_is_uniform_over_k_subsets_and_values_gaussian(dim, k, active):
    prior = SparseLinear(dim=dim, k=k, tau=1.3)
    w = np.asarray(draw_tasks(prior, N, active_dims=active).w)
    assert np.all(np.count_nonzero(w, axis=1) == k)
    supports = [tuple(np.flatnonzero(row)) for row in w]
    table = {s: 0 for s in itertools.combinations(range(active), k)}
    for support in supports:
        table[support] += 1  # a KeyError here would be a support outside the active coordinates
    assert len(table) == math.comb(active, k)
    if len(table) > 1:
        assert_uniform_counts(np.array(list(table.values())))
    assert_distribution(w[w != 0.0] / 1.3, "norm")


# Each prior's E[f(x)^2] at fixed queries must equal what it reports through output_variance.
@pytest.mark.parametrize("name", sorted(set(ZOO) - {"pool"}))
@pytest.mark.parametrize("active", [None, 2])
def test_reported_output_variance_matches_sampled_functions(name, active):
    prior = ZOO[name](4, 0.0)
    tasks = draw_tasks(prior, N, active_dims=active, seed=1)
    queries = jr.normal(jr.key(2), (3, 4))
    if active is not None:
        queries = queries * (jnp.arange(4) < active)[None, :]
    values = np.asarray(jax.vmap(lambda t: prior.evaluate(t, queries))(tasks))
    reported = np.asarray(jax.vmap(lambda x: prior.output_variance(x, active))(queries))
    assert_mean_close(values**2, reported)


def test_pool_members_are_drawn_from_base_and_uniformly():
    base = DenseLinear(dim=3, tau=0.5)
    pool = FinitePool(base, size=N, seed=4)
    # The pool is a sample from the base prior: its exact second moment at a query matches the
    # base's reported variance within the pool's own sampling error.
    query = jnp.array([0.3, -1.2, 0.8])
    values = np.asarray(jax.vmap(lambda t: base.evaluate(t, query[None, :]))(pool.tasks))
    assert_mean_close(values**2, float(pool.output_variance(query)))
    small = FinitePool(base, size=7, seed=0)
    members = np.asarray(draw_tasks(small, 7_000)[0])
    assert_uniform_counts(np.bincount(members, minlength=7))


@pytest.mark.parametrize(
    "prior",
    [
        DenseLinear(dim=6),
        SparseLinear(dim=6, k=2),
        Sinusoid(dim=6, amplitude_std=3.0),
        ReluNetwork(dim=6, hidden=5),
        Mixture((DenseLinear(dim=6), SparseLinear(dim=6, k=3))),
    ],
    ids=lambda p: type(p).__name__,
)
def test_unit_output_variance_scales_every_class_to_one(prior):
    unit = prior.with_unit_output_variance()
    prompts = sample_prompts(unit, jr.key(5), N, 2)
    reported = jax.vmap(jax.vmap(unit.output_variance))(prompts.xs)
    assert_mean_close(np.asarray(reported).ravel(), 1.0)
    assert_mean_close(np.asarray(prompts.fs[:, 0]) ** 2, 1.0)


@pytest.mark.parametrize(
    "prior",
    [
        DenseLinear(dim=5),
        SparseLinear(dim=5, k=2),
        Sinusoid(dim=5, amplitude_std=3.0),
        Mixture((DenseLinear(dim=5), SparseLinear(dim=5, k=1))),
    ],
    ids=lambda p: type(p).__name__,
)
def test_unit_output_variance_rescales_the_same_prompts(prior):
    """From one key, the rescaled prior draws the same classes and inputs and scales each
    output by the ratio of the classes' output standard deviations: the evaluation of a model
    trained at unit scale pairs prompt by prompt with models evaluated at the raw scale.

    Tolerance: each output is a float64 sum of a few products (eps 2.2e-16), rounded
    differently at the two scales; where the sum cancels to near zero that rounding is large
    relative to the output but not to its scale, so the outputs are compared on the scale of
    their standard deviation, to 1e-13 of it."""
    unit = prior.with_unit_output_variance()
    with jax.enable_x64(True):
        raw_prompts = sample_prompts(prior, jr.key(8), 500, 4)
        unit_prompts = sample_prompts(unit, jr.key(8), 500, 4)
        np.testing.assert_array_equal(raw_prompts.xs, unit_prompts.xs)
        np.testing.assert_array_equal(raw_prompts.class_index, unit_prompts.class_index)
        unit_variance = _class_output_variance(unit, raw_prompts)
        raw_variance = _class_output_variance(prior, raw_prompts)
        expected = raw_prompts.fs * np.sqrt(unit_variance / raw_variance)
        difference = np.abs(unit_prompts.fs - expected) / np.sqrt(unit_variance)
        assert difference.max() < 1e-13


def _class_output_variance(prior, prompts) -> np.ndarray:
    """Each point's output variance under the class its prompt was drawn from."""
    classes = prior.components if isinstance(prior, Mixture) else (prior,)
    per_class = [np.asarray(jax.vmap(jax.vmap(c.output_variance))(prompts.xs)) for c in classes]
    return np.choose(np.asarray(prompts.class_index)[:, None], per_class)


def test_mixture_class_frequencies_match_weights():
    prior = ZOO["mixture3"](3, 0.0)
    assert isinstance(prior, Mixture)
    classes = np.asarray(sample_prompts(prior, jr.key(6), N, 1).class_index)
    counts = np.bincount(classes, minlength=3)
    for count, weight in zip(counts, prior.weights, strict=True):
        assert_binomial(int(count), N, weight)


def test_mixture_prompts_follow_their_drawn_class():
    dense, sparse = DenseLinear(dim=5, noise_std=0.0), SparseLinear(dim=5, k=1, noise_std=0.5)
    prompts = sample_prompts(Mixture((dense, sparse), (0.5, 0.5)), jr.key(7), 4_000, 3)
    classes = np.asarray(prompts.class_index)
    chosen = [np.asarray(t.w) for t in prompts.tasks.tasks]
    w_used = np.where(classes[:, None] == 0, chosen[0], chosen[1])
    np.testing.assert_allclose(
        np.asarray(prompts.fs), np.einsum("bnd,bd->bn", np.asarray(prompts.xs), w_used), atol=1e-5
    )
    noise = np.asarray(prompts.ys - prompts.fs)
    assert np.all(noise[classes == 0] == 0.0)
    assert_distribution(noise[classes == 1].ravel() / 0.5, "norm")


def test_sinusoid_frequency_axis_and_coefficient_priors_are_honoured():
    prior = Sinusoid(dim=5, freq_low=0.7, freq_high=2.5, amplitude_std=1.5)
    tasks = draw_tasks(prior, N, active_dims=3, seed=8)
    assert_distribution(np.asarray(tasks.frequency), scipy_stats.uniform(0.7, 1.8).cdf)
    assert_uniform_counts(np.bincount(np.asarray(tasks.axis), minlength=3))
    assert np.asarray(tasks.axis).max() < 3
    assert_distribution(np.asarray(tasks.coefficients).ravel() / 1.5, "norm")
    point = Sinusoid(dim=5, freq_low=6.0, freq_high=6.0)  # a test frequency outside [0.7, 2.5]
    np.testing.assert_array_equal(np.asarray(draw_tasks(point, 100).frequency), 6.0)


def test_sinusoid_evaluates_the_documented_formula():
    prior = Sinusoid(dim=3)
    task = prior.sample_task(jr.key(9), 3)
    xs = jr.normal(jr.key(10), (6, 3))
    a, b = np.asarray(task.coefficients)
    t = np.asarray(xs)[:, int(task.axis)] * float(task.frequency)
    np.testing.assert_allclose(prior.evaluate(task, xs), a * np.sin(t) + b * np.cos(t), rtol=1e-5)


def test_relu_network_weights_follow_garg_scales():
    prior = ReluNetwork(dim=4, hidden=50)
    tasks = draw_tasks(prior, 400, seed=11)
    assert_distribution(np.asarray(tasks.hidden_weights).ravel(), "norm")
    assert_distribution(np.asarray(tasks.output_weights).ravel() / math.sqrt(2 / 50), "norm")


@pytest.mark.parametrize("name", ["dense", "sinusoid", "relu"])
def test_observation_noise_is_gaussian_with_the_configured_std(name):
    prompts = sample_prompts(ZOO[name](3, 0.3), jr.key(12), 2_000, 5)
    assert_distribution(np.asarray(prompts.ys - prompts.fs).ravel() / 0.3, "norm")
