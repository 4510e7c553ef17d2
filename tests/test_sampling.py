"""Structure of sampled prompts: shapes, dtypes, determinism, masks, jit behaviour."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from priors_zoo import ZOO

from icl_theory import Curriculum, sample_prompts
from icl_theory.priors import (
    IsotropicGaussian,
    RandomOrthant,
    ScaledInputs,
    SkewedGaussian,
    SparseLinear,
    SubspaceGaussian,
)

# Small sets: every new shape is a compile (about a second on these machines).
DIMS = st.sampled_from([1, 5])
POINTS = st.sampled_from([1, 8])
BATCHES = st.sampled_from([1, 4])
SEEDS = st.integers(0, 2**31 - 1)
# For tests where each example may compile anew; the examples still cover the sets above.
FEW = settings(max_examples=4)


@pytest.mark.parametrize("name", sorted(ZOO))
@FEW
@given(dim=DIMS, n_points=POINTS, batch=BATCHES, seed=SEEDS)
def test_shapes_dtypes_and_determinism(name, dim, n_points, batch, seed):
    prior = ZOO[name](dim, 0.1)
    prompts = sample_prompts(prior, jr.key(seed), batch, n_points)
    assert prompts.xs.shape == (batch, n_points, dim)
    assert prompts.ys.shape == prompts.fs.shape == (batch, n_points)
    assert prompts.class_index.shape == (batch,)
    assert prompts.point_mask.shape == (batch, n_points)
    assert prompts.xs.dtype == prompts.ys.dtype == jnp.float32
    assert prompts.class_index.dtype == jnp.int32
    assert bool(jnp.all(jnp.isfinite(prompts.ys)))

    again = sample_prompts(prior, jr.key(seed), batch, n_points)
    for leaf, leaf_again in zip(jax.tree.leaves(prompts), jax.tree.leaves(again), strict=True):
        np.testing.assert_array_equal(leaf, leaf_again)

    other = sample_prompts(prior, jr.key(seed + 1), batch, n_points)
    assert not np.array_equal(prompts.xs, other.xs)
    assert not np.array_equal(prompts.ys, other.ys)


@pytest.mark.parametrize("name", sorted(ZOO))
def test_prompt_does_not_depend_on_batch_size_and_noise_free_means_exact(name):
    prior = ZOO[name](3, 0.0)
    small = sample_prompts(prior, jr.key(7), 2, 5)
    large = sample_prompts(prior, jr.key(7), 6, 5)
    np.testing.assert_array_equal(large.ys, large.fs)
    np.testing.assert_array_equal(small.xs, large.xs[:2])
    np.testing.assert_array_equal(small.ys, large.ys[:2])
    np.testing.assert_array_equal(small.class_index, large.class_index[:2])


@pytest.mark.parametrize(
    "inputs",
    [
        IsotropicGaussian(),
        SkewedGaussian(dim=4, seed=1),
        SubspaceGaussian(dim=4, seed=1),
        RandomOrthant(),
        ScaledInputs(IsotropicGaussian(), 2.0),
    ],
    ids=lambda d: type(d).__name__,
)
@pytest.mark.parametrize("name", ["dense", "mixture3"])
def test_every_input_distribution_pairs_with_every_prior(inputs, name):
    prompts = sample_prompts(ZOO[name](4, 0.0), jr.key(0), 3, 6, inputs=inputs)
    assert prompts.xs.shape == (3, 6, 4)
    assert bool(jnp.all(jnp.isfinite(prompts.ys)))


@pytest.mark.parametrize("name", sorted(ZOO))
@given(active_dims=st.integers(1, 6), active_points=st.integers(1, 7), seed=SEEDS)
def test_curriculum_masks_inactive_coordinates_and_points(name, active_dims, active_points, seed):
    prior = ZOO[name](6, 0.1)
    prompts = sample_prompts(
        prior, jr.key(seed), 8, 7, active_dims=active_dims, active_points=active_points
    )
    xs, ys, fs = (np.asarray(a) for a in (prompts.xs, prompts.ys, prompts.fs))
    assert np.all(xs[:, :, active_dims:] == 0.0)
    assert np.all(xs[:, active_points:, :] == 0.0)
    assert np.all(ys[:, active_points:] == 0.0) and np.all(fs[:, active_points:] == 0.0)
    np.testing.assert_array_equal(
        prompts.point_mask, np.broadcast_to(np.arange(7) < active_points, (8, 7))
    )
    # Active points keep their full input law: with probability 1 no active coordinate is zero.
    assert np.all(xs[:, :active_points, :active_dims] != 0.0)


@FEW
@given(dim=st.integers(2, 12), data=st.data(), seed=SEEDS)
def test_sparse_support_has_exactly_k_nonzeros_among_active_coordinates(dim, data, seed):
    active_dims = data.draw(st.integers(1, dim))
    k = data.draw(st.integers(1, active_dims))
    prior = SparseLinear(dim=dim, k=k)
    prompts = sample_prompts(prior, jr.key(seed), 64, 3, active_dims=active_dims)
    w = np.asarray(prompts.tasks.w)
    assert np.all(np.count_nonzero(w, axis=1) == k)
    assert np.all(w[:, active_dims:] == 0.0)


def test_curriculum_schedule_matches_garg():
    curriculum = Curriculum.garg(dim=20, n_points=41)
    steps = [0, 1999, 2000, 4000, 29_999, 30_000, 500_000]
    assert [int(curriculum.active_dims(s)) for s in steps] == [5, 5, 6, 7, 19, 20, 20]
    assert [int(curriculum.active_points(s)) for s in steps] == [11, 11, 13, 15, 39, 41, 41]
    constant = Curriculum.constant(dim=8, n_points=17)
    assert int(constant.active_dims(10**6)) == 8 and int(constant.active_points(0)) == 17


def test_traced_curriculum_counts_compile_once_and_match_static_counts():
    prior = ZOO["mixture"](5, 0.1)

    @eqx.debug.assert_max_traces(max_traces=1)
    def sample_at(step):
        curriculum = Curriculum(dims_start=2, dims_end=5, points_start=3, points_end=9, interval=10)
        return sample_prompts(
            prior,
            jr.key(0),
            4,
            9,
            active_dims=curriculum.active_dims(step),
            active_points=curriculum.active_points(step),
        )

    jitted = jax.jit(sample_at)
    for step, (dims, points) in {0: (2, 3), 10: (3, 5), 35: (5, 9), 99: (5, 9)}.items():
        traced = jitted(jnp.asarray(step))
        static = sample_prompts(prior, jr.key(0), 4, 9, active_dims=dims, active_points=points)
        np.testing.assert_allclose(traced.ys, static.ys, rtol=1e-6, atol=1e-6)
        np.testing.assert_array_equal(traced.point_mask, static.point_mask)
