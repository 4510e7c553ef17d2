"""The NUTS predictor against the closed forms (x64, small problems) and, for ReLU networks, which
have no closed form, against importance sampling from the prior written plainly in NumPy.

Tolerance: `|nuts - reference| <= Z * stderr`, where the standard error comes from the spread of
16 independent chains (a t-statistic with 15 degrees of freedom: P(|t| > 5.5) is about 1e-4 per
comparison, so about 0.5% for the 28 comparisons below), plus 1e-3 for the warm-up bias.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from predicting import run, sample64

from icl_theory.predictors import NoBayesPredictor, bayes_predictor, find_bayes_predictor
from icl_theory.predictors.nuts import NutsPredictor
from icl_theory.priors import (
    ConvexCombination,
    DenseLinear,
    Mixture,
    ReluNetwork,
    Sinusoid,
    SparseLinear,
)

Z = 5.5
CHAINS = 16


def nuts_estimate(predictor, xs, ys):
    with jax.enable_x64(True):
        mean, stderr = _batched_estimate(predictor, jnp.asarray(xs), jnp.asarray(ys))
    return np.asarray(mean), np.asarray(stderr)


@eqx.filter_jit
def _batched_estimate(predictor, xs, ys):
    return jax.vmap(lambda x, y: predictor.estimate(x, y))(xs, ys)


CLOSED_FORMS = {
    "dense": DenseLinear(dim=2, tau=0.8, noise_std=0.4),
    # Discrete latents marginalised by enumeration: 3 supports; 2 classes x 2 supports.
    "sparse": SparseLinear(dim=3, k=1, noise_std=0.3),
    # Noise high enough that the sparse supports' modes overlap: NUTS does not jump between
    # well-separated modes, a limit of the sampler, not of the enumeration (docs/bayes.md).
    "mixture": Mixture(
        (DenseLinear(dim=2, noise_std=0.6), SparseLinear(dim=2, k=1, noise_std=0.6)), (0.3, 0.7)
    ),
    "sinusoid": Sinusoid(dim=1, freq_low=1.0, freq_high=1.5, noise_std=0.3),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CLOSED_FORMS))
def test_nuts_agrees_with_the_closed_form(name):
    prior = CLOSED_FORMS[name]
    xs, ys, _, _ = sample64(prior, 31, 1, 6)
    nuts = NutsPredictor(prior, num_warmup=300, num_samples=600, chains=CHAINS)
    mean, stderr = nuts_estimate(nuts, xs, ys)
    exact = run(bayes_predictor(prior), xs, ys)
    assert np.all(stderr > 0)
    np.testing.assert_array_less(np.abs(mean - exact), Z * stderr + 1e-3)


def importance_sampling(prior, xs, ys, draws, seed):
    """Posterior predictive means by self-normalised importance sampling from the ReLU prior,
    with the delta-method standard error."""
    rng = np.random.default_rng(seed)
    hidden_weights = rng.normal(size=(draws, prior.hidden, prior.dim))
    output_weights = prior.output_scale * rng.normal(size=(draws, prior.hidden))
    fs = np.einsum(
        "sh,snh->sn", output_weights, np.maximum(xs @ hidden_weights.transpose(0, 2, 1), 0)
    )
    means, errors = [], []
    for i in range(len(ys)):
        log_w = -0.5 * np.sum((ys[:i] - fs[:, :i]) ** 2, axis=1) / prior.noise_std**2
        w = np.exp(log_w - log_w.max())
        w /= w.sum()
        mean = w @ fs[:, i]
        means.append(mean)
        errors.append(np.sqrt(np.sum(w**2 * (fs[:, i] - mean) ** 2)))
    return np.array(means), np.array(errors)


@pytest.mark.slow
def test_nuts_agrees_with_importance_sampling_on_relu_networks():
    prior = ReluNetwork(dim=1, hidden=3, noise_std=0.5)
    xs, ys, _, _ = sample64(prior, 32, 1, 4)
    nuts = NutsPredictor(prior, num_warmup=400, num_samples=800, chains=CHAINS)
    mean, stderr = nuts_estimate(nuts, xs, ys)
    reference, error = importance_sampling(prior, xs[0], ys[0], 400_000, seed=0)
    np.testing.assert_array_less(np.abs(mean[0] - reference), Z * np.hypot(stderr[0], error) + 1e-3)


@pytest.mark.slow
def test_nuts_is_prefix_causal():
    prior = CLOSED_FORMS["sparse"]
    xs, ys, _, _ = sample64(prior, 33, 1, 5)
    nuts = NutsPredictor(prior, num_warmup=20, num_samples=20, chains=2)
    before = run(nuts, xs, ys)
    xs2, ys2 = xs.copy(), ys.copy()
    xs2[:, 3:] += 1.0
    ys2[:, 2:] -= 2.0
    after = run(nuts, xs2, ys2)
    np.testing.assert_array_equal(after[:, :3], before[:, :3])
    assert not np.allclose(after[:, 3:], before[:, 3:])


def test_nuts_refuses_a_noise_free_class_without_a_floor():
    with pytest.raises(ValueError, match=r"NutsPredictor\.noise_floor=0\.0"):
        NutsPredictor(Mixture((DenseLinear(dim=2, noise_std=0.1), SparseLinear(dim=2, k=1))))
    NutsPredictor(SparseLinear(dim=2, k=1), noise_floor=0.01)  # with a floor it is accepted
    with pytest.raises(ValueError, match=r"NutsPredictor\.chains=1"):
        NutsPredictor(DenseLinear(dim=2, noise_std=0.1), chains=1)


def test_the_bayes_registry_answers_which_priors_have_an_exact_predictor():
    relu = ReluNetwork(dim=2, hidden=4, noise_std=0.1)
    assert find_bayes_predictor(DenseLinear(dim=2)) is not None
    assert find_bayes_predictor(relu) is None
    # A mixture has one exactly when every class has one; a convex combination only for the
    # pair with a closed form.
    assert find_bayes_predictor(Mixture((DenseLinear(dim=2), relu))) is None
    assert find_bayes_predictor(ConvexCombination(DenseLinear(dim=2), relu, alpha=0.5)) is None
    assert find_bayes_predictor(ConvexCombination(DenseLinear(dim=2), Sinusoid(dim=2), 0.5))
    with pytest.raises(NoBayesPredictor, match="NutsPredictor"):
        bayes_predictor(relu)
