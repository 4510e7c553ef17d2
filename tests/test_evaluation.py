"""The evaluation toolkit against ground truth: bootstrap coverage, normalisation, the implied
class weight of the exact mixture predictor, saved results, Lasso selection."""

import io

import equinox as eqx
import jax
import jax.random as jr
import numpy as np
import pytest
from rich.console import Console

from icl_theory import build_prior
from icl_theory.cli import main
from icl_theory.evaluation import (
    EvalResults,
    EvalSetup,
    SelectionProbe,
    blend_weight,
    bootstrap_curve,
    evaluate,
    evaluation_prompts,
    linear_fit,
    off_support_share,
    query_predictions,
    sample_queries,
    selection_diagnostics,
)
from icl_theory.evaluation.evaluate_predictors import class_output_variance
from icl_theory.evaluation.tuning import select_lasso
from icl_theory.jobs import evaluate_runs
from icl_theory.predictors import MixtureBayes, bayes_predictor, class_posteriors, predict
from icl_theory.predictors.baselines import (
    Averaging,
    Lasso,
    LeastSquares,
    NearestNeighbours,
    ZeroPredictor,
)
from icl_theory.priors import DenseLinear, Mixture, SparseLinear, prior_to_data
from icl_theory.tables import Table, curve_rows, print_curve_tables, sweep_table
from icl_theory.training import TrainConfig, load_prior, train


def implied_function(predictor, prompts, n_queries: int, seed: int):
    """The implied linear function's weights and nonlinear share on `n_queries` queries."""
    queries = sample_queries(jr.key(seed), n_queries, prompts.dim)
    return linear_fit(query_predictions(predictor, prompts.xs, prompts.ys, queries), queries)


def test_bootstrap_interval_covers_the_true_mean_at_its_level():
    # 300 data sets of 200 exponential "errors" (skewed, like squared errors) with mean 1: a
    # 95% interval should cover 1 about 285 times. The count is Binomial(300, ~0.95) (sd 3.8);
    # percentile intervals of a skewed mean undercover slightly at n = 200, so accept 0.90-0.98.
    rng = np.random.default_rng(0)
    covered = 0
    for trial in range(300):
        errors = rng.exponential(1.0, size=(1, 200, 1))
        curve = bootstrap_curve(errors, resamples=1000, seed=trial)
        covered += curve.low[0] <= 1.0 <= curve.high[0]
    assert 0.90 <= covered / 300 <= 0.98


def test_bootstrap_resamples_seeds_when_seeds_differ():
    # Two "seeds" whose errors differ by a constant offset: the two-level interval must be much
    # wider than the prompt-only one, and cover the seed-to-seed spread.
    rng = np.random.default_rng(1)
    base = rng.exponential(1.0, size=(1, 500, 1))
    two_seeds = np.concatenate([base, base + 1.0])
    pooled = bootstrap_curve(two_seeds.reshape(1, 1000, 1))
    by_seed = bootstrap_curve(two_seeds)
    assert by_seed.mean[0] == pytest.approx(pooled.mean[0])
    assert (by_seed.high - by_seed.low)[0] > 3 * (pooled.high - pooled.low)[0]
    assert by_seed.low[0] <= base.mean() + 0.05 and by_seed.high[0] >= base.mean() + 0.95


def test_bootstrap_is_deterministic_and_checks_level():
    errors = np.random.default_rng(2).exponential(size=(2, 50, 3))
    first, second = bootstrap_curve(errors), bootstrap_curve(errors)
    np.testing.assert_array_equal(first.low, second.low)
    with pytest.raises(ValueError, match="level"):
        bootstrap_curve(errors, level=1.5)


def test_class_output_variance_is_the_drawn_class_variance():
    prior = build_prior("0.5*dense + 0.5*sparse(k=2)", dim=6)
    prompts = evaluation_prompts(prior, 5, n_prompts=64)
    variance = class_output_variance(prior, prompts)
    norms = np.sum(np.asarray(prompts.xs, np.float64) ** 2, axis=-1)
    dense = np.asarray(prompts.class_index) == 0
    # Dense w ~ N(0, I): E f(x)^2 = |x|^2; 2-of-6 sparse with N(0, 1) entries: (2 / 6) |x|^2.
    np.testing.assert_allclose(variance[dense], norms[dense], rtol=1e-5)
    np.testing.assert_allclose(variance[~dense], norms[~dense] / 3, rtol=1e-5)


