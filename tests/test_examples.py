"""The worked example of a prior defined outside the package (`examples/quadratic_prior.py`):
its exact Bayes predictor against an independent computation, and its training and evaluation
through the public API."""

import os
import subprocess
import sys
from pathlib import Path

import equinox as eqx
import numpy as np
import pytest
from predicting import run, sample64
from priors_zoo import ZOO

from examples.quadratic_prior import Quadratic, main
from icl_theory.evaluation import EvalResults
from icl_theory.predictors import bayes_predictor, has_bayes_predictor
from icl_theory.priors import build_prior, prior_from_data, prior_to_data


def test_quadratic_bayes_is_gaussian_process_regression_with_the_squared_dot_kernel():
    """Independently: `f(x) = x^T A x` with i.i.d. `N(0, s^2)` entries is a Gaussian process
    with kernel `s^2 (x . x')^2`; the posterior mean at x_i given the prefix is
    `k_i^T (K + sigma^2 I)^{-1} y_<i`, written here without the features."""
    prior = Quadratic(dim=3, scale=0.7, noise_std=0.3)
    xs, ys, _, _ = sample64(prior, 0, 4, 9)
    predictions = run(bayes_predictor(prior), xs, ys)
    for p in range(4):
        kernel = prior.scale**2 * (xs[p] @ xs[p].T) ** 2
        for i in range(9):
            k = kernel[i, :i]
            gram = kernel[:i, :i] + prior.noise_std**2 * np.eye(i)
            expected = k @ np.linalg.solve(gram, ys[p, :i]) if i else 0.0
            np.testing.assert_allclose(predictions[p, i], expected, rtol=1e-9, atol=1e-12)


def test_noise_free_quadratic_bayes_is_exact_once_the_symmetric_part_is_determined():
    """Only the symmetric part of A acts on x: d (d + 1) / 2 = 6 generic points at d = 3 determine
    f, and the noise-free predictor is exact from then on (to float64 round-off)."""
    prior = Quadratic(dim=3)
    xs, ys, fs, _ = sample64(prior, 1, 8, 10)
    predictions = run(bayes_predictor(prior), xs, ys)
    np.testing.assert_allclose(predictions[:, 6:], fs[:, 6:], rtol=1e-8, atol=1e-10)
    assert np.all(np.abs(predictions[:, 5] - fs[:, 5]) > 1e-6)  # one point short: not yet


def test_the_registration_makes_it_a_prior_like_the_built_in_ones():
    prior = build_prior("0.5*dense + 0.5*quadratic(scale=0.5)", dim=2, noise_std=0.1)
    assert has_bayes_predictor(prior)  # the mixture's, from both classes' registrations
    assert eqx.tree_equal(prior_from_data(prior_to_data(prior)), prior)
    assert "quadratic" in ZOO  # the parametrised sampler and NumPyro tests cover it


@pytest.mark.slow  # trains the example's model (CI runs -m slow)
def test_the_example_trains_and_evaluates_against_its_bayes_predictor(tmp_path):
    results = main(tmp_path, steps=100)
    loaded = EvalResults.load(tmp_path / "results.npz")
    assert loaded.names == ("transformer", "Bayes") == results.names
    assert loaded.setup.bayes == "exact"
    assert loaded.setup.prior == prior_to_data(Quadratic(dim=2, scale=0.5, noise_std=0.1))
    bayes = loaded.mean("Bayes")
    # With no context it predicts the prior mean 0: error 1 in expectation. f^2 is heavy-tailed
    # (at d = 2 the ratio's standard deviation is about 4.1 per prompt, 0.115 over 1,280
    # prompts): 3.5 standard deviations either side.
    assert 0.6 < bayes[0] < 1.4
    # 3 distinct features at d = 2, noise std 0.1: Bayes is close to exact from a few points.
    assert bayes[-1] < 0.1
    assert np.all(np.isfinite(loaded.mean("transformer")))


# A prior of one's own at the command line ------------------------------------------------------

REPOSITORY = Path(__file__).resolve().parent.parent


def _icl_theory(*arguments: str, cwd: Path, pythonpath: str = "") -> subprocess.CompletedProcess:
    """The `icl-theory` program in a fresh process (no prior registered by this test run)."""
    code = "import sys; from icl_theory.interrupt import entry_point; sys.exit(entry_point())"
    environment = os.environ | {"PYTHONPATH": pythonpath}
    return subprocess.run(
        [sys.executable, "-c", code, *arguments],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environment,
    )


def test_a_prior_of_ones_own_works_on_the_command_line_by_import_or_entry_point(tmp_path):
    sample = ["sample", "--prior", "0.5*dense + 0.5*quadratic(scale=0.5)", "--dim", "2"]
    sample += ["--batch", "8", "--n-points", "3"]
    unknown = _icl_theory(*sample, cwd=tmp_path)
    assert unknown.returncode == 2 and "--import MODULE" in unknown.stderr
    # `--import` from the folder the module is found in.
    imported = _icl_theory("--import", "examples.quadratic_prior", *sample, cwd=REPOSITORY)
    assert imported.returncode == 0, imported.stderr
    assert "\nquadratic(scale=0.5) " in imported.stdout  # its class, by its spec
    # An installed package's entry point, from anywhere: a distribution's metadata naming the
    # module in the group `icl_theory.priors`, as `pip install` would leave it.
    metadata = tmp_path / "site" / "my_priors-1.0.dist-info"
    metadata.mkdir(parents=True)
    (metadata / "METADATA").write_text("Metadata-Version: 2.1\nName: my-priors\nVersion: 1.0\n")
    (metadata / "entry_points.txt").write_text(
        "[icl_theory.priors]\nquadratic = examples.quadratic_prior\n"
    )
    path = os.pathsep.join([str(tmp_path / "site"), str(REPOSITORY)])
    installed = _icl_theory(*sample, cwd=tmp_path, pythonpath=path)
    assert installed.returncode == 0, installed.stderr
    listed = _icl_theory("priors", cwd=tmp_path, pythonpath=path)
    assert "quadratic (Quadratic): dim, scale, noise_std" in listed.stdout
