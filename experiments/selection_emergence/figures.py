"""The selection-emergence tables and figure, drawn from its saved results only."""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

from experiments import names
from experiments.common import provenance_line
from experiments.linear_study import LinearStudy, experiment_dir, study
from icl_theory.evaluation import EvalResults
from icl_theory.plotting import nan_quantile, save_figure
from icl_theory.records import write_text
from icl_theory.tables import Table, curve_table, value_table

NAME = "selection_emergence"


def positions_shown(s: LinearStudy, noise: float) -> list[int]:
    """Noise-free: k + 1 (the first context that can tell a k-sparse function from a dense one)
    to d examples (where both classes' predictors know a sparse function and the weight is no
    longer identified). With noise the weight is identified at every length: the table's key
    lengths."""
    if noise > 0:
        return s.key_lengths()
    return [p for p in range(s.k + 1, s.dim + 1) if p < s.n_points]


def seed_medians(results: EvalResults, name: str, seeds: int, positions: list[int]) -> np.ndarray:
    """(seeds, positions): each training seed's median implied dense weight over the probed
    prompts."""
    weights = results.selection.implied_weight
    return np.array(
        [nan_quantile(weights[names.seed_of(name, i)][:, positions], 0.5) for i in range(seeds)]
    )


def replot(preset: str = "sparse-regime", *, root: Path | None = None) -> list[Path]:
    """Implied dense weight on sparse prompts against training steps, next to the Bayes
    posterior; the error on sparse and on dense prompts against training steps."""
    s = study(preset)
    results = EvalResults.load(experiment_dir(NAME, preset, "results", root) / "emergence.npz")
    steps = [int(step) for step in results.notes["steps"]]
    seeds = results.seeds(f"mixture model, step {steps[-1]}")
    noise = float(results.notes.get("noise_std", 0.0))
    positions = positions_shown(s, noise)
    dense, sparse = (results.for_class(label) for label in results.class_names)
    panels = 4 if noise > 0 else 3
    figure, axes = plt.subplots(1, panels, figsize=(17 * panels / 3, 4.8))
    text = [
        f"# When the mixture model selects: implied weight against training steps, preset "
        f"`{preset}` ({f'noise std {noise:g}' if noise > 0 else 'noise-free'})\n",
        provenance_line(results),
        "\nThe implied weight on the dense class is the `beta` of the blend "
        "`beta * Bayes dense + (1 - beta) * Bayes sparse` closest to the model's predictions at "
        "fresh query inputs, per prompt and context length (`docs/evaluation.md`); the mixture's "
        "Bayes predictor's implied weight is its class posterior. Each cell: the mean over "
        f"{seeds} training seeds of each seed's median over the probed prompts, with the lowest "
        "and highest seed in brackets; n/a where the weight is not identified (no context, or "
        "both classes' predictors agree).\n",
    ]
    text += _weight_panel(axes[0], sparse, results.class_names[1], steps, seeds, positions)
    text += _error_panel(axes[1], sparse, results.class_names[1], steps, positions)
    dense_positions = [p for p in (1, s.k + 1, (s.dim + 1) // 2, s.dim) if p < s.n_points]
    if noise > 0:
        text += _weight_panel(axes[2], dense, results.class_names[0], steps, seeds, positions)
        dense_positions = positions
    # Noise-free, the weight is identified on dense prompts only up to k examples (beyond, no
    # k-sparse function fits them): the dense prompts are shown by their error.
    text += _error_panel(
        axes[-1], dense, results.class_names[0], steps, sorted(set(dense_positions))
    )
    figure.tight_layout()
    return [
        save_figure(figure, experiment_dir(NAME, preset, "figures", root) / "emergence.png"),
        write_text(experiment_dir(NAME, preset, "tables", root) / "emergence.md", "".join(text)),
    ]


def _weight_panel(
    ax: Axes,
    results: EvalResults,
    class_label: str,
    steps: list[int],
    seeds: int,
    positions: list[int],
) -> list[str]:
    per_step = np.array(
        [
            seed_medians(results, names.at_step(names.MIXTURE_MODEL, step), seeds, positions)
            for step in steps
        ]
    )  # (steps, seeds, positions)
    bayes = np.asarray(
        nan_quantile(results.selection.implied_weight[names.BAYES][:, positions], 0.5)
    )  # (positions,)
    colours = plt.get_cmap("viridis")(np.linspace(0.0, 0.85, len(positions)))
    for column, (position, colour) in enumerate(zip(positions, colours, strict=True)):
        for seed in range(seeds):
            ax.plot(steps, per_step[:, seed, column], color=colour, alpha=0.35, linewidth=0.8)
        ax.plot(
            steps,
            per_step[:, :, column].mean(axis=1),
            color=colour,
            marker="o",
            label=f"mixture model, n = {position}",
        )
        ax.axhline(
            bayes[column], color=colour, linestyle="--", label=f"Bayes posterior, n = {position}"
        )
    ax.set_xscale("log")
    ax.set_xlim(steps[0] / 1.5, steps[-1] * 1.5)  # set: a panel may have no defined weight
    ax.set_ylim(-0.1, max(1.1, float(np.nanmax(per_step, initial=0.0)) + 0.05))
    ax.set_xlabel("training step")
    ax.set_ylabel("implied weight on the dense class (median)")
    ax.set_title(f"{class_label} prompts")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="x-small")
    cells = [
        [_seed_cell(per_step[i, :, c]) for c in range(len(positions))] for i in range(len(steps))
    ]
    rows = [[f"{step:,}", *row] for step, row in zip(steps, cells, strict=True)]
    rows.append(["Bayes posterior", *(_seed_cell(np.array([b])) for b in bayes)])
    return [
        f"\n## {class_label} prompts: implied weight on the dense class\n\n",
        Table(["step", *(f"n = {p}" for p in positions)], rows).to_markdown(),
    ]


def _error_panel(
    ax: Axes, results: EvalResults, class_label: str, steps: list[int], positions: list[int]
) -> list[str]:
    at_steps = [names.at_step(names.MIXTURE_MODEL, step) for step in steps]
    means = np.array([results.mean(name)[positions] for name in at_steps])  # (steps, positions)
    references = [n for n in results.names if not n.startswith(names.MIXTURE_MODEL)]
    colours = plt.get_cmap("viridis")(np.linspace(0.0, 0.85, len(positions)))
    for column, (position, colour) in enumerate(zip(positions, colours, strict=True)):
        ax.plot(
            steps,
            means[:, column],
            color=colour,
            marker="o",
            label=f"mixture model, n = {position}",
        )
        for name, style in ((names.LEAST_SQUARES, ":"), (names.BAYES, "--")):
            level = results.mean(name)[position]
            # Noise-free, Bayes (and least squares from d examples) is exact to round-off:
            # nothing to draw on a log axis.
            if level > 1e-6:
                label = f"{name} (same colour)" if column == 0 else None
                ax.axhline(level, color=colour, linestyle=style, label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("training step")
    ax.set_ylabel("normalised error")
    ax.set_title(f"{class_label} prompts: error")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="x-small")
    return [
        f"\n## {class_label} prompts: normalised error (95% CI over prompts and seeds)\n\n",
        curve_table(results, at_steps + references, positions),
        f"\n## {class_label} prompts: mean normalised error per step\n\n",
        value_table([f"step {step:,}" for step in steps], [f"n = {p}" for p in positions], means),
    ]


def _seed_cell(values: np.ndarray) -> str:
    """The mean over seeds, with the lowest and highest seed; n/a where the weight is not
    identified."""
    if np.isnan(values).any():
        return "n/a"
    if values.size == 1:
        return f"{values[0]:.2f}"
    return f"{values.mean():.2f} [{values.min():.2f}, {values.max():.2f}]"
