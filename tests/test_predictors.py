"""Predictors against ground truth: closed forms written plainly here, brute-force enumeration,
known limits, optimality certificates, and the protocol's structural properties."""

import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from predicting import run, sample64
from priors_zoo import EXTERNAL
from scipy import stats as scipy_stats

from icl_theory.predictors import (
    MixtureBayes,
    SparseBayes,
    bayes_predictor,
    class_posteriors,
    has_bayes_predictor,
    prefix_posteriors,
)
from icl_theory.predictors.baselines import (
    Averaging,
    Lasso,
    LeastSquares,
    NearestNeighbours,
    Ridge,
    ZeroPredictor,
)
from icl_theory.predictors.gaussian_process import GaussianProcessRBF
from icl_theory.priors import (
    ConvexCombination,
    DenseLinear,
    FinitePool,
    Mixture,
    Sinusoid,
    SparseLinear,
)

PRIORS = {
    "dense": DenseLinear(dim=4, tau=0.8, noise_std=0.3),
    "dense_noise_free": DenseLinear(dim=4),
    "sparse": SparseLinear(dim=4, k=2, noise_std=0.3),
    "sparse_noise_free": SparseLinear(dim=4, k=2),
    "mixture": Mixture((DenseLinear(dim=4, noise_std=0.2), SparseLinear(dim=4, k=1)), (0.4, 0.6)),
    "pool": FinitePool(DenseLinear(dim=4, noise_std=0.5), size=16, seed=1),
    "sinusoid": Sinusoid(dim=2, noise_std=0.2),
    "sinusoid_noise_free": Sinusoid(dim=2),
    "convex": ConvexCombination(DenseLinear(dim=2), Sinusoid(dim=2), alpha=0.4, noise_std=0.2),
    "linear_or_sinusoid_noise_free": Mixture((DenseLinear(dim=2), Sinusoid(dim=2))),
    # Priors registered outside the package, with and without noise, where they have one.
    **{
        f"{name}{suffix}": factory(3, noise)
        for name, factory in EXTERNAL.items()
        for suffix, noise in (("", 0.3), ("_noise_free", 0.0))
        if has_bayes_predictor(factory(3, noise))
    },
}
PREDICTORS = {
    **{f"bayes_{name}": bayes_predictor(prior) for name, prior in PRIORS.items()},
    "zero": ZeroPredictor(),
    "averaging": Averaging(),
    "least_squares": LeastSquares(),
    "ridge": Ridge(0.5),
    "lasso": Lasso(0.05, iterations=200),
    "knn": NearestNeighbours(3),
    "gaussian_process": GaussianProcessRBF(),
}


@pytest.mark.parametrize("name", sorted(PREDICTORS))
@settings(max_examples=5)
@given(seed=st.integers(0, 2**31 - 1), position=st.integers(0, 6))
def test_every_predictor_is_prefix_causal(name, seed, position):
    prior = PRIORS["mixture"] if not name.startswith("bayes") else PRIORS[name[len("bayes_") :]]
    xs, ys, _, _ = sample64(prior, seed % 1000, 1, 7)
    xs, ys = xs[0], ys[0]
    rng = np.random.default_rng(seed)
    xs2, ys2 = xs.copy(), ys.copy()
    xs2[position + 1 :] += rng.normal(size=xs2[position + 1 :].shape)
    ys2[position:] += rng.normal(size=ys2[position:].shape)
    before = run(PREDICTORS[name], xs[None], ys[None])[0]
    after = run(PREDICTORS[name], xs2[None], ys2[None])[0]
    np.testing.assert_allclose(after[: position + 1], before[: position + 1], rtol=1e-9, atol=1e-9)
    assert np.all(np.isfinite(before))


@pytest.mark.parametrize("name", sorted(PRIORS))
def test_bayes_predictions_are_invariant_to_permuting_the_context(name):
    xs, ys, _, _ = sample64(PRIORS[name], 3, 4, 8)
    permutation = np.r_[np.random.default_rng(0).permutation(6), 6, 7]
    base = run(bayes_predictor(PRIORS[name]), xs, ys)
    permuted = run(bayes_predictor(PRIORS[name]), xs[:, permutation], ys[:, permutation])
    np.testing.assert_allclose(permuted[:, 6], base[:, 6], rtol=1e-7, atol=1e-9)
    if name != "pool":  # a pool's prior mean is its members' mean function, not 0
        np.testing.assert_allclose(permuted[:, 0], 0.0)  # no context: the prior mean


