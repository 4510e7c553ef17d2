"""Tables of saved results: Markdown for files (the experiments' tables), where a curve cell reads
`mean [low, high]` (the 95% bootstrap interval), and the terminal (the CLI and the quickstart,
through rich), where it reads `mean±half-width` so that five context lengths fit 80 columns; n/a
where a predictor has no prediction. Every table is a `Table` value first, written out by
`to_markdown` or `to_rich`."""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rich import box
from rich.console import Console
from rich.table import Table as RichTable

from icl_theory.evaluation.results import Curve, EvalResults
from icl_theory.priors import describe_prior
from icl_theory.records import unclean_segments
from icl_theory.training.curves import read_curves
from icl_theory.training.metrics_log import METRICS_NAME
from icl_theory.training.run_folder import PROVENANCE_NAME, RunFolder


@dataclass(frozen=True)
class Table:
    """Rows of text cells under column headers: one value for a table whether it is written to a
    Markdown file or printed to the terminal. The first column labels the rows; the others are
    right-aligned in the terminal (numbers), and in Markdown too with `align_numbers`."""

    columns: Sequence[str]
    rows: Sequence[Sequence[str]]
    align_numbers: bool = False

    def __post_init__(self) -> None:
        for index, row in enumerate(self.rows):
            if len(row) != len(self.columns):
                raise ValueError(
                    f"Table.rows[{index}] has {len(row)} cells for {len(self.columns)} columns "
                    f"({list(self.columns)}): give one cell per column"
                )

    def to_markdown(self) -> str:
        """`| a | b |`, `|---|---|`, then a line per row; an empty cell is `| |`."""
        rule = "---:|" if self.align_numbers else "---|"
        lines = [_markdown_line(self.columns), "|---|" + rule * (len(self.columns) - 1)]
        lines += [_markdown_line(row) for row in self.rows]
        return "\n".join(lines) + "\n"

    def to_rich(self, title: str | None = None) -> RichTable:
        """A borderless rich table with a rule under the header, as the CLI prints."""
        table = RichTable(
            title=title, box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, collapse_padding=True
        )
        # The label column wraps (a long spec), the numbers never do: they are cut otherwise.
        longest = max((len(row[0]) for row in self.rows), default=0)
        table.add_column(self.columns[0], overflow="fold", min_width=min(longest, 24))
        for column in self.columns[1:]:
            table.add_column(column, justify="right", no_wrap=True)
        for row in self.rows:
            table.add_row(*row)
        return table


def _markdown_line(cells: Sequence[str]) -> str:
    return "|" + "".join(f" {cell} |" if cell else " |" for cell in cells)


# Only a Bayes predictor has NaN errors: see `evaluate`.
UNDEFINED_NOTE = (
    "n/a: no prediction there: the Bayes predictor's prior gives these prompts probability zero "
    "(noise-free data outside its class, e.g. more than k points of a function that is not "
    "k-sparse), so it has no posterior to predict with."
)
"""The note under a table with n/a cells."""


def curve_rows(
    results: EvalResults,
    names: Sequence[str],
    positions: Sequence[int],
    *,
    excess_over: str | None = None,
    compact: bool = False,
) -> tuple[list[list[str]], bool]:
    """One row per predictor (`excess_over` itself left out): its name, then `mean [low, high]`
    of its error (or of its paired excess over `excess_over`) at each position (`compact`:
    `mean±h`, `h` the larger distance from the mean to an end of the interval, with 2 decimals,
    or none from 10 on); and whether
    some cell is n/a."""
    rows, undefined = [], False
    for name in names:
        if excess_over is not None and name == excess_over:
            continue
        curve = results.excess(name, excess_over) if excess_over else results.curve(name)
        undefined |= bool(np.isnan(curve.mean[list(positions)]).any())
        cell = _compact_cell if compact else _cell
        rows.append([name, *(cell(curve, p) for p in positions)])
    return rows, undefined


def sweep_table(
    sweep: Sequence[EvalResults],
    names: Sequence[str],
    position: int,
    columns: Sequence[str],
    *,
    excess_over: str | None = None,
) -> str:
    """Markdown: one row per predictor, one column per result of a sweep (an evaluation per
    value of a setting), `mean [low, high]` at one context length: of its error, or of its
    paired excess over `excess_over` (as in `curve_rows`)."""
    rows = []
    for name in names:
        curves = [r.excess(name, excess_over) if excess_over else r.curve(name) for r in sweep]
        rows.append([name, *(_cell(curve, position) for curve in curves)])
    return Table(["predictor", *columns], rows).to_markdown()


def _cell(curve: Curve, position: int) -> str:
    if np.isnan(curve.mean[position]):
        return "n/a"
    return f"{curve.mean[position]:.3f} [{curve.low[position]:.3f}, {curve.high[position]:.3f}]"


def _compact_cell(curve: Curve, position: int) -> str:
    mean = curve.mean[position]
    if np.isnan(mean):
        return "n/a"
    half = max(curve.high[position] - mean, mean - curve.low[position])
    decimals = 2 if max(abs(mean), half) < 10 else 0  # at most 9 characters up to 9999
    return f"{mean:.{decimals}f}±{half:.{decimals}f}"


