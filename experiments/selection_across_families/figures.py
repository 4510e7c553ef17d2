"""Experiment 4's tables and figure, drawn from its saved results only."""

from pathlib import Path

import numpy as np

from experiments import names
from experiments.common import provenance_line, seed_table
from experiments.linear_sinusoid_study import LinearSinusoidStudy, study
from experiments.paths import experiment_dir
from icl_theory.evaluation import EvalResults
from icl_theory.plotting import nan_quantile, save_figure, summary_figure
from icl_theory.records import write_text
from icl_theory.tables import curve_table, runs_table, value_table

NAME = "selection_across_families"


def replot(preset: str = "small", *, root: Path | None = None) -> list[Path]:
    """The summary figure and the per-class tables of experiment 4."""
    s = study(preset)
    results = EvalResults.load(experiment_dir(NAME, preset, "results", root) / "selection.npz")
    written = [
        write_text(
            s.runs_dir(root) / "runs.md",
            f"# Training runs, linear + sinusoid preset `{preset}`\n\n"
            + runs_table(s.runs_dir(root)),
        ),
        save_figure(
            summary_figure(results),
            experiment_dir(NAME, preset, "figures", root) / "selection.png",
        ),
    ]
    text = [f"# Selection across families, preset `{preset}`\n", provenance_line(results)]
    text.append(
        "\nErrors here are over the class's *mean* output variance on the evaluation points "
        '(`normalise="class_mean"`): 1-D linear functions have output variance x^2, which '
        "vanishes at x = 0.\n"
    )
    for class_label, own in zip(results.class_names, ("linear", "sinusoid"), strict=True):
        text += _class_section(results.for_class(class_label), class_label, own, s)
    path = experiment_dir(NAME, preset, "tables", root) / "selection.md"
    return [*written, write_text(path, "".join(text))]


def _class_section(
    subset: EvalResults, class_label: str, own: str, s: LinearSinusoidStudy
) -> list[str]:
    positions = [p for p in s.key_lengths if p < s.n_points]
    other = "sinusoid" if own == "linear" else "linear"
    return [
        f"\n## {class_label} prompts: normalised error (95% CI over prompts and seeds)\n\n",
        curve_table(subset, list(subset.names), positions),
        f"\n## {class_label} prompts: mean error of each training seed\n\n",
        seed_table(subset, s.seeds, positions),
        f"\n## {class_label} prompts: paired excess over the {own} specialist\n\n",
        curve_table(
            subset,
            [names.MIXTURE_MODEL, names.model(other), names.BAYES, names.bayes(own)],
            positions,
            excess_over=names.model(own),
        ),
        f"\n## {class_label} prompts: paired excess over Bayes of the class (Bayes {own})\n\n",
        curve_table(
            subset,
            [names.MIXTURE_MODEL, names.model(own), names.BAYES],
            positions,
            excess_over=names.bayes(own),
        ),
        f"\n## {class_label} prompts: paired excess over Bayes of the mixture\n\n",
        curve_table(
            subset, [names.MIXTURE_MODEL, names.model(own)], positions, excess_over=names.BAYES
        ),
        f"\n## {class_label} prompts: weight on the linear class (medians over the probed "
        "prompts): the Bayes class posterior, and each predictor's implied weight\n\n",
        _weight_table(subset, positions),
    ]


def _weight_table(results: EvalResults, positions: list[int]) -> str:
    rows, values = [], []
    if results.class_posterior is not None:
        probed = ~np.isnan(next(iter(results.selection.implied_weight.values()))).all(axis=1)
        rows.append("Bayes class posterior p(linear | context)")
        values.append(nan_quantile(results.class_posterior[probed][:, 0, positions], 0.5))
    for name, weight in results.selection.implied_weight.items():
        rows += [f"{name}: implied weight", f"{name}: unexplained"]
        values.append(nan_quantile(weight[:, positions], 0.5))
        values.append(nan_quantile(results.selection.unexplained[name][:, positions], 0.5))
    return value_table(rows, [f"n = {p}" for p in positions], np.array(values))
