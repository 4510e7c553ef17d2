"""Data rounded to float32 cannot reach an exact Bayes predictor unnoticed; the documented path
(prompts drawn in float64) gives exact posteriors."""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

from icl_theory import sample_prompts
from icl_theory.predictors import (
    bayes_predictor,
    class_posteriors,
    predict,
    prefix_posteriors,
)
from icl_theory.predictors.base import predict_where_defined
from icl_theory.predictors.baselines import LeastSquares
from icl_theory.priors import DenseLinear, Mixture, SparseLinear

README_PRIOR = Mixture((DenseLinear(dim=8), SparseLinear(dim=8, k=2)), weights=(0.5, 0.5))


@pytest.mark.parametrize(
    "entry", [predict, class_posteriors, prefix_posteriors, predict_where_defined]
)
def test_float32_prompts_are_refused_by_every_exact_entry_point(entry):
    prompts = sample_prompts(README_PRIOR, jr.key(0), 4, 9)
    assert prompts.xs.dtype == jnp.float32
    with pytest.raises(
        ValueError, match=r"xs has dtype float32: MixtureBayes .*dtype=jnp\.float64"
    ):
        entry(bayes_predictor(README_PRIOR), prompts.xs, prompts.ys)
    with pytest.raises(ValueError, match="ys has dtype float32"):
        entry(bayes_predictor(README_PRIOR), np.asarray(prompts.xs, np.float64), prompts.ys)


def test_baselines_take_float32_data():
    """Only the exact predictors refuse: a baseline is not claimed exact."""
    prompts = sample_prompts(README_PRIOR, jr.key(0), 4, 9)
    assert np.all(np.isfinite(np.asarray(predict(LeastSquares(), prompts.xs, prompts.ys))))


def test_float64_sampling_is_deterministic_and_keeps_its_dtype():
    """A float64 draw is another draw than the float32 one (x64 mode consumes the random bits
    differently), deterministic in its key, and noise-free prompts fit their function exactly."""
    high = sample_prompts(README_PRIOR, jr.key(3), 16, 9, dtype=jnp.float64)
    again = sample_prompts(README_PRIOR, jr.key(3), 16, 9, dtype=jnp.float64)
    assert high.xs.dtype == jnp.float64 and high.ys.dtype == jnp.float64
    np.testing.assert_array_equal(high.xs, again.xs)
    np.testing.assert_array_equal(high.ys, high.fs)
    with jax.enable_x64(True):  # and float32 can be asked for while x64 is on
        low = sample_prompts(README_PRIOR, jr.key(3), 2, 3, dtype=jnp.float32)
        assert low.xs.dtype == jnp.float32
    with pytest.raises(ValueError, match=r"sample_prompts\.dtype"):
        sample_prompts(README_PRIOR, jr.key(3), 2, 3, dtype=jnp.int32)


def test_the_readme_snippet_gives_exact_class_posteriors():
    """The README's prior (d = 8, 2-of-8 sparse, noise-free), its snippet's prompts: from k + 1
    = 3 examples the true class has posterior 1 (a sparse prompt is identified once it fits
    with k + 1 points, a dense one once it contradicts every support), and from d + 1 = 9 the
    Bayes error is zero."""
    prompts = sample_prompts(README_PRIOR, jr.key(0), batch=64, n_points=17, dtype=jnp.float64)
    bayes = bayes_predictor(README_PRIOR)
    weights = np.asarray(class_posteriors(bayes, prompts.xs, prompts.ys))
    index = np.asarray(prompts.class_index)[:, None, None]
    true_class = np.take_along_axis(weights, index, axis=1)[:, 0]
    assert np.all(true_class[:, 3:] > 1 - 1e-12)
    errors = (np.asarray(predict(bayes, prompts.xs, prompts.ys)) - np.asarray(prompts.fs)) ** 2
    assert np.max(errors[:, 9:]) < 1e-16
