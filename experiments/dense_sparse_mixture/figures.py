"""Experiment 1's tables and figures, drawn from its saved results only."""

from pathlib import Path

import numpy as np

from experiments import names
from experiments.common import provenance_line, seed_table
from experiments.linear_study import experiment_dir, runs_dir, study
from icl_theory.evaluation import EvalResults
from icl_theory.plotting import nan_quantile, save_figure, summary_figure
from icl_theory.records import write_text
from icl_theory.tables import curve_table, runs_table, value_table

NAME = "dense_sparse_mixture"


def replot(preset: str = "small", *, root: Path | None = None) -> list[Path]:
    """Tables and figures of experiment 1 from its saved results."""
    s = study(preset)
    written = []
    if runs_dir(preset, root).is_dir():  # a preset that trains runs of its own
        written.append(
            write_text(
                runs_dir(preset, root) / "runs.md",
                f"# Training runs, preset `{preset}`\n\n" + runs_table(runs_dir(preset, root)),
            )
        )
    for noise in s.noise_levels:
        tag = f"noise{noise:g}"
        results = EvalResults.load(experiment_dir(NAME, preset, "results", root) / f"{tag}.npz")
        plotted = [n for n in results.names if n != "averaging"]
        figure = summary_figure(results, plotted)
        written.append(
            save_figure(figure, experiment_dir(NAME, preset, "figures", root) / f"{tag}.png")
        )
        text = [f"# Dense vs sparse vs mixture, preset `{preset}`, noise std {noise:g}\n"]
        text.append(provenance_line(results))
        for class_label, own in zip(results.class_names, ("dense", "sparse"), strict=True):
            text += _class_section(results.for_class(class_label), class_label, own, s)
        written.append(
            write_text(experiment_dir(NAME, preset, "tables", root) / f"{tag}.md", "".join(text))
        )
    return written


def _class_section(subset: EvalResults, class_label: str, own: str, s) -> list[str]:
    positions = s.key_lengths()
    # The noisy setting of a preset may have the mixture model only (no specialists to compare).
    specialist = [names.model(own)] if names.model(own) in subset.names else []
    text = [
        f"\n## {class_label} prompts: normalised error (95% CI)\n\n",
        curve_table(subset, list(subset.names), positions),
        f"\n## {class_label} prompts: mean normalised error of each training seed "
        "(the seed-to-seed spread an effect must exceed)\n\n",
        seed_table(subset, s.seeds, positions),
    ]
    if specialist:
        text += [
            f"\n## {class_label} prompts: excess over the {own} specialist model\n\n",
            curve_table(
                subset,
                [names.MIXTURE_MODEL, names.BAYES, names.bayes(own)],
                positions,
                excess_over=names.model(own),
            ),
        ]
    text += [
        f"\n## {class_label} prompts: excess over Bayes of the class (Bayes {own})\n\n",
        curve_table(
            subset,
            [names.MIXTURE_MODEL, *specialist, names.BAYES],
            positions,
            excess_over=names.bayes(own),
        ),
        f"\n## {class_label} prompts: excess over Bayes of the mixture\n\n",
        curve_table(subset, [names.MIXTURE_MODEL, *specialist], positions, excess_over=names.BAYES),
        f"\n## {class_label} prompts: implied weight on the dense class and the "
        "unexplained share (medians over the probed prompts)\n\n",
        _weight_table(subset, positions),
        f"\n## {class_label} prompts: the implied linear function's share off the true "
        "support, and the share no linear function explains (medians over the probed "
        "prompts)\n\n",
        _linear_function_table(subset, positions),
    ]
    return text


def _weight_table(results: EvalResults, positions: list[int]) -> str:
    selection = results.selection
    rows, values = [], []
    for name in selection.implied_weight:
        for kind, arrays in (
            ("implied weight", selection.implied_weight),
            ("unexplained", selection.unexplained),
        ):
            rows.append(f"{name}: {kind}")
            values.append(nan_quantile(arrays[name][:, positions], 0.5))
    return value_table(rows, [f"n = {p}" for p in positions], np.array(values))


def _linear_function_table(results: EvalResults, positions: list[int]) -> str:
    selection = results.selection
    rows, values = [], []
    for name in selection.off_support:
        for kind, arrays in (
            ("off support", selection.off_support),
            ("nonlinear", selection.nonlinear),
        ):
            median = nan_quantile(arrays[name][:, positions], 0.5)
            if not np.isnan(median).all():  # off support: undefined on dense prompts
                rows.append(f"{name}: {kind}")
                values.append(median)
    return value_table(rows, [f"n = {p}" for p in positions], np.array(values))