def ridge_three_ways(x, y, query, tau, sigma):
    """Primal, dual and direct Gaussian conditioning, written plainly (float64)."""
    d = x.shape[1]
    lam = sigma**2 / tau**2
    primal = query @ np.linalg.solve(x.T @ x + lam * np.eye(d), x.T @ y)
    dual = query @ x.T @ np.linalg.solve(x @ x.T + lam * np.eye(len(y)), y)
    # Joint Gaussian of (f(query), y): condition with the Schur complement.
    cov_qy = tau**2 * query @ x.T
    cov_yy = tau**2 * x @ x.T + sigma**2 * np.eye(len(y))
    direct = cov_qy @ np.linalg.solve(cov_yy, y)
    return primal, dual, direct


def test_dense_bayes_is_ridge_in_primal_dual_and_conditioning_form():
    prior = DenseLinear(dim=5, tau=0.7, noise_std=0.4)
    xs, ys, _, _ = sample64(prior, 5, 3, 12)
    preds = run(bayes_predictor(prior), xs, ys)
    for b, i in itertools.product(range(3), range(1, 12)):
        for form in ridge_three_ways(xs[b, :i], ys[b, :i], xs[b, i], 0.7, 0.4):
            assert preds[b, i] == pytest.approx(form, rel=1e-9, abs=1e-10)
    ridge = run(Ridge(0.4**2 / 0.7**2), xs, ys)  # the same estimator with tau folded in
    np.testing.assert_allclose(ridge, preds, rtol=1e-4, atol=1e-4)


def test_dense_bayes_noise_free_limit_is_the_minimum_norm_interpolant():
    xs, ys, _, _ = sample64(DenseLinear(dim=6), 6, 8, 14)
    pinv = run(LeastSquares(), xs, ys)
    exact = run(bayes_predictor(DenseLinear(dim=6)), xs, ys)
    np.testing.assert_allclose(exact, pinv, rtol=1e-7, atol=1e-8)
    gaps = [
        np.max(np.abs(run(bayes_predictor(DenseLinear(dim=6, noise_std=s)), xs, ys) - pinv))
        for s in (1e-1, 1e-2, 1e-3)
    ]
    assert gaps[0] > gaps[1] > gaps[2] and gaps[2] < 1e-3  # converges as sigma -> 0


def test_least_squares_matches_numpy_lstsq_per_prefix():
    xs, ys, _, _ = sample64(DenseLinear(dim=4, noise_std=0.5), 7, 2, 9)
    preds = run(LeastSquares(), xs, ys)
    for b, i in itertools.product(range(2), range(1, 9)):
        w = np.linalg.lstsq(xs[b, :i], ys[b, :i], rcond=None)[0]
        assert preds[b, i] == pytest.approx(xs[b, i] @ w, rel=1e-8, abs=1e-10)


def brute_force_sparse(x, y, query, dim, k, tau, sigma):
    """Posterior mean under the k-sparse prior by explicit enumeration (plain numpy/scipy)."""
    log_weights, means = [], []
    for support in itertools.combinations(range(dim), k):
        xs_s = x[:, list(support)]
        cov = tau**2 * xs_s @ xs_s.T + sigma**2 * np.eye(len(y))
        log_weights.append(scipy_stats.multivariate_normal(np.zeros(len(y)), cov).logpdf(y))
        w = tau**2 * xs_s.T @ np.linalg.solve(cov, y)
        means.append(query[list(support)] @ w)
    weights = np.exp(np.array(log_weights) - np.max(log_weights))
    return float(np.sum(weights * np.array(means)) / np.sum(weights))


def test_sparse_bayes_agrees_with_brute_force_enumeration():
    prior = SparseLinear(dim=5, k=2, tau=1.2, noise_std=0.3)
    xs, ys, _, _ = sample64(prior, 8, 3, 8)
    preds = run(bayes_predictor(prior), xs, ys)
    for b, i in itertools.product(range(3), range(1, 8)):
        expected = brute_force_sparse(xs[b, :i], ys[b, :i], xs[b, i], 5, 2, 1.2, 0.3)
        assert preds[b, i] == pytest.approx(expected, rel=1e-8, abs=1e-10)


