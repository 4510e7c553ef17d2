"""The prior-spec language builds the structures it names."""

import pytest

from icl_theory import build_prior
from icl_theory.priors import (
    PRIORS,
    ConvexCombination,
    DenseLinear,
    FinitePool,
    Mixture,
    Sinusoid,
    SparseLinear,
    register_prior,
)


def test_mixture_spec_builds_weighted_components():
    prior = build_prior("0.25*dense + 0.75*sparse(k=2)", dim=8, noise_std=0.1)
    assert isinstance(prior, Mixture)
    assert prior.weights == (0.25, 0.75)
    dense, sparse = prior.components
    assert dense == DenseLinear(dim=8, noise_std=0.1)
    assert sparse == SparseLinear(dim=8, k=2, noise_std=0.1)


def test_unweighted_sum_is_uniform_and_keywords_override_defaults():
    prior = build_prior("dense + sparse(k=1, noise_std=0.5) + sinusoid", dim=4)
    assert isinstance(prior, Mixture)
    assert prior.weights == pytest.approx((1 / 3, 1 / 3, 1 / 3))
    assert prior.components[1] == SparseLinear(dim=4, k=1, noise_std=0.5)


def test_combinators_nest():
    prior = build_prior("convex(dense, sinusoid(freq_high=3.0), alpha=0.3)", dim=5)
    assert isinstance(prior, ConvexCombination)
    assert prior.alpha == 0.3 and prior.second == Sinusoid(dim=5, freq_high=3.0)
    pool = build_prior("pool(dense, size=16, seed=2)", dim=3)
    assert isinstance(pool, FinitePool) and pool.size == 16 and pool.seed == 2
    mix = build_prior("mixture(dense, pool(sparse(k=1), size=4), weights=[0.9, 0.1])", dim=3)
    assert isinstance(mix, Mixture) and isinstance(mix.components[1], FinitePool)


def test_unit_output_scale_rescales_each_class():
    prior = build_prior("dense + sparse(k=4)", dim=16, output_scale="unit")
    assert isinstance(prior, Mixture)
    assert prior.components[0].tau == pytest.approx(0.25)  # type: ignore[attr-defined]
    assert prior.components[1].tau == pytest.approx(0.5)  # type: ignore[attr-defined]


def test_spec_language_evaluates_no_code():
    with pytest.raises(ValueError, match="unknown prior name"):
        build_prior("__import__('os')", dim=2)
    with pytest.raises(ValueError, match="not a constant"):
        build_prior("sparse(k=len([1]))", dim=2)


def test_registering_a_new_prior_makes_it_available_and_names_are_unique():
    register_prior("dense_test_alias", DenseLinear)
    try:
        assert build_prior("dense_test_alias(tau=2.0)", dim=3) == DenseLinear(dim=3, tau=2.0)
        with pytest.raises(ValueError, match="already taken"):
            register_prior("dense", SparseLinear)
        with pytest.raises(ValueError, match="already taken"):
            register_prior("mixture", DenseLinear)  # a combinator's name
        register_prior("dense", DenseLinear)  # the same class again: a module imported twice
        assert PRIORS["dense"] is DenseLinear
    finally:
        del PRIORS["dense_test_alias"]
