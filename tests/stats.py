"""Statistical helpers with stated error rates for sampler tests.

Every check is a test whose false-alarm probability, for a correct sampler, is stated at the call
site; seeds are fixed, so a passing check stays passing.
"""

import numpy as np
from scipy import stats


def assert_mean_close(samples: np.ndarray, expected: float | np.ndarray, z: float = 5.0) -> None:
    """The sample mean is within `z` standard errors of `expected` (per coordinate).

    For a correct sampler each coordinate fails with probability about 6e-7 at z = 5 (normal
    approximation to the mean, with the empirical standard deviation).
    """
    samples = np.asarray(samples, dtype=np.float64)
    mean = samples.mean(axis=0)
    stderr = samples.std(axis=0, ddof=1) / np.sqrt(samples.shape[0])
    gap = np.abs(mean - expected)
    assert np.all(gap <= z * stderr + 1e-12), (
        f"mean {mean} vs expected {expected}: gap {gap} > {z} x stderr {stderr}"
    )


def assert_same_distribution(a: np.ndarray, b: np.ndarray, alpha: float = 1e-4) -> None:
    """Two-sample Kolmogorov-Smirnov test; fails with probability `alpha` when `a` and `b` come
    from the same continuous law."""
    pvalue = float(stats.ks_2samp(np.asarray(a), np.asarray(b)).pvalue)  # pyright: ignore[reportAttributeAccessIssue]
    assert pvalue > alpha, f"KS two-sample p-value {pvalue:.2e} <= {alpha}"


def assert_distribution(samples: np.ndarray, cdf, alpha: float = 1e-4) -> None:
    """One-sample Kolmogorov-Smirnov test against `cdf`; false-alarm probability `alpha`."""
    result = stats.kstest(np.asarray(samples), cdf)
    assert result.pvalue > alpha, f"KS p-value {result.pvalue:.2e} <= {alpha}"


def assert_uniform_counts(counts: np.ndarray, alpha: float = 1e-4) -> None:
    """Chi-square goodness of fit of category counts to the uniform law; false-alarm `alpha`."""
    result = stats.chisquare(np.asarray(counts))
    assert result.pvalue > alpha, f"chi-square p-value {result.pvalue:.2e} <= {alpha}: {counts}"


def assert_binomial(count: int, trials: int, p: float, alpha: float = 1e-4) -> None:
    """Exact two-sided binomial test of `count` successes in `trials`; false-alarm `alpha`."""
    result = stats.binomtest(count, trials, p)
    assert result.pvalue > alpha, f"{count}/{trials} vs p={p}: binomial p-value {result.pvalue:.2e}"
