"""Experiment 7's figure, drawn from its saved predictions only."""

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from experiments import names
from experiments.paths import experiment_dir
from icl_theory.plotting import save_figure

NAME = "function_drawings"
STYLES = {
    names.MIXTURE_MODEL: {"color": "tab:blue"},
    names.PRETRAINING_BAYES: {"color": "tab:orange", "linestyle": "--"},
    names.ORACLE_BAYES: {"color": "black", "linestyle": ":"},
}


def replot(preset: str = "small", *, root: Path | None = None) -> list[Path]:
    """One column per prompt kind, one row per prompt: the true function, the context, and what
    each predictor predicts at every query of the grid."""
    path = experiment_dir(NAME, preset, "results", root) / "drawings.npz"
    with np.load(path) as data:
        saved = {key: data[key] for key in data.files}
    metadata = json.loads(str(saved["metadata"]))
    kinds, grid = metadata["kinds"], saved["grid"]
    rows = saved[f"{kinds[0]}/truth"].shape[0]
    figure, axes = plt.subplots(
        rows, len(kinds), figsize=(4 * len(kinds), 3.2 * rows), squeeze=False, sharex=True
    )
    for column, kind in enumerate(kinds):
        for row in range(rows):
            ax = axes[row, column]
            ax.plot(
                grid,
                saved[f"{kind}/truth"][row],
                color="grey",
                linewidth=3,
                alpha=0.5,
                label="true f",
            )
            for name, style in STYLES.items():
                ax.plot(grid, saved[f"{kind}/{name}"][row], label=name, **style)
            ax.scatter(
                saved[f"{kind}/context_x"][row],
                saved[f"{kind}/context_y"][row],
                color="red",
                s=14,
                zorder=3,
                label="context",
            )
            ax.grid(alpha=0.3)
            if row == 0:
                ax.set_title(f"{kind}\n({metadata['context']} examples)")
            if row == rows - 1:
                ax.set_xlabel("query x")
    axes[0, 0].legend(fontsize="x-small")
    figure.tight_layout()
    return [save_figure(figure, experiment_dir(NAME, preset, "figures", root) / "drawings.png")]
