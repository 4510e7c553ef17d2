"""The linear + sinusoid experiments' `smoke` presets end to end (train, evaluate, save, tables,
figures, redrawn from saved results), and the study's configs against its priors."""

import numpy as np
import pytest

import experiments.convex_combinations.run as convex_combinations
import experiments.frequency_extrapolation.run as frequency_extrapolation
import experiments.function_drawings.run as function_drawings
import experiments.selection_across_families.run as selection_across_families
from experiments.linear_sinusoid_study import study
from icl_theory.evaluation import EvalResults

EXPERIMENTS = (selection_across_families, convex_combinations, frequency_extrapolation)


@pytest.mark.slow
def test_smoke_presets_run_end_to_end_and_replot_from_saved_results(tmp_path):
    s = study("smoke")
    for experiment in EXPERIMENTS:
        written = experiment.run("smoke", root=tmp_path, progress=False)
        assert all(path.exists() and path.stat().st_size > 0 for path in written)
        for path in (p for p in written if p.suffix == ".npz"):
            results = EvalResults.load(path)
            assert results.setup.normalise == "class_mean"
            for name, errors in results.errors.items():
                assert errors.shape[1:] == (s.n_prompts, s.n_points)
                # With noise every Bayes predictor has a posterior: no n/a anywhere.
                assert np.all(np.isfinite(errors)), name
        redrawn = experiment.replot("smoke", root=tmp_path)
        assert {p.suffix for p in redrawn} >= {".png", ".md"}
    selection = EvalResults.load(tmp_path / "selection_across_families/results/smoke/selection.npz")
    assert selection.class_names == ("DenseLinear", "Sinusoid")
    assert selection.seeds("mixture model") == len(s.seeds)
    # The mixture's Bayes predictor implies exactly its class posterior (float32 storage).
    weight = selection.selection.implied_weight["Bayes"][: s.selection_prompts]
    assert selection.class_posterior is not None
    posterior = selection.class_posterior[: s.selection_prompts, 0]
    identified = ~np.isnan(weight)
    assert identified[:, 1:].all()
    np.testing.assert_allclose(weight[identified], posterior[identified], atol=1e-6)
    # Convex combinations: at alpha = 0 and 1 the oracle is the single class's Bayes predictor,
    # so the pretraining mixture's Bayes predictor cannot beat it on average.
    for alpha in (0, 1):
        end = EvalResults.load(tmp_path / f"convex_combinations/results/smoke/alpha{alpha}.npz")
        assert np.all(end.mean("Bayes")[1:] <= end.mean("Bayes pretraining mixture")[1:] + 0.05)
    table = (tmp_path / "frequency_extrapolation/tables/smoke/frequency.md").read_text()
    assert "Bayes sinusoid band" in table and "f 4" in table
    # What the predictors draw: with noise std 0.1 and 8 examples of a linear function, the
    # oracle's drawn function is close to the truth on the grid.
    written = function_drawings.run("smoke", root=tmp_path, progress=False)
    assert [p.suffix for p in written] == [".npz", ".png"]
    with np.load(written[0]) as drawings:
        error = drawings["linear/Bayes (oracle)"] - drawings["linear/truth"]
        assert np.sqrt(np.mean(error**2)) < 0.3
        assert np.all(np.isfinite(drawings["above the band (f = 4)/mixture model"]))