def test_zero_predictor_scores_one_on_every_class_and_bayes_beats_least_squares():
    prior = build_prior("0.5*dense + 0.5*sparse(k=2)", dim=6, noise_std=0.3)
    results = evaluate(
        {"zero": ZeroPredictor(), "least squares": LeastSquares()}, prior, 9, n_prompts=1024
    )
    assert results.names == ("zero", "least squares", "Bayes")
    for label in results.class_names:
        subset = results.for_class(label)
        zero = subset.errors["zero"][0]
        # E[f^2 / Var(f | x, class)] = 1 at every position; check the pooled mean at 4 SE.
        standard_error = zero.std() / np.sqrt(zero.size)
        assert abs(zero.mean() - 1.0) < 4 * standard_error
    # The Bayes predictor of the evaluation prior beats least squares on average (paired).
    gap = results.excess("least squares", "Bayes")
    assert np.all(gap.mean[1:] > 0)
    assert gap.low[3] > 0


def test_errors_are_the_squared_error_over_the_class_variance():
    prior = build_prior("dense", dim=4)
    results = evaluate({"lasso": Lasso(alpha=0.1)}, prior, 6, n_prompts=32, include_bayes=False)
    prompts = evaluation_prompts(prior, 6, n_prompts=32)
    preds = np.asarray(predict(Lasso(alpha=0.1), prompts.xs, prompts.ys), np.float64)
    expected = (preds - np.asarray(prompts.fs)) ** 2 / class_output_variance(prior, prompts)
    np.testing.assert_allclose(results.errors["lasso"][0], expected, rtol=1e-5)


@pytest.mark.parametrize("k", [1, 2])
def test_a_bayes_predictor_has_no_error_where_its_prior_excludes_the_prompt(k):
    """Noise-free, k + 1 points of a dense function contradict every k-sparse one: the k-sparse
    Bayes predictor has no posterior there, so its errors are NaN exactly from k + 1 examples on
    (and its mean and table cells n/a); with noise every prompt has a posterior."""
    n_points = 7
    sparse = build_prior(f"sparse(k={k})", dim=5)
    dense = build_prior("dense", dim=5)
    results = evaluate({"Bayes sparse": bayes_predictor(sparse)}, dense, n_points, n_prompts=32)
    errors = results.errors["Bayes sparse"][0]
    assert np.all(np.isnan(errors[:, k + 1 :]))
    assert np.all(np.isfinite(errors[:, : k + 1]))
    assert np.all(np.isfinite(results.errors["Bayes"]))  # its own prior's Bayes: always defined
    row = curve_rows(results, ["Bayes sparse"], list(range(n_points)))[0][0][1:]
    assert [cell == "n/a" for cell in row] == [p > k for p in range(n_points)]
    noisy = build_prior(f"sparse(k={k})", dim=5, noise_std=0.1)
    noisy_results = evaluate(
        {"Bayes sparse": bayes_predictor(noisy)},
        build_prior("dense", dim=5, noise_std=0.1),
        n_points,
        n_prompts=32,
    )
    assert np.all(np.isfinite(noisy_results.errors["Bayes sparse"]))


def test_one_table_value_writes_markdown_and_prints_the_same_cells():
    table = Table(["", "n = 1", "n = 2"], [["least squares", "0.500", "n/a"], ["Bayes", "0", "1"]])
    assert table.to_markdown() == (
        "| | n = 1 | n = 2 |\n|---|---|---|\n| least squares | 0.500 | n/a |\n| Bayes | 0 | 1 |\n"
    )
    text = io.StringIO()
    Console(file=text, width=80).print(table.to_rich("title"))
    printed = text.getvalue()
    for cell in ("title", "n = 1", "least squares", "0.500", "n/a", "Bayes"):
        assert cell in printed
    aligned = Table(table.columns, table.rows, align_numbers=True).to_markdown()
    assert aligned.splitlines()[1] == "|---|---:|---:|"  # the number columns right-aligned
    with pytest.raises(ValueError, match=r"Table\.rows\[1\] has 2 cells for 3 columns"):
        Table(["a", "b", "c"], [["1", "2", "3"], ["1", "2"]])