def test_sparse_with_k_equal_d_is_dense_and_support_weights_sum_to_one():
    xs, ys, _, _ = sample64(DenseLinear(dim=4, noise_std=0.2), 9, 3, 7)
    sparse = bayes_predictor(SparseLinear(dim=4, k=4, noise_std=0.2))
    dense = bayes_predictor(DenseLinear(dim=4, noise_std=0.2))
    np.testing.assert_allclose(run(sparse, xs, ys), run(dense, xs, ys), rtol=1e-10, atol=1e-12)
    with jax.enable_x64(True):
        sparse_bayes = SparseBayes(SparseLinear(dim=4, k=2, noise_std=0.2))
        mixed = sparse_bayes.support_posterior(jnp.asarray(xs[0]), jnp.asarray(ys[0]))
        np.testing.assert_allclose(np.sum(np.asarray(mixed.weights), axis=0), 1.0, rtol=1e-12)


@pytest.mark.parametrize(("dim", "k"), [(8, 2), (8, 3), (20, 2)])
def test_sparse_noise_free_recovery_is_exact_from_k_plus_one_points(dim, k):
    prior = SparseLinear(dim=dim, k=k)
    xs, ys, fs, _ = sample64(prior, 10, 32, k + 4)
    preds = run(bayes_predictor(prior), xs, ys)
    scale = np.sqrt(np.mean(fs**2))
    assert np.max(np.abs(preds[:, k + 1 :] - fs[:, k + 1 :])) < 1e-10 * scale
    # With only k points the support is not yet identified: not exact in general.
    assert np.mean(np.abs(preds[:, k] - fs[:, k])) > 1e-3 * scale


@pytest.mark.parametrize("k", [1, 2, 3])
def test_noise_free_sparse_evidence_of_dense_prompts_vanishes_from_k_plus_one_points(k):
    """Generic dense data contradicts every k-sparse support exactly from k + 1 points: the
    evidence `evaluate` reads to give that Bayes predictor no error there."""
    dim = 6
    xs, ys, _, _ = sample64(DenseLinear(dim=dim), 16, 8, dim + 2)
    predictor = SparseBayes(SparseLinear(dim=dim, k=k))
    log_density = np.asarray(prefix_posteriors(predictor, xs, ys).log_density)
    # Position i conditions on i points: any k points fit some k-sparse function.
    assert np.all(np.isfinite(log_density[:, : k + 1]))
    assert np.all(log_density[:, k + 1 :] == -np.inf)


def test_one_component_mixture_equals_the_component():
    component = SparseLinear(dim=4, k=2, noise_std=0.2)
    xs, ys, _, _ = sample64(component, 11, 3, 7)
    mixture = run(bayes_predictor(Mixture((component,))), xs, ys)
    np.testing.assert_allclose(mixture, run(bayes_predictor(component), xs, ys), rtol=1e-12)


def test_mixture_class_posterior_starts_at_weights_and_prediction_is_in_the_hull():
    prior = PRIORS["mixture"]
    assert isinstance(prior, Mixture)
    xs, ys, _, _ = sample64(prior, 12, 6, 9)
    predictor = MixtureBayes(prior)
    preds = run(predictor, xs, ys)
    components = np.stack([run(c, xs, ys) for c in predictor.components])
    assert np.all(preds >= components.min(axis=0) - 1e-12)
    assert np.all(preds <= components.max(axis=0) + 1e-12)
    weights = np.asarray(class_posteriors(predictor, xs, ys))
    np.testing.assert_allclose(weights[:, :, 0], np.broadcast_to(prior.weights, (6, 2)), rtol=1e-12)
    np.testing.assert_allclose(np.sum(weights, axis=1), 1.0, rtol=1e-12)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_noise_free_dense_versus_sparse_is_decided_at_k_plus_one_points(k):
    dim = 8
    prior = Mixture((DenseLinear(dim=dim), SparseLinear(dim=dim, k=k)))
    xs, ys, _, prompts = sample64(prior, 13, 64, dim)
    classes = np.asarray(prompts.class_index)
    predictor = MixtureBayes(prior)
    weights = np.asarray(class_posteriors(predictor, xs, ys))[:, 1]
    # Position i conditions on i points: from k + 1 points the sparse class is certain on sparse
    # prompts and excluded on dense ones; before, both keep mass.
    assert np.all(weights[classes == 1, k + 1 :] == 1.0)
    assert np.all(weights[classes == 0, k + 1 :] == 0.0)
    assert np.all((weights[:, 1 : k + 1] > 0.0) & (weights[:, 1 : k + 1] < 1.0))


