"""Helpers shared by the predictor tests: float64 prompts and batched predictions as NumPy."""

import jax
import jax.random as jr
import numpy as np

from icl_theory import sample_prompts
from icl_theory.predictors import predict


def sample64(prior, seed, batch, n_points):
    """Prompts drawn in float64, so noise-free identities hold to float64 round-off."""
    with jax.enable_x64(True):
        prompts = sample_prompts(prior, jr.key(seed), batch, n_points)
        return np.asarray(prompts.xs), np.asarray(prompts.ys), np.asarray(prompts.fs), prompts


def run(predictor, xs, ys):
    return np.asarray(predict(predictor, xs, ys))