def test_a_sweep_table_of_excess_is_the_paired_difference_per_result():
    """`excess_over` pairs prompt by prompt within each result of the sweep: a predictor that is
    another plus a constant per result reads exactly that constant, with a zero-width interval,
    however much the errors themselves vary between prompts."""
    rng = np.random.default_rng(0)
    sweep = []
    for offset in (0.25, -0.5):
        # One seed: the reference is averaged over its seeds before pairing (`EvalResults.excess`).
        base = rng.uniform(0.0, 1.0, (1, 40, 4))  # (seeds, prompts, points)
        sweep.append(
            EvalResults(
                errors={"reference": base, "shifted": base + offset},
                class_index=np.zeros(40, np.int32),
                setup=EvalSetup(n_points=4, n_prompts=40),
            )
        )
    table = sweep_table(sweep, ["shifted"], 2, ["a", "b"], excess_over="reference")
    assert table.splitlines()[-1] == "| shifted | 0.250 [0.250, 0.250] | -0.500 [-0.500, -0.500] |"
    plain = sweep_table(sweep, ["shifted"], 2, ["a", "b"])
    assert "0.250 [0.250, 0.250]" not in plain  # without pairing: the errors, not the offset


def test_several_models_become_one_predictor_with_seeds():
    prior = build_prior("dense", dim=3)
    results = evaluate(
        {"ridge-like": [Lasso(alpha=0.01), Lasso(alpha=0.02)]}, prior, 5, n_prompts=16
    )
    assert results.seeds("ridge-like") == 2
    np.testing.assert_allclose(
        results.mean("ridge-like"), results.errors["ridge-like"].mean(axis=(0, 1))
    )


def test_results_round_trip_and_refuse_corrupt_files(tmp_path):
    prior = build_prior("0.5*dense + 0.5*sparse(k=1)", dim=3, noise_std=0.2)
    results = evaluate({"zero": ZeroPredictor()}, prior, 4, n_prompts=16, notes={"note": "x"})
    assert results.setup.n_points == 4 and results.setup.prior == prior_to_data(prior)
    path = results.save(tmp_path / "r.npz")
    loaded = EvalResults.load(path)
    assert loaded.names == results.names
    assert loaded.setup == results.setup and loaded.notes == {"note": "x"}
    assert loaded.class_names == ("DenseLinear", "SparseLinear(k=1)")
    for name in results.names:
        np.testing.assert_array_equal(loaded.errors[name], results.errors[name])
    assert results.class_posterior is not None and loaded.class_posterior is not None
    np.testing.assert_array_equal(loaded.class_posterior, results.class_posterior)
    assert loaded.provenance["versions"]["jax"] == jax.__version__
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ValueError, match=r"r\.npz"):
        EvalResults.load(path)
    with pytest.raises(ValueError, match="seeds, prompts, points"):
        EvalResults(
            errors={"bad": np.zeros((16, 4))},
            class_index=np.zeros(16, int),
            setup=EvalSetup(n_points=4, n_prompts=16),
        )
    with pytest.raises(KeyError, match="they hold"):
        loaded.curve("missing")


def test_blend_weight_recovers_a_known_blend():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(2, 5, 7, 32))
    beta = rng.uniform(-0.5, 1.5, size=(5, 7))
    implied = blend_weight(beta[..., None] * a + (1 - beta[..., None]) * b, a, b)
    np.testing.assert_allclose(implied.weight, beta, rtol=1e-10)
    np.testing.assert_allclose(implied.unexplained, 0.0, atol=1e-20)
    # Identical class predictions: beta is not identified.
    assert np.all(np.isnan(blend_weight(a, a, a).weight))


