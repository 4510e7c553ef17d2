"""Figures drawn from saved results: what the axes show, checked on hand-built results."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from icl_theory.evaluation import EvalResults, EvalSetup
from icl_theory.plotting import ERROR_CEILING, ERROR_FLOOR, plot_icl_curves


def results_with(errors: dict[str, np.ndarray]) -> EvalResults:
    n_points = next(iter(errors.values())).shape[-1]
    n_prompts = next(iter(errors.values())).shape[-2]
    return EvalResults(
        errors={name: value[None] for name, value in errors.items()},
        class_index=np.zeros(n_prompts, np.int32),
        setup=EvalSetup(n_points=n_points, n_prompts=n_prompts),
    )


def test_icl_curves_clip_a_misspecified_predictor_and_say_so():
    """A predictor 1e4 times worse than the zero predictor (a wrong class's noise-free Bayes
    predictor) must not squash the others: the axis stops at the ceiling and its legend entry says
    it is off scale; exact (zero-error) predictors sit on the floor."""
    rng = np.random.default_rng(0)
    good = rng.uniform(0.1, 1.0, (50, 6))
    errors = {"model": good, "wrong class": good * 1e4, "exact": np.zeros((50, 6))}
    figure, ax = plt.subplots()
    plot_icl_curves(ax, results_with(errors))
    bottom, top = ax.get_ylim()
    assert bottom == pytest.approx(ERROR_FLOOR)
    assert top == pytest.approx(ERROR_CEILING)
    legend = ax.get_legend()
    assert legend is not None
    labels = [text.get_text() for text in legend.get_texts()]
    assert labels == ["model", "wrong class (off scale)", "exact"]
    plt.close(figure)


def test_icl_curves_keep_the_automatic_top_when_everything_fits():
    errors = {"model": np.full((20, 4), 0.5)}
    figure, ax = plt.subplots()
    plot_icl_curves(ax, results_with(errors))
    assert ax.get_ylim()[1] < ERROR_CEILING
    legend = ax.get_legend()
    assert legend is not None
    assert [text.get_text() for text in legend.get_texts()] == ["model"]
    plt.close(figure)
