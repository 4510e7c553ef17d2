"""Input distributions: the shifts of Garg et al. 2022 have the geometry they claim."""

import jax.random as jr
import numpy as np
from stats import assert_binomial, assert_mean_close

from icl_theory.priors import (
    IsotropicGaussian,
    RandomOrthant,
    ScaledInputs,
    SkewedGaussian,
    SubspaceGaussian,
)


def test_skewed_covariance_has_eigenvalues_proportional_to_inverse_squares():
    dim = 6
    shift = SkewedGaussian(dim=dim, seed=3)
    transform = np.asarray(shift.transform, dtype=np.float64)
    eigenvalues = np.sort(np.linalg.eigvalsh(transform.T @ transform))[::-1]
    expected = 1.0 / np.arange(1, dim + 1) ** 2
    np.testing.assert_allclose(eigenvalues, expected * dim / expected.sum(), rtol=1e-4)
    # and the samples follow that covariance: E[x x^T] = T^T T, entrywise within 5 stderr.
    xs = np.asarray(shift.sample(jr.key(0), 40_000, dim), dtype=np.float64)
    outer = (xs[:, :, None] * xs[:, None, :]).reshape(len(xs), -1)
    assert_mean_close(outer, (transform.T @ transform).ravel())


def test_subspace_inputs_span_half_the_dimensions_with_unchanged_scale():
    dim = 7
    xs = np.asarray(SubspaceGaussian(dim=dim, seed=1).sample(jr.key(1), 20_000, dim))
    singular = np.linalg.svd(xs, compute_uv=False)
    assert np.sum(singular > 1e-3 * singular[0]) == dim // 2
    assert_mean_close(np.sum(xs.astype(np.float64) ** 2, axis=1), float(dim))


def test_orthant_puts_every_point_of_a_prompt_in_one_random_orthant():
    dim = 5
    orthant = RandomOrthant()
    patterns = []
    for seed in range(400):
        xs = np.asarray(orthant.sample(jr.key(seed), 9, dim))
        signs = np.sign(xs)
        assert np.all(signs == signs[0])
        patterns.append(signs[0])
    positive = int(np.sum(np.asarray(patterns)[:, 0] > 0))
    assert_binomial(positive, 400, 0.5)


def test_scaled_inputs_multiply_the_base_draw():
    base = IsotropicGaussian()
    scaled = ScaledInputs(base, 3.0)
    np.testing.assert_allclose(
        scaled.sample(jr.key(2), 4, 3), 3.0 * base.sample(jr.key(2), 4, 3), rtol=1e-6
    )