def test_implied_weight_of_the_mixture_bayes_predictor_is_its_class_posterior():
    # The mixture's posterior mean is sum_c p(c | context) * (class c's posterior mean), the
    # same weights at every query: the estimator must return exactly p(dense | context).
    prior = build_prior("0.5*dense + 0.5*sparse(k=1)", dim=3, noise_std=0.5)
    assert isinstance(prior, Mixture)
    prompts = jax.tree.map(lambda a: a[:6], evaluation_prompts(prior, 5, n_prompts=6))
    dense, sparse = (bayes_predictor(c) for c in prior.components)
    mixture = MixtureBayes(prior)
    probe = SelectionProbe(classes=(dense, sparse), weighted={"m": mixture}, prompts=6, queries=8)
    selection = selection_diagnostics(probe, prior, prompts)
    weight, unexplained = selection.implied_weight["m"], selection.unexplained["m"]
    posterior = np.asarray(class_posteriors(mixture, prompts.xs, prompts.ys))
    identified = ~np.isnan(weight)
    assert identified[:, 1:].all()  # with context and noise the classes always disagree
    # Exact in float64; saved in float32, whose rounding at weights up to 1 is below 6e-8.
    np.testing.assert_allclose(weight[identified], posterior[:, 0][identified], atol=1e-7)
    np.testing.assert_allclose(unexplained[identified], 0.0, atol=1e-12)


def test_no_implied_weight_where_a_class_has_no_posterior():
    """Noise-free dense prompts give the 2-sparse class no posterior from 3 points on: the zero
    predictor, which regressed on the sparse class's fallback value used to read an implied dense
    weight of 0.8-0.9 there, gets none; with fewer points both classes have posteriors and the
    weight is identified."""
    dense, sparse = DenseLinear(dim=6), SparseLinear(dim=6, k=2)
    prompts = jax.tree.map(lambda a: a[:8], evaluation_prompts(dense, 6, n_prompts=8))
    probe = SelectionProbe(
        classes=(bayes_predictor(dense), bayes_predictor(sparse)),
        weighted={"zero": ZeroPredictor()},
        prompts=8,
    )
    weight = selection_diagnostics(probe, dense, prompts).implied_weight["zero"]
    assert np.all(np.isnan(weight[:, 3:]))
    assert np.all(np.isfinite(weight[:, 1:3]))


def test_linear_fit_recovers_a_linear_function_and_measures_the_rest():
    rng = np.random.default_rng(3)
    queries = rng.normal(size=(12, 4))
    w = rng.normal(size=(5, 2, 4))
    fit = linear_fit(w @ queries.T, queries)
    np.testing.assert_allclose(fit.weights, w, atol=1e-12)
    np.testing.assert_allclose(fit.nonlinear, 0.0, atol=1e-20)
    # A function orthogonal to every linear one (residual of a random vector): nothing explained.
    noise = rng.normal(size=12)
    orthogonal = noise - queries @ np.linalg.lstsq(queries, noise, rcond=None)[0]
    assert linear_fit(orthogonal, queries).nonlinear == pytest.approx(1.0)
    assert np.isnan(linear_fit(np.zeros(12), queries).nonlinear)


def test_implied_linear_function_of_least_squares_is_its_solution():
    # Least squares applies x . pinv(X_<i) y_<i to a query: the probe must return that vector.
    prior = build_prior("dense", dim=4, noise_std=0.3)
    prompts = evaluation_prompts(prior, 7, n_prompts=5)
    implied = implied_function(LeastSquares(), prompts, 8, seed=2)
    xs, ys = np.asarray(prompts.xs), np.asarray(prompts.ys)
    for p in range(5):
        for i in range(1, 7):
            expected = np.linalg.pinv(xs[p, :i]) @ ys[p, :i]
            np.testing.assert_allclose(implied.weights[p, i], expected, atol=1e-9)
    np.testing.assert_allclose(implied.nonlinear[:, 1:], 0.0, atol=1e-12)