def curve_table(
    results: EvalResults,
    names: Sequence[str],
    positions: Sequence[int],
    *,
    excess_over: str | None = None,
) -> str:
    """Markdown of `curve_rows`, one column per context length, with the n/a note under it."""
    rows, undefined = curve_rows(results, names, positions, excess_over=excess_over)
    table = Table(["predictor", *(f"n = {p}" for p in positions)], rows).to_markdown()
    return table + (f"\n{UNDEFINED_NOTE}\n" if undefined else "")


def value_table(row_labels: Sequence[str], column_labels: Sequence[str], values: np.ndarray) -> str:
    """Markdown table of plain numbers (rows x columns); NaN reads n/a."""
    rows = [
        [label, *("n/a" if np.isnan(v) else f"{v:.3f}" for v in row)]
        for label, row in zip(row_labels, values, strict=True)
    ]
    return Table(["", *column_labels], rows).to_markdown()


def default_positions(n_points: int) -> list[int]:
    """A few context lengths spread over a prompt: 1, 2, n/4, n/2 and the last."""
    return sorted({1, 2, n_points // 4, n_points // 2, n_points - 1} - {0})


def print_curve_tables(
    results: EvalResults, console: Console, positions: Sequence[int] | None = None
) -> None:
    """The `curve_rows` of every predictor (compact cells), one table per class of the
    evaluation prior, and a legend saying what the numbers and names mean."""
    positions = default_positions(results.n_points) if positions is None else positions
    classes = results.class_names if len(results.class_names) > 1 else (None,)
    undefined = False
    for class_label in classes:
        subset = results if class_label is None else results.for_class(class_label)
        title = "all prompts" if class_label is None else f"{class_label} prompts"
        rows, some_undefined = curve_rows(subset, list(subset.names), positions, compact=True)
        undefined |= some_undefined
        table = Table(["predictor", *(f"n = {p}" for p in positions)], rows)
        console.print(
            table.to_rich(f"{title} ({subset.n_prompts}): error at n in-context examples")
        )
    console.print(table_legend(results, undefined))


def table_legend(results: EvalResults, undefined: bool) -> str:
    """What the terminal tables' numbers and names mean."""
    lines = [
        "error: squared error against f(x) divided by the output variance of the prompt's class "
        "(0 is perfect; predicting 0 scores 1), mean over prompts ± half its 95% bootstrap "
        "interval."
    ]
    bayes = results.setup.bayes
    if "Bayes" in results.names and bayes == "exact":
        whole = "the mixture" if len(results.class_names) > 1 else "the evaluation prior"
        lines.append(
            f"Bayes: the exact Bayes predictor of {whole}, the best any predictor can do on "
            "average; Bayes CLASS: that of one class alone."
        )
    elif bayes is not None and bayes != "exact":  # what `evaluate` recorded in place of one
        lines.append(f"Bayes predictor of the evaluation prior: {bayes}.")
    if undefined:
        lines.append(UNDEFINED_NOTE)
    return "\n".join(lines)


def runs_table(folder: Path) -> str:
    """Markdown: every run under `folder` with its steps, training time (the sum of the timed
    compiled calls: compilation, evaluation and checkpoints excluded) and final monitoring error
    at a few positions (256 prompts of its own training prior), and the code it was trained
    from: `committed`, or **uncommitted** when any training segment (start, resume, extension)
    ran with uncommitted changes to the code (its `provenance.json` lists them)."""
    columns = [
        "run",
        "prior",
        "steps",
        "training time",
        "monitoring error at positions 1 / 3 / 8 / last",
        "trained from",
    ]
    rows = []
    for run in sorted(p for p in folder.iterdir() if (p / METRICS_NAME).exists()):
        curves = read_curves(run)
        config = RunFolder(run).recorded_config()
        steps = int(curves.loss_steps[-1]) if curves.loss_steps.size else 0
        last = list(curves.eval_error[-1]) if curves.eval_steps.size else []
        picked = " / ".join(
            f"{last[p]:.3f}" for p in (1, 3, 8, len(last) - 1) if 0 <= p < len(last)
        )
        minutes = curves.training_seconds / 60
        prior = f"`{describe_prior(config.prior)}`"
        code = _training_code(RunFolder(run))
        rows.append([run.name, prior, str(steps), f"{minutes:.1f} min", picked, code])
    return Table(columns, rows).to_markdown()


def _training_code(run: RunFolder) -> str:
    if not (run.path / PROVENANCE_NAME).is_file():
        return f"unknown (no {PROVENANCE_NAME})"
    provenance = run.provenance()
    unclean = unclean_segments(provenance)
    segments = provenance.get("segments") or []
    if not unclean and any(segment.get("recorded_late") for segment in segments):
        return "committed code at its start (later segments not recorded)"
    if not unclean:
        return "committed code"
    return f"**uncommitted code** ({len(unclean)} segment{'s' if len(unclean) > 1 else ''})"


__all__ = [
    "UNDEFINED_NOTE",
    "Table",
    "curve_rows",
    "curve_table",
    "default_positions",
    "print_curve_tables",
    "runs_table",
    "sweep_table",
    "table_legend",
    "value_table",
]
