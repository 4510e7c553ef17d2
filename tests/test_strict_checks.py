"""The strict test-time checks are really on: a suite that silently ran without them would pass
shape bugs that these checks exist to catch."""

import warnings

import jax.numpy as jnp
import jax.random as jr
import pytest
from jaxtyping import TypeCheckError

from icl_theory.priors import DenseLinear


def test_jaxtyping_and_beartype_check_the_package_at_runtime():
    prior = DenseLinear(dim=3)
    task = prior.sample_task(jr.key(0), 3)
    with pytest.raises(TypeCheckError):
        prior.output_variance(jnp.ones((2, 3)))  # a batch where one query point is declared
    with pytest.raises(TypeCheckError):
        prior.evaluate(task, jnp.ones((4,)))  # xs must be (n_points, dim)


def test_rank_promotion_raises():
    with pytest.raises(ValueError, match="rank_promotion"):
        _ = jnp.ones((3,)) + jnp.ones((2, 3))


def test_warnings_are_errors():
    with pytest.raises(UserWarning):
        warnings.warn("a warning fails the test run", stacklevel=1)