def test_implied_linear_function_of_sparse_bayes_is_the_true_function_from_k_plus_1_points():
    # Noise-free, k + 1 generic points identify a k-sparse w exactly (the brute-force posterior
    # puts all its mass on the one consistent support).
    prior = build_prior("sparse(k=2)", dim=5)
    prompts = evaluation_prompts(prior, 6, n_prompts=4)
    implied = implied_function(bayes_predictor(prior), prompts, 8, seed=3)
    truth = np.asarray(prompts.tasks.w)
    for i in range(3, 6):
        np.testing.assert_allclose(implied.weights[:, i], truth, atol=1e-7)
    assert np.all(implied.nonlinear[:, 3:] < 1e-12)


def test_off_support_share_separates_least_squares_from_sparse_bayes():
    truth = np.array([[0.0, 2.0, 0.0, -1.0]])
    relevant = truth != 0
    exact = np.broadcast_to(truth[:, None], (1, 2, 4))
    np.testing.assert_array_equal(off_support_share(exact, relevant), 0.0)
    np.testing.assert_allclose(off_support_share(np.ones((1, 1, 4)), relevant), 0.5)
    assert np.isnan(off_support_share(np.zeros((1, 1, 4)), relevant)).all()
    assert np.isnan(off_support_share(np.ones((1, 1, 4)), np.ones((1, 4), bool))).all()  # dense
    # On 2-of-6 sparse prompts, through the evaluation step (the prior's `relevant_inputs` are
    # the true supports): noise-free sparse Bayes puts nothing off the support from k + 1 = 3
    # examples; least squares (min-norm, n < d) puts a clear share there.
    prior = build_prior("sparse(k=2)", dim=6)
    predictors = {"Bayes sparse": bayes_predictor(prior), "least squares": LeastSquares()}
    probe = SelectionProbe(classes=(ZeroPredictor(), ZeroPredictor()), probed=predictors)
    results = evaluate(predictors, prior, 5, n_prompts=16, selection=probe, include_bayes=False)
    off_support = results.selection.off_support
    assert np.nanmax(off_support["Bayes sparse"][:, 3:]) < 1e-12
    assert np.median(off_support["least squares"][:, 3]) > 0.1


def test_implied_linear_function_flags_a_nonlinear_predictor():
    prior = build_prior("dense", dim=3)
    prompts = evaluation_prompts(prior, 8, n_prompts=4)
    implied = implied_function(NearestNeighbours(k=1), prompts, 24, seed=4)
    # 1-NN is piecewise constant in the query: far from any linear function once there are
    # several neighbours to choose from.
    assert np.median(implied.nonlinear[:, 4:]) > 0.2


def test_lasso_selection_minimises_the_validation_error():
    prior = build_prior("sparse(k=1)", dim=4, noise_std=0.1)
    lasso, scores = select_lasso(prior, 6, grid=(1e-3, 0.05, 5.0), n_prompts=64)
    assert lasso.alpha == min(scores, key=scores.__getitem__)
    # alpha = 5 shrinks everything to zero: error about 1, far above the best.
    assert scores[5.0] > 0.9 and scores[lasso.alpha] < 0.5


