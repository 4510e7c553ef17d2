"""The RBF Gaussian-process baseline against a plain NumPy fit: for each prefix, every grid
pair's profiled marginal likelihood by explicit linear algebra, the best pair's predictive
mean."""

import numpy as np
from predicting import run

from icl_theory.predictors.gaussian_process import GaussianProcessRBF


def numpy_gaussian_process(xs, ys, lengthscales, noises):
    preds = [0.0]
    for i in range(1, len(ys)):
        best = (-np.inf, 0.0)
        for ell in lengthscales:
            for noise in noises:
                sq = np.sum((xs[:, None] - xs[None]) ** 2, axis=-1)
                kernel = np.exp(-0.5 * sq / ell**2)
                cov = kernel[:i, :i] + noise**2 * np.eye(i)
                solved = np.linalg.solve(cov, ys[:i])
                signal = ys[:i] @ solved / i
                score = -0.5 * (i * np.log(signal) + np.linalg.slogdet(cov)[1])
                if score > best[0]:
                    best = (score, kernel[i, :i] @ solved)
        preds.append(best[1])
    return np.array(preds)


def test_the_gaussian_process_is_the_marginal_likelihood_fit_on_each_prefix():
    rng = np.random.default_rng(0)
    xs = rng.normal(size=(3, 12, 2))
    ys = np.sin(1.5 * xs[..., 0]) + 0.3 * xs[..., 1] + 0.05 * rng.normal(size=(3, 12))
    lengthscales, noises = (0.3, 1.0, 3.0), (0.01, 0.1)
    preds = run(GaussianProcessRBF(lengthscales, noises), xs, ys)
    for b in range(3):
        expected = numpy_gaussian_process(xs[b], ys[b], lengthscales, noises)
        # With one point every pair has the same profiled likelihood (-log |y_0|), so which
        # one wins is round-off: from two points on the fit is decided.
        np.testing.assert_allclose(preds[b, 2:], expected[2:], rtol=1e-8, atol=1e-10)


def test_the_gaussian_process_interpolates_a_smooth_function():
    """On a smooth function with 30 points in 1-D its error is far below the zero predictor's."""
    rng = np.random.default_rng(1)
    xs = rng.uniform(-2, 2, size=(8, 31, 1))
    fs = np.sin(1.2 * xs[..., 0])
    preds = run(GaussianProcessRBF(), xs, fs)
    assert np.mean((preds[:, -5:] - fs[:, -5:]) ** 2) < 1e-3 * np.mean(fs[:, -5:] ** 2)
