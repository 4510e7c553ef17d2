"""Sinusoid and linear + sinusoid Bayes predictors against a plain NumPy quadrature (direct
Gaussian conditioning on a fine frequency grid), the noise-free limit against small noise, and
the class decisions that the noise-free limit implies."""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from predicting import run, sample64

from icl_theory.predictors import ConvexBayes, SinusoidBayes, bayes_predictor, class_posteriors
from icl_theory.predictors.adaptive import TOLERANCE, adaptive_posterior
from icl_theory.predictors.bayes import DenseBayes, MixtureBayes
from icl_theory.predictors.gaussian import gaussian_linear_posterior
from icl_theory.priors import ConvexCombination, DenseLinear, Mixture, Sinusoid
from icl_theory.priors.sinusoid import sinusoid_features as sinusoid_features_jax


def brute_force(features, prior_std, noise, xs, ys, low, high, grid):
    """Posterior predictive mean and log evidence of `y_<i` at each position, for one prompt,
    by the trapezoid rule over `omega` and explicit Gaussian conditioning at each node; the
    axis (for features that depend on it) is summed by the caller."""
    omegas = np.linspace(low, high, grid)
    trapezoid = np.full(grid, (high - low) / (grid - 1))
    trapezoid[[0, -1]] /= 2
    log_weight = np.log(trapezoid / (high - low))
    return _conditioned(features, prior_std, noise, xs, ys, omegas, log_weight)


def gauss_legendre_reference(features, prior_std, noise, xs, ys, low, high, panels=1500):
    """The same posterior as `brute_force`, with the frequency integrated by composite
    Gauss-Legendre (`panels` equal panels of 20 nodes): converged to float64 round-off wherever
    the posterior over `omega` is wider than a few panel widths (`(high - low) / panels`).
    Shares no code with the package's adaptive rule."""
    unit_nodes, unit_weights = np.polynomial.legendre.leggauss(20)
    edges = np.linspace(low, high, panels + 1)
    half = 0.5 * np.diff(edges)[:, None]
    omegas = ((edges[:-1, None] + half) + half * unit_nodes).ravel()
    log_weight = np.log((half * unit_weights).ravel() / (high - low))
    return _conditioned(features, prior_std, noise, xs, ys, omegas, log_weight)


def _conditioned(features, prior_std, noise, xs, ys, omegas, log_weight):
    grid = len(omegas)
    phi = np.stack([features(xs, w) for w in omegas])  # (grid, n, p)
    scaled = phi * prior_std
    preds, log_evidence = [0.0], [0.0]
    for i in range(1, len(ys)):
        cov = scaled[:, :i] @ scaled[:, :i].transpose(0, 2, 1) + noise**2 * np.eye(i)
        cross = np.einsum("gp,gip->gi", scaled[:, i], scaled[:, :i])
        solved = np.linalg.solve(cov, np.broadcast_to(ys[:i, None], (grid, i, 1)))[..., 0]
        mean = np.einsum("gi,gi->g", cross, solved)
        _, log_det = np.linalg.slogdet(cov)
        log_lik = -0.5 * (i * np.log(2 * np.pi) + log_det + solved @ ys[:i])
        scores = log_weight + log_lik
        top = scores.max()
        weights = np.exp(scores - top)
        preds.append(weights @ mean / weights.sum())
        log_evidence.append(top + np.log(weights.sum()))
    return np.array(preds), np.array(log_evidence)


def sum_over_axes(reference, dim):
    """A per-axis reference (the sinusoid along axis `j`) summed over the axes with the
    uniform prior 1 / dim: the posterior mean and evidence of the whole class."""
    means, log_evidences = zip(*(reference(j) for j in range(dim)), strict=True)
    log_evidences = np.stack(log_evidences) - np.log(dim)
    top = log_evidences.max(axis=0)
    weights = np.exp(log_evidences - top)
    mean = np.sum(weights * np.stack(means), axis=0) / weights.sum(axis=0)
    return mean, top + np.log(weights.sum(axis=0))


