"""The layout-parity table and figure, drawn from the saved results only.

For each class and position: each layout's mean normalised error with its 95% bootstrap interval
(prompts and seeds resampled) and its seeds' range, the difference of the means, and whether the
paired models' mean lies within the interleaved models' seed range (the parity criterion).
"""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from experiments.common import provenance_line
from experiments.layout_parity.settings import LABELS, NAME
from experiments.paths import experiment_dir
from icl_theory.evaluation import EvalResults
from icl_theory.plotting import plot_icl_curves, save_figure
from icl_theory.records import write_text
from icl_theory.tables import Table

INTERLEAVED = "interleaved"
PAIRED = "paired"
BATCH = 64  # every run of the linear study


def results_path(preset: str, label: str, root: Path | None = None) -> Path:
    return experiment_dir(NAME, preset, "results", root) / f"{label}.npz"


def replot(preset: str = "sparse-regime", *, root: Path | None = None) -> list[Path]:
    loaded = {label: EvalResults.load(results_path(preset, label, root)) for label in LABELS}
    first = loaded[LABELS[0]]
    text = [f"# Layout parity, preset `{preset}`\n", provenance_line(first)]
    text.append(
        "\nThe linear study's specialists trained with the paired token layout (one token per "
        "example) next to the committed interleaved ones: the same configs, seeds and prompts "
        f"seen ({first.notes['steps']:,} steps of {BATCH} prompts), each evaluated on prompts of "
        "its own class. Mean normalised error [95% bootstrap interval over prompts and seeds] "
        "(each seed's mean); `within` says whether the paired mean lies within the range of the "
        "interleaved seeds' means.\n"
    )
    for label, results in loaded.items():
        text.append(f"\n## {label}\n\n{_table(results).to_markdown()}")
    text.append("\n## Training speed\n\n" + _speed_table(loaded).to_markdown())
    table = write_text(experiment_dir(NAME, preset, "tables", root) / "parity.md", "".join(text))
    return [table, _figure(preset, loaded, root)]


def _seed_means(results: EvalResults, name: str) -> np.ndarray:
    return results.errors[name].mean(axis=1)  # (seeds, points)


def _cell(results: EvalResults, name: str, position: int) -> str:
    curve = results.curve(name)
    seeds = ", ".join(f"{m:.3f}" for m in _seed_means(results, name)[:, position])
    return (
        f"{curve.mean[position]:.3f} [{curve.low[position]:.3f}, {curve.high[position]:.3f}] "
        f"({seeds})"
    )


def _table(results: EvalResults) -> Table:
    interleaved = _seed_means(results, INTERLEAVED)
    paired = results.mean(PAIRED)
    rows = []
    for position in range(results.n_points):
        low, high = interleaved[:, position].min(), interleaved[:, position].max()
        within = "yes" if low <= paired[position] <= high else "no"
        difference = paired[position] - results.mean(INTERLEAVED)[position]
        rows.append(
            [
                str(position),
                _cell(results, INTERLEAVED, position),
                _cell(results, PAIRED, position),
                f"{difference:+.3f}",
                within,
            ]
        )
    columns = ["examples", INTERLEAVED, PAIRED, "paired - interleaved", "within"]
    return Table(columns, rows)


def _speed_table(loaded: dict[str, EvalResults]) -> Table:
    """Prompts per core-second of each layout's training (the timed compiled calls; the runs
    trained on cores that may have been shared, so compare within a row)."""
    rows = []
    for label, results in loaded.items():
        seconds = results.notes["training_seconds"]
        steps = results.notes["steps"]
        rates = {name: BATCH * steps / np.mean(seconds[name]) for name in (INTERLEAVED, PAIRED)}
        rows.append(
            [
                label,
                f"{rates[INTERLEAVED]:,.0f}",
                f"{rates[PAIRED]:,.0f}",
                f"{rates[PAIRED] / rates[INTERLEAVED]:.2f}x",
            ]
        )
    columns = ["class", f"{INTERLEAVED}, prompts/s", f"{PAIRED}, prompts/s", "ratio"]
    return Table(columns, rows, align_numbers=True)


def _figure(preset: str, loaded: dict[str, EvalResults], root: Path | None) -> Path:
    figure, axes = plt.subplots(1, len(loaded), figsize=(6 * len(loaded), 4.5))
    for ax, (label, results) in zip(np.atleast_1d(axes), loaded.items(), strict=True):
        plot_icl_curves(ax, results, title=f"{label} prompts")
    figure.tight_layout()
    return save_figure(figure, experiment_dir(NAME, preset, "figures", root) / "parity.png")