@pytest.mark.slow  # trains and evaluates a run per prior field (CI runs -m slow)
def test_a_run_is_evaluated_on_its_own_prior_every_field(tmp_path):
    """`icl-theory evaluate` rebuilds the run's prior with its noise and output scale (the
    results record it whole); a field the user passes overrides the run's."""
    config = TrainConfig(
        prior=build_prior("0.5*dense + 0.5*sparse(k=2)", dim=4, noise_std=0.1, output_scale="unit"),
        n_points=5,
        batch_size=4,
        steps=10,
        warmup_steps=2,
        steps_per_call=5,
        eval_every=5,
        checkpoint_every=5,
        eval_prompts=4,
    )
    run = str(tmp_path / "run")
    train(config, run, progress=False)
    assert eqx.tree_equal(load_prior(run), config.prior)  # recorded whole
    quiet = Console(file=io.StringIO())
    own = evaluate_runs(
        [run], n_prompts=8, which_baselines=(), out=tmp_path / "a.npz", console=quiet
    )
    assert own.setup.prior == prior_to_data(config.prior)
    arguments = ["evaluate", run, "--n-prompts", "8", "--baselines", "least-squares"]
    # The run's classes at their raw scales: the spec is needed (a unit-scale prior does not
    # remember its raw scales); the noise is still the run's.
    spec = ["--prior", "0.5*dense + 0.5*sparse(k=2)"]
    assert main([*arguments, *spec, "--output-scale", "raw", "--out", str(tmp_path / "b.npz")]) == 0
    raw = EvalResults.load(tmp_path / "b.npz")
    expected = build_prior(spec[1], dim=4, noise_std=0.1, output_scale="raw")
    assert raw.setup.prior == prior_to_data(expected) != own.setup.prior
    assert main([*arguments, "--output-scale", "raw", "--out", str(tmp_path / "c.npz")]) == 2
    # Another noise alone keeps the run's unit scales.
    assert main([*arguments, "--noise-std", "0.3", "--out", str(tmp_path / "d.npz")]) == 0
    noisier = EvalResults.load(tmp_path / "d.npz")
    expected = build_prior(spec[1], dim=4, noise_std=0.3, output_scale="unit")
    assert noisier.setup.prior == prior_to_data(expected)


def test_diagnostics_are_computed_on_the_prompts_evaluate_drew():
    """The mixture's Bayes predictor, probed inside `evaluate`, implies exactly the class
    posterior `evaluate` saved for the same prompts; the prompts beyond the probed ones are
    NaN, and a saved file gives the diagnostics back."""
    prior = build_prior("0.5*dense + 0.5*sparse(k=1)", dim=3, noise_std=0.5)
    assert isinstance(prior, Mixture)
    mixture = MixtureBayes(prior)
    dense, sparse = (bayes_predictor(c) for c in prior.components)
    probe = SelectionProbe(
        classes=(dense, sparse), weighted={"Bayes": mixture}, prompts=6, queries=8
    )
    results = evaluate({}, prior, 5, n_prompts=10, seed=3, selection=probe)
    weight = results.selection.implied_weight["Bayes"]
    assert results.class_posterior is not None
    # Both saved in float32: each within 6e-8 of the same float64 number.
    np.testing.assert_allclose(weight[:6, 1:], results.class_posterior[:6, 0, 1:], atol=2e-7)
    assert np.isnan(weight[6:]).all()
    assert results.setup.selection_prompts == 6


def test_a_prior_without_a_bayes_predictor_is_reported_not_dropped():
    prior = build_prior("relu(hidden=4)", dim=2, noise_std=0.1)
    results = evaluate({"zero": ZeroPredictor()}, prior, 3, n_prompts=4)
    assert "Bayes" not in results.names
    assert results.setup.bayes == "none registered for ReluNetwork"
    text = io.StringIO()
    print_curve_tables(results, Console(file=text, width=200))
    assert "none registered for ReluNetwork" in text.getvalue()


def test_the_terminal_tables_fit_80_columns_and_say_what_they_show():
    """The quickstart's table: six predictors (the longest name `Lasso (alpha=0.001)`) at five
    context lengths, on a standard terminal, nothing cut short."""
    prior = Mixture((DenseLinear(dim=8), SparseLinear(dim=8, k=2)))
    dense, sparse = (bayes_predictor(c) for c in prior.components)
    predictors = {
        "transformer": Averaging(),
        "Bayes dense": dense,
        "Bayes sparse": sparse,
        "least squares": LeastSquares(),
        "Lasso (alpha=0.001)": Lasso(alpha=0.001),
    }
    results = evaluate(predictors, prior, 17, n_prompts=32)
    text = io.StringIO()
    print_curve_tables(results, Console(file=text, width=80), positions=(1, 3, 4, 8, 16))
    lines = text.getvalue().splitlines()
    assert max(map(len, lines)) <= 80
    assert "…" not in text.getvalue()
    assert any(line.startswith("Lasso (alpha=0.001)  ") for line in lines)
    assert "Bayes: the exact Bayes predictor of the mixture" in " ".join(lines)
    assert "n/a: no prediction there" in " ".join(lines)  # Bayes sparse on dense prompts
