"""Invalid hyperparameters raise a ValueError naming the field, the value and what is allowed."""

import jax
import jax.random as jr
import numpy as np
import pytest

from icl_theory import Curriculum, build_prior, sample_prompts
from icl_theory.priors import (
    ConvexCombination,
    DenseLinear,
    FinitePool,
    Mixture,
    ReluNetwork,
    ScaledInputs,
    Sinusoid,
    SkewedGaussian,
    SparseLinear,
    SubspaceGaussian,
)
from icl_theory.training import TrainConfig

CASES = {
    "k > d": (lambda: SparseLinear(dim=5, k=6), r"SparseLinear\.k=6 .*1 <= k <= dim=5"),
    "k < 1": (lambda: SparseLinear(dim=5, k=0), r"SparseLinear\.k=0 .*>= 1"),
    "dim < 1": (lambda: DenseLinear(dim=0), r"DenseLinear\.dim=0 .*>= 1"),
    "negative noise dense": (
        lambda: DenseLinear(dim=3, noise_std=-0.1),
        r"DenseLinear\.noise_std=-0\.1 .*>= 0",
    ),
    "negative noise sparse": (
        lambda: SparseLinear(dim=3, k=1, noise_std=-1.0),
        r"SparseLinear\.noise_std=-1\.0",
    ),
    "negative noise sinusoid": (
        lambda: Sinusoid(dim=3, noise_std=-1.0),
        r"Sinusoid\.noise_std=-1\.0",
    ),
    "negative noise relu": (lambda: ReluNetwork(dim=3, noise_std=-1.0), r"ReluNetwork\.noise_std"),
    "nan noise": (lambda: DenseLinear(dim=3, noise_std=float("nan")), r"DenseLinear\.noise_std"),
    "negative scale": (lambda: DenseLinear(dim=3, tau=-1.0), r"DenseLinear\.tau=-1\.0 .*> 0"),
    "zero amplitude": (lambda: Sinusoid(dim=3, amplitude_std=0.0), r"Sinusoid\.amplitude_std"),
    "negative relu scale": (
        lambda: ReluNetwork(dim=3, output_std=-2.0),
        r"ReluNetwork\.output_std=-2\.0",
    ),
    "frequency range reversed": (
        lambda: Sinusoid(dim=3, freq_low=2.0, freq_high=1.0),
        r"Sinusoid\.freq_high=1\.0 .*>= freq_low=2\.0",
    ),
    "weights do not sum to 1": (
        lambda: Mixture((DenseLinear(dim=3), DenseLinear(dim=3)), (0.5, 0.6)),
        r"Mixture\.weights=\(0\.5, 0\.6\) .*sum to 1",
    ),
    "negative weight": (
        lambda: Mixture((DenseLinear(dim=3), DenseLinear(dim=3)), (1.5, -0.5)),
        r"Mixture\.weights=\(1\.5, -0\.5\) .*>= 0",
    ),
    "weight count": (
        lambda: Mixture((DenseLinear(dim=3), DenseLinear(dim=3)), (1.0,)),
        r"Mixture\.weights=.*one weight per component",
    ),
    "mixture dims differ": (
        lambda: Mixture((DenseLinear(dim=3), SparseLinear(dim=4, k=1))),
        r"Mixture\.components=\[3, 4\] .*same dim",
    ),
    "alpha above 1": (
        lambda: ConvexCombination(DenseLinear(dim=3), Sinusoid(dim=3), alpha=1.5),
        r"ConvexCombination\.alpha=1\.5 .*\[0, 1\]",
    ),
    "alpha below 0": (
        lambda: ConvexCombination(DenseLinear(dim=3), Sinusoid(dim=3), alpha=-0.1),
        r"ConvexCombination\.alpha=-0\.1",
    ),
    "convex dims differ": (
        lambda: ConvexCombination(DenseLinear(dim=3), Sinusoid(dim=2), alpha=0.5),
        r"ConvexCombination\.second='dim=2' .*same dim as first \(dim=3\)",
    ),
    "pool size": (lambda: FinitePool(DenseLinear(dim=3), size=0), r"FinitePool\.size=0"),
    "unknown prior name": (
        lambda: build_prior("dense + cubic", dim=3),
        r"build_prior\.prior='cubic' .*unknown prior name; known: dense, .*sparse",
    ),
    "unknown field": (
        lambda: build_prior("sparse(q=2)", dim=3),
        r"sparse\(\) has no field\(s\) \['q'\]: its fields are \['dim', 'k', 'tau', 'noise_std'\]",
    ),
    "bad spec syntax": (lambda: build_prior("dense +", dim=3), r"build_prior\.spec='dense \+'"),
    "unknown output scale": (
        lambda: build_prior("dense", dim=3, output_scale="log"),
        r"build_prior\.output_scale='log' .*'raw' or 'unit'",
    ),
    "skewed dim mismatch": (
        lambda: sample_prompts(DenseLinear(dim=3), jr.key(0), 2, 2, inputs=SkewedGaussian(dim=4)),
        r"SkewedGaussian\.dim=4 .*prior's dim=3",
    ),
    "subspace too small": (lambda: SubspaceGaussian(dim=1), r"SubspaceGaussian\.dim=1"),
    "input scale": (
        lambda: ScaledInputs(SkewedGaussian(dim=2), -1.0),
        r"ScaledInputs\.factor=-1\.0",
    ),
    "batch": (
        lambda: sample_prompts(DenseLinear(dim=3), jr.key(0), 0, 2),
        r"sample_prompts\.batch=0",
    ),
    "active dims": (
        lambda: sample_prompts(DenseLinear(dim=3), jr.key(0), 2, 2, active_dims=4),
        r"sample_prompts\.active_dims=4 .*\[1, 3\]",
    ),
    "curriculum order": (
        lambda: Curriculum(dims_start=6, dims_end=5, points_start=1, points_end=2),
        r"Curriculum\.dims_start=6 .*<= dims_end=5",
    ),
    "curriculum vs sparse k": (
        lambda: TrainConfig(
            prior=build_prior("sparse(k=5)", dim=8),
            curriculum=Curriculum(dims_start=3, dims_end=8, points_start=11, points_end=11),
        ),
        r"TrainConfig\.curriculum\.dims_start=3 .*prior='sparse\(k=5\)'.* 5 or more",
    ),
    "curriculum vs a sparse class of a mixture": (
        lambda: TrainConfig(
            prior=build_prior("dense + sparse(k=6)", dim=20),
            n_points=41,
            curriculum=Curriculum.garg(),
        ),
        r"TrainConfig\.curriculum\.dims_start=5 .* 6 or more",
    ),
    "curriculum vs dim": (
        lambda: Curriculum.garg(20, 41).check_compatible(dim=10, n_points=41),
        r"Curriculum\.dims_end=20 .*dim=10",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_raises_a_value_error_naming_the_field(case):
    make, message = CASES[case]
    with pytest.raises(ValueError, match=message):
        make()


def test_valid_edge_cases_are_accepted_and_behave_as_their_limits():
    """The boundary values each check admits give the limiting class, not an error."""
    # k = d: every coordinate is in the support.
    prompts = sample_prompts(SparseLinear(dim=5, k=5), jr.key(0), 16, 3)
    assert np.all(np.asarray(prompts.tasks.w) != 0)
    # No noise: y is f exactly.
    prompts = sample_prompts(DenseLinear(dim=3, noise_std=0.0), jr.key(1), 16, 3)
    np.testing.assert_array_equal(prompts.ys, prompts.fs)
    # An empty frequency band: one frequency.
    prompts = sample_prompts(Sinusoid(dim=1, freq_low=3.0, freq_high=3.0), jr.key(2), 16, 3)
    np.testing.assert_allclose(prompts.tasks.frequency, 3.0)
    # Convex combinations at the end points: one of the two functions.
    for alpha in (0.0, 1.0):
        combination = ConvexCombination(DenseLinear(dim=2), Sinusoid(dim=2), alpha=alpha)
        prompts = sample_prompts(combination, jr.key(3), 16, 3)
        part = prompts.tasks.first if alpha == 1.0 else prompts.tasks.second
        source = combination.first if alpha == 1.0 else combination.second
        expected = jax.vmap(source.evaluate)(part, prompts.xs)
        np.testing.assert_allclose(prompts.fs, expected, rtol=1e-6)
    # A zero mixing weight: that class is never drawn.
    mixture = Mixture((DenseLinear(dim=2), DenseLinear(dim=2)), (1.0, 0.0))
    assert np.all(np.asarray(sample_prompts(mixture, jr.key(4), 64, 2).class_index) == 0)