def out_of_band_prompts(dim, n_points, noise, seed, frequencies=(3.0, 4.0, 6.0)):
    """Prompts from sinusoids at frequencies outside the band [0.5, 2] (the frequency
    extrapolation experiment), where the posterior over `omega` piles up at the band's edge."""
    rng = np.random.default_rng(seed)
    xs = rng.normal(size=(len(frequencies), n_points, dim))
    coefficients = rng.normal(size=(len(frequencies), 2))
    phase = np.asarray(frequencies)[:, None] * xs[:, :, 0]
    fs = coefficients[:, :1] * np.sin(phase) + coefficients[:, 1:] * np.cos(phase)
    return xs, fs + noise * rng.normal(size=fs.shape)


# The predictive mean at the query, from the adaptive rule; an mpmath reference (30 digits,
# tanh-sinh on panels graded towards the edge at 2) gives -2.14118637648062.
EDGE_EXAMPLE = {
    "xs": [0.623, 1.947, 0.032, -1.814],
    "ys": [-1.046, 1.851, 1.668, 0.0],
    "mean": -2.14118637648062,
}


def test_an_out_of_band_prompt_matches_a_30_digit_reference():
    """Noise 0.1, band [0.5, 2]: the data prefer a frequency above the band, so the posterior
    over `omega` sits within about 0.002 of the edge; a 1,024-node midpoint rule was off by
    4e-4 here."""
    prior = Sinusoid(dim=1, noise_std=0.1)
    xs = np.asarray(EDGE_EXAMPLE["xs"])[None, :, None]
    ys = np.asarray(EDGE_EXAMPLE["ys"])[None]
    preds = run(SinusoidBayes(prior), xs, ys)
    assert abs(preds[0, 3] - EDGE_EXAMPLE["mean"]) < 1e-9


@pytest.mark.slow  # mpmath at 25 digits: a few seconds of pure Python
def test_the_edge_example_reference_is_what_mpmath_computes():
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 25
    xs = [mpmath.mpf(repr(x)) for x in EDGE_EXAMPLE["xs"]]
    ys = [mpmath.mpf(repr(y)) for y in EDGE_EXAMPLE["ys"][:3]]
    noise = mpmath.mpf("0.1")

    def density_and_mean(omega):
        kernel = mpmath.matrix(3, 3)
        for i in range(3):
            for j in range(3):
                kernel[i, j] = mpmath.cos(omega * (xs[i] - xs[j])) + (noise**2 if i == j else 0)
        cross = mpmath.matrix([mpmath.cos(omega * (xs[3] - x)) for x in xs[:3]])
        solved = mpmath.lu_solve(kernel, mpmath.matrix(ys))
        density = mpmath.exp(-0.5 * (mpmath.matrix(ys).T * solved)[0])
        return density / mpmath.sqrt(mpmath.det(kernel)), (cross.T * solved)[0]

    # Panels graded towards the edge at 2, where the posterior concentrates.
    edge = [2 - c * mpmath.mpf(10) ** -k for k in range(1, 8) for c in (1, 2, 5)]
    points = sorted(set(mpmath.linspace(0.5, 2, 31)) | set(edge))
    evidence = mpmath.quad(lambda w: density_and_mean(w)[0], points)
    weighted = mpmath.quad(lambda w: density_and_mean(w)[0] * density_and_mean(w)[1], points)
    assert abs(float(weighted / evidence) - EDGE_EXAMPLE["mean"]) < 1e-12


@pytest.mark.parametrize("noise", [0.1, 0.0])
@pytest.mark.parametrize("dim", [1, pytest.param(2, marks=pytest.mark.slow)])
def test_sinusoid_is_exact_on_out_of_band_prompts(dim, noise):
    """Frequencies 3, 4 and 6 against the band [0.5, 2]: the mean and the evidence at every
    position the quadrature decides (all of them with noise; the first two noise-free, after
    which the roots decide) agree with an independent rule to 1e-9."""
    prior = Sinusoid(dim=dim, noise_std=noise)
    xs, ys = out_of_band_prompts(dim, 12, noise, seed=dim)
    exact = posteriors(SinusoidBayes(prior), xs, ys)
    checked = slice(None) if noise else slice(0, 3)
    if not noise:  # the reference conditions on the prefixes the quadrature decides
        xs, ys = xs[:, :3], ys[:, :3]
    for b in range(len(xs)):
        mean, log_evidence = sum_over_axes(
            lambda j, b=b: gauss_legendre_reference(
                lambda x, w, j=j: sinusoid_features(x[:, j : j + 1], w),
                1.0,
                noise,
                xs[b],
                ys[b],
                0.5,
                2.0,
            ),
            dim,
        )
        np.testing.assert_allclose(np.asarray(exact.mean[b])[checked], mean[checked], atol=1e-9)
        np.testing.assert_allclose(
            np.asarray(exact.log_density[b])[checked], log_evidence[checked], atol=1e-9
        )


