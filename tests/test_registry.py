"""The prior-spec language builds the structures it names."""

import equinox as eqx
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
    describe_prior,
    prior_from_data,
    prior_spec,
    prior_to_data,
    register_prior,
    shared_noise_std,
    with_noise_std,
)
from tests.priors_zoo import ZOO


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


@pytest.mark.parametrize("name", sorted(ZOO))
@pytest.mark.parametrize("noise_std", [0.0, 0.25])
def test_every_prior_is_written_as_a_spec_that_rebuilds_it_exactly(name, noise_std):
    """`prior_spec` inverts `build_prior` on the whole zoo (unit output scale, a class with its
    own noise and nested mixtures included), and `prior_to_data` / `prior_from_data` invert each
    other: the two ways a run's prior is shown and recorded."""
    for prior in (
        ZOO[name](3, noise_std),
        ZOO[name](3, noise_std).with_unit_output_variance(),
        Mixture((ZOO[name](3, noise_std), SparseLinear(dim=3, k=2, noise_std=0.5)), (0.1, 0.9)),
    ):
        shared = shared_noise_std(prior)
        spec = prior_spec(prior, noise_std=shared)
        assert eqx.tree_equal(build_prior(spec, dim=3, noise_std=shared), prior), spec
        assert eqx.tree_equal(prior_from_data(prior_to_data(prior)), prior)


def test_a_spec_shows_only_what_differs_from_the_defaults():
    prior = build_prior("0.5*dense + 0.5*sparse(k=1)", dim=5, noise_std=0.1)
    assert prior_spec(prior, noise_std=0.1) == "0.5*dense + 0.5*sparse(k=1)"
    assert describe_prior(prior) == "0.5*dense + 0.5*sparse(k=1), noise_std=0.1"
    unit = build_prior("dense", dim=4, output_scale="unit")
    assert prior_spec(unit) == "dense(tau=0.5)"  # 1 / sqrt(4)
    nested = build_prior("0.5*(dense + sparse(k=1)) + 0.5*sinusoid", dim=2)
    assert prior_spec(nested) == (
        "0.5*mixture(dense, sparse(k=1), weights=[0.5, 0.5]) + 0.5*sinusoid"
    )


def test_a_prior_with_no_registered_name_has_no_spec():
    class Unnamed(DenseLinear):
        pass

    with pytest.raises(ValueError, match=r"prior_spec\.prior='Unnamed' .*register_prior"):
        prior_spec(Unnamed(dim=2))
    assert describe_prior(Unnamed(dim=2)) == "Unnamed"


@pytest.mark.parametrize("name", sorted(ZOO))
def test_another_noise_reaches_every_class_and_is_then_the_shared_one(name):
    prior = ZOO[name](3, 0.1)
    noisier = with_noise_std(prior, 0.3)
    assert shared_noise_std(noisier) == 0.3
    assert eqx.tree_equal(with_noise_std(noisier, 0.1), with_noise_std(prior, 0.1))
    spec = "0.5*dense + 0.5*sparse(k=1, noise_std=0.2)"  # classes of different noise
    assert shared_noise_std(build_prior(spec, dim=3)) == 0.0
    assert eqx.tree_equal(
        with_noise_std(build_prior(spec, dim=3), 0.3),
        build_prior("0.5*dense + 0.5*sparse(k=1)", dim=3, noise_std=0.3),
    )
