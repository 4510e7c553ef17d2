"""Experiment 2's tables and figure, drawn from its saved results only."""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from experiments import intermediate_sparsity, names
from experiments.common import provenance_line
from experiments.linear_study import experiment_dir, study
from icl_theory.evaluation import EvalResults
from icl_theory.plotting import nan_quantile, save_figure
from icl_theory.records import write_text
from icl_theory.tables import UNDEFINED_NOTE, sweep_table, value_table

NAME = "intermediate_sparsity"
AXIS_LABEL = "nonzero coefficients of the prompts' functions"


def replot(preset: str = "small", *, root: Path | None = None) -> list[Path]:
    """The error, implied-weight and support panels over the nonzero count, and their tables."""
    s = study(preset)
    folder = experiment_dir(NAME, preset, "results", root)
    counts = list(range(1, s.dim + 1))
    loaded = [EvalResults.load(folder / f"nonzeros{c}.npz") for c in counts]
    shown = [n for n in loaded[0].names if n != names.BAYES] + [names.BAYES]
    # d / 2 rounded up, as in the other experiments' tables (`LinearStudy.key_lengths`), and d.
    positions = [p for p in ((s.dim + 1) // 2, s.dim) if p < s.n_points]
    panels = len(positions) + 2
    figure, axes = plt.subplots(1, panels, figsize=(5.5 * panels, 4.5))
    text = [f"# Intermediate sparsity, preset `{preset}` (noise-free)\n\n"]
    text.append(provenance_line(loaded[0]))
    for ax, position in zip(axes, positions, strict=False):
        text += _error_panel(ax, loaded, shown, counts, position, s.k)
    position = positions[0]
    selection = loaded[0].selection
    weights = _medians_by_count(loaded, "implied_weight", list(selection.implied_weight), position)
    unexplained = _medians_by_count(loaded, "unexplained", list(selection.implied_weight), position)
    off_support = _medians_by_count(loaded, "off_support", list(selection.off_support), position)
    for ax, names_shown, values, ylabel, limits in (
        (axes[-2], selection.implied_weight, weights, "implied weight on dense", (-0.1, 1.1)),
        (
            axes[-1],
            selection.off_support,
            off_support,
            "implied w's share off the support",
            (-0.05, 1.05),
        ),
    ):
        for name, row in zip(names_shown, values, strict=True):
            ax.plot(counts, row, marker="o", label=name)
        ax.set_xlabel(AXIS_LABEL)
        ax.set_ylabel(f"{ylabel} at {position} examples (median)")
        ax.set_ylim(*limits)
        ax.grid(alpha=0.3)
        ax.legend(fontsize="x-small")
    figure.tight_layout()
    written = [save_figure(figure, experiment_dir(NAME, preset, "figures", root) / "sweep.png")]
    columns = [f"nnz {c}" for c in counts]
    for title, names_shown, values in (
        (
            f"Implied weight on the dense class at {position} examples (median over prompts)",
            selection.implied_weight,
            weights,
        ),
        (
            f"Unexplained share of the departure from the sparse predictor, at {position} "
            "examples (median)",
            selection.implied_weight,
            unexplained,
        ),
        (
            f"Share of the implied linear function off the prompts' true support, at {position} "
            "examples (median; undefined at d nonzeros)",
            selection.off_support,
            off_support,
        ),
    ):
        text.append(f"\n## {title}\n\n")
        text.append(value_table(list(names_shown), columns, values))
    if {names.MIXTURE_MODEL, names.model("dense")} <= set(shown):
        # Does the mixture model lie between the specialists? Paired with the dense one, on the
        # same prompts, at k + 1, d / 2 (rounded up) and d examples.
        text.append(
            "\n## Paired excess of the mixture model over the dense specialist (95% intervals "
            "over prompts and seeds)\n"
        )
        for p in sorted({s.k + 1, (s.dim + 1) // 2, s.dim} & set(range(1, s.n_points))):
            text.append(f"\nAt {p} examples:\n\n")
            text.append(
                sweep_table(
                    loaded, [names.MIXTURE_MODEL], p, columns, excess_over=names.model("dense")
                )
            )
    written.append(
        write_text(experiment_dir(NAME, preset, "tables", root) / "sweep.md", "".join(text))
    )
    return written


def _error_panel(ax, loaded: list[EvalResults], shown, counts, position: int, k: int) -> list:
    """One panel of mean error against the nonzero count at `position`; its Markdown table."""
    table = np.full((len(shown), len(counts)), np.nan)
    # Not evaluated: the own-class Bayes predictor beyond MAX_SUPPORTS supports.
    evaluated = np.array([[name in r.names for r in loaded] for name in shown])
    for j, results in enumerate(loaded):
        for i, name in enumerate(shown):
            if evaluated[i, j]:
                table[i, j] = results.mean(name)[position]
    for i, name in enumerate(shown):
        style = {"color": "black"} if name == names.BAYES else {}
        ax.plot(counts, table[i], marker="o", label=name, **style)
    ax.axvline(k, color="grey", linestyle=":")
    ax.set_xlabel(AXIS_LABEL)
    ax.set_ylabel(f"normalised error at {position} in-context examples")
    # Noise-free Bayes errors are 0 up to float64 round-off (1e-30): linear near 0 so that they
    # sit on the axis, logarithmic above 1e-3 where the learners' errors spread over decades.
    ax.set_yscale("symlog", linthresh=1e-3)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="x-small")
    text = [f"\n## Normalised error at {position} in-context examples (mean over prompts)\n\n"]
    text.append(value_table(shown, [f"nnz {c}" for c in counts], table))
    if np.isnan(table[evaluated]).any():
        text.append(f"\n{UNDEFINED_NOTE}\n")
    if not evaluated.all():
        text.append(
            "\nn/a where a Bayes predictor has more than "
            f"{intermediate_sparsity.MAX_SUPPORTS:,} sparse supports to enumerate: not "
            "evaluated.\n"
        )
    return text


def _medians_by_count(
    loaded: list[EvalResults], kind: str, shown: list[str], position: int
) -> np.ndarray:
    """Median of one diagnostic at `position`, one row per predictor, one column per result (NaN
    where a result lacks the predictor: own-class Bayes beyond `MAX_SUPPORTS`)."""
    return np.array(
        [
            [
                nan_quantile(getattr(r.selection, kind)[name][:, position], 0.5)
                if name in getattr(r.selection, kind)
                else np.nan
                for r in loaded
            ]
            for name in shown
        ]
    )