@pytest.mark.parametrize("dim", [1, pytest.param(2, marks=pytest.mark.slow)])
def test_convex_oracle_is_exact_on_out_of_band_prompts(dim):
    prior = ConvexCombination(DenseLinear(dim=dim), Sinusoid(dim=dim), alpha=0.5, noise_std=0.1)
    xs, ys = out_of_band_prompts(dim, 12, 0.0, seed=10 + dim)
    ys = ys + 0.5 * xs.sum(axis=2)  # a linear part as well
    exact = posteriors(ConvexBayes(prior), xs, ys)
    prior_std = np.ones(dim + 2)
    for b in range(len(xs)):
        mean, log_evidence = sum_over_axes(
            lambda j, b=b: gauss_legendre_reference(
                lambda x, w, j=j: np.concatenate(
                    [0.5 * x, 0.5 * sinusoid_features(x[:, j : j + 1], w)], axis=1
                ),
                prior_std,
                0.1,
                xs[b],
                ys[b],
                0.5,
                2.0,
            ),
            dim,
        )
        np.testing.assert_allclose(np.asarray(exact.mean[b]), mean, atol=1e-9)
        np.testing.assert_allclose(np.asarray(exact.log_density[b]), log_evidence, atol=1e-9)


@pytest.mark.slow  # a third compilation of the frequency integral
def test_a_mixture_with_a_sinusoid_class_is_exact_out_of_band():
    """The class posterior of linear vs sinusoid rests on the sinusoid's evidence: an error in
    the frequency integral would move the mixture's prediction."""
    noise = 0.1
    prior = Mixture((DenseLinear(dim=1, noise_std=noise), Sinusoid(dim=1, noise_std=noise)))
    xs, ys = out_of_band_prompts(1, 10, noise, seed=20)
    preds = run(bayes_predictor(prior), xs, ys)
    for b in range(len(xs)):
        sin_mean, sin_evidence = gauss_legendre_reference(
            sinusoid_features, 1.0, noise, xs[b], ys[b], 0.5, 2.0
        )
        lin_mean, lin_evidence = _conditioned(
            lambda x, w: x, 1.0, noise, xs[b], ys[b], np.zeros(1), np.zeros(1)
        )
        log_weights = np.stack([lin_evidence, sin_evidence]) + np.log(0.5)
        weights = np.exp(log_weights - log_weights.max(axis=0))
        expected = (weights[0] * lin_mean + weights[1] * sin_mean) / weights.sum(axis=0)
        np.testing.assert_allclose(preds[b], expected, atol=1e-9)


def sinusoid_features(xs, omega):
    return np.stack([np.sin(omega * xs[:, 0]), np.cos(omega * xs[:, 0])], axis=1)


def posteriors(predictor, xs, ys):
    with jax.enable_x64(True):
        return _batched_posterior(predictor, xs, ys)


@eqx.filter_jit
def _batched_posterior(predictor, xs, ys):
    return jax.vmap(lambda x, y: predictor.posterior(x, y))(xs, ys)


def test_noisy_sinusoid_matches_brute_force_quadrature():
    prior = Sinusoid(dim=1, freq_low=0.5, freq_high=2.0, amplitude_std=1.3, noise_std=0.2)
    xs, ys, _, _ = sample64(prior, 21, 3, 7)
    exact = posteriors(SinusoidBayes(prior), xs, ys)
    for b in range(3):
        preds, log_evidence = gauss_legendre_reference(
            sinusoid_features, 1.3, 0.2, xs[b], ys[b], 0.5, 2.0
        )
        np.testing.assert_allclose(np.asarray(exact.mean[b]), preds, atol=1e-9)
        np.testing.assert_allclose(np.asarray(exact.log_density[b]), log_evidence, atol=1e-9)