def test_pool_bayes_is_the_softmax_over_members():
    prior = FinitePool(DenseLinear(dim=3, noise_std=0.5), size=5, seed=2)
    xs, ys, _, _ = sample64(prior, 14, 2, 6)
    preds = run(bayes_predictor(prior), xs, ys)
    with jax.enable_x64(True):
        w = np.asarray(prior.tasks.w, dtype=np.float64)
    for b, i in itertools.product(range(2), range(6)):
        log_lik = np.array(
            [np.sum(scipy_stats.norm.logpdf(ys[b, :i], xs[b, :i] @ m, 0.5)) for m in w]
        )
        probs = np.exp(log_lik - log_lik.max())
        probs /= probs.sum()
        assert preds[b, i] == pytest.approx(probs @ (w @ xs[b, i]), rel=1e-9, abs=1e-12)
    single = FinitePool(DenseLinear(dim=3), size=1, seed=3)
    xs, ys, fs, _ = sample64(single, 15, 2, 4)
    np.testing.assert_allclose(run(bayes_predictor(single), xs, ys), fs, rtol=1e-6, atol=1e-6)


def test_lasso_solution_satisfies_the_optimality_conditions():
    xs, ys, _, _ = sample64(SparseLinear(dim=6, k=2, noise_std=0.1), 16, 1, 10)
    x, y = jnp.asarray(xs[0, :9]), jnp.asarray(ys[0, :9])
    lasso = Lasso(0.05, iterations=5000)
    with jax.enable_x64(True):
        w = np.asarray(lasso.solve(x, y, jnp.asarray(9.0)))
    gradient = np.asarray(x).T @ (np.asarray(x) @ w - np.asarray(y)) / 9
    active = np.abs(w) > 1e-8
    np.testing.assert_allclose(gradient[active], -0.05 * np.sign(w[active]), atol=1e-6)
    assert np.all(np.abs(gradient[~active]) <= 0.05 + 1e-6)


def test_knn_and_averaging_match_plain_loops():
    xs, ys, _, _ = sample64(DenseLinear(dim=3), 17, 1, 8)
    x, y = xs[0], ys[0]
    knn = run(NearestNeighbours(3), xs, ys)[0]
    averaging = run(Averaging(), xs, ys)[0]
    for i in range(8):
        if i == 0:
            assert knn[0] == 0.0 and averaging[0] == 0.0
            continue
        nearest = np.argsort(np.sum((x[:i] - x[i]) ** 2, axis=1))[: min(3, i)]
        assert knn[i] == pytest.approx(np.mean(y[nearest]), rel=1e-6)
        assert averaging[i] == pytest.approx(x[i] @ np.mean(y[:i, None] * x[:i], axis=0), rel=1e-5)


@pytest.mark.parametrize("name", ["dense", "sparse"])
def test_bayes_has_the_lowest_error_on_its_own_prior(name):
    """Statistical check: paired over 2,000 prompts, the Bayes predictor's mean squared error
    is no larger than each competitor's, up to 3 standard errors of the paired difference."""
    prior = PRIORS[name]
    xs, ys, fs, _ = sample64(prior, 18, 2_000, 9)
    errors = {
        "bayes": (run(bayes_predictor(prior), xs, ys) - fs) ** 2,
        "least_squares": (run(LeastSquares(), xs, ys) - fs) ** 2,
        "ridge_wrong_lambda": (run(Ridge(5.0), xs, ys) - fs) ** 2,
        "lasso": (run(Lasso(0.1, iterations=300), xs, ys) - fs) ** 2,
    }
    bayes = errors.pop("bayes").mean(axis=1)
    for other_name, other in errors.items():
        difference = other.mean(axis=1) - bayes
        stderr = difference.std(ddof=1) / math.sqrt(len(difference))
        assert difference.mean() >= -3 * stderr, other_name