@pytest.mark.slow  # a long statistical cross-check (CI runs -m slow)
def test_noise_free_limit_matches_vanishing_noise_at_the_first_root_position():
    """Position 3 is the first that the roots of r(omega) decide: its prediction and the
    density of y_<3 must be the sigma -> 0 limit of the noisy ones (here sigma = 1e-5)."""
    prior = Sinusoid(dim=1, freq_low=0.9, freq_high=1.4)
    xs, ys, _, _ = sample64(prior, 23, 4, 4)
    exact = posteriors(SinusoidBayes(prior), xs, ys)
    for b in range(4):
        # Grid spacing 4e-6, below the posterior width of omega at this noise (about 1e-5).
        preds, log_evidence = brute_force(
            sinusoid_features, 1.0, 1e-5, xs[b], ys[b], 0.9, 1.4, 125_001
        )
        assert float(exact.mean[b, 3]) == pytest.approx(preds[3], rel=1e-3, abs=1e-4)
        assert int(exact.order[b, 3]) == 0
        assert float(exact.log_density[b, 3]) == pytest.approx(log_evidence[3], abs=1e-3)


@pytest.mark.parametrize("dim", [1, 3])
def test_noise_free_sinusoid_is_recovered_exactly_from_four_points(dim):
    prior = Sinusoid(dim=dim)
    xs, ys, fs, _ = sample64(prior, 24, 64, 10)
    preds = run(SinusoidBayes(prior), xs, ys)
    # Three unknowns (omega, a, b): four points pin the function (axis included, generically).
    assert np.max(np.abs(preds[:, 4:] - fs[:, 4:])) < 1e-8
    assert np.mean(np.abs(preds[:, 2] - fs[:, 2])) > 1e-2


def test_single_frequency_sinusoid_is_two_feature_ridge():
    prior = Sinusoid(dim=1, freq_low=1.5, freq_high=1.5, noise_std=0.3)
    xs, ys, _, _ = sample64(prior, 25, 2, 6)
    preds = run(SinusoidBayes(prior), xs, ys)
    for b in range(2):
        phi = sinusoid_features(xs[b], 1.5)
        for i in range(1, 6):
            cov = phi[:i] @ phi[:i].T + 0.09 * np.eye(i)
            expected = phi[i] @ phi[:i].T @ np.linalg.solve(cov, ys[b, :i])
            assert preds[b, i] == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("true_class", [0, 1])
def test_noise_free_linear_versus_sinusoid_is_decided_at_the_second_point(true_class):
    """In one dimension a line is fixed by one point and a sinusoid is not: the second point
    confirms the line (order 1) or contradicts it, so the class posterior is exact from
    position 2, whatever the densities."""
    prior = Mixture((DenseLinear(dim=1), Sinusoid(dim=1)))
    components = prior.components
    xs, ys, _, _ = sample64(components[true_class], 26, 32, 8)
    weights = np.asarray(class_posteriors(MixtureBayes(prior), xs, ys))
    assert np.all(weights[:, true_class, 2:] == 1.0)
    assert np.all((weights[:, 0, 1] > 0.0) & (weights[:, 0, 1] < 1.0))


def convex_features(alpha):
    def features(xs, omega):
        return np.concatenate([alpha * xs, (1 - alpha) * sinusoid_features(xs, omega)], axis=1)

    return features


def test_noisy_convex_oracle_matches_brute_force_quadrature():
    linear, sinusoid = DenseLinear(dim=1, tau=0.8), Sinusoid(dim=1, amplitude_std=1.2)
    prior = ConvexCombination(linear, sinusoid, alpha=0.3, noise_std=0.2)
    xs, ys, _, _ = sample64(prior, 27, 2, 7)
    exact = posteriors(ConvexBayes(prior), xs, ys)
    prior_std = np.array([0.8, 1.2, 1.2])
    for b in range(2):
        preds, log_evidence = gauss_legendre_reference(
            convex_features(0.3), prior_std, 0.2, xs[b], ys[b], 0.5, 2.0
        )
        np.testing.assert_allclose(np.asarray(exact.mean[b]), preds, atol=1e-9)
        np.testing.assert_allclose(np.asarray(exact.log_density[b]), log_evidence, atol=1e-9)
    # The same class written sinusoid-first is the same predictor.
    swapped = ConvexCombination(sinusoid, linear, alpha=0.7, noise_std=0.2)
    np.testing.assert_allclose(run(bayes_predictor(swapped), xs, ys), exact.mean, rtol=1e-9)


@pytest.mark.parametrize("dim", [1, 2])
def test_noise_free_convex_oracle_is_exact_after_dim_plus_three_points(dim):
    prior = ConvexCombination(DenseLinear(dim=dim), Sinusoid(dim=dim), alpha=0.5)
    xs, ys, fs, _ = sample64(prior, 28, 32, dim + 7)
    preds = run(bayes_predictor(prior), xs, ys)
    assert np.max(np.abs(preds[:, dim + 4 :] - fs[:, dim + 4 :])) < 1e-8


def test_convex_end_points_are_the_single_classes():
    linear, sinusoid = DenseLinear(dim=2), Sinusoid(dim=2)
    assert isinstance(bayes_predictor(ConvexCombination(linear, sinusoid, 1.0)), DenseBayes)
    assert isinstance(bayes_predictor(ConvexCombination(linear, sinusoid, 0.0)), SinusoidBayes)
    with pytest.raises(ValueError, match=r"ConvexBayes\.prior\.alpha"):
        ConvexBayes(ConvexCombination(linear, sinusoid, 1.0))
    # Other pairs have no closed form here: none is registered, and the message says which.
    with pytest.raises(ValueError, match=r"ConvexCombination\(DenseLinear, DenseLinear"):
        bayes_predictor(ConvexCombination(linear, DenseLinear(dim=2), 0.5))
    with pytest.raises(ValueError, match="DenseLinear with Sinusoid"):
        ConvexBayes(ConvexCombination(linear, DenseLinear(dim=2), 0.5))


@pytest.mark.slow
def test_oracle_beats_the_pretraining_mixture_on_combinations():
    """Statistical check on 1,000 paired prompts at alpha = 0.5: the oracle's error is no larger
    than the pretraining-mixture Bayes predictor's, up to 3 standard errors; the mixture, having
    no mass on combinations, is clearly worse once the context is long."""
    noise = 0.1
    linear, sinusoid = DenseLinear(dim=1, noise_std=noise), Sinusoid(dim=1, noise_std=noise)
    combined = ConvexCombination(linear, sinusoid, alpha=0.5, noise_std=noise)
    xs, ys, fs, _ = sample64(combined, 29, 1_000, 10)
    oracle = ((run(bayes_predictor(combined), xs, ys) - fs) ** 2)[:, 1:].mean(axis=1)
    mixture_bayes = bayes_predictor(Mixture((linear, sinusoid)))
    pretrained = ((run(mixture_bayes, xs, ys) - fs) ** 2)[:, 1:].mean(axis=1)
    difference = pretrained - oracle
    stderr = difference.std(ddof=1) / math.sqrt(len(difference))
    assert difference.mean() >= -3 * stderr
    assert difference.mean() > 5 * stderr


def test_the_refinement_meets_its_tolerance_within_the_panel_budget_at_the_edge():
    """The error estimate the adaptive rule returns is below its tolerance on the out-of-band
    prompts (frequency 6, 12 points, noise 0.1), not merely stopped by the budget."""
    xs, ys = out_of_band_prompts(1, 12, 0.1, seed=1)
    with jax.enable_x64(True):
        for b in range(len(xs)):
            coordinate, data = jnp.asarray(xs[b, :, 0]), jnp.asarray(ys[b])
            _, error = adaptive_posterior(
                lambda w, c=coordinate, y=data: gaussian_linear_posterior(
                    sinusoid_features_jax(c, w), jnp.ones(2), 0.1, y
                ),
                0.5,
                2.0,
                jnp.asarray(1.0),
                jnp.ones(12, bool),
            )
            assert float(error) <= TOLERANCE
