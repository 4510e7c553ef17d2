"""Where an experiment writes, and its tables: Markdown drawn from saved results only."""

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from icl_theory.evaluation.results import EvalResults
from icl_theory.records import write_atomic

EXPERIMENTS = Path(__file__).resolve().parents[2] / "experiments"


# Only a Bayes predictor has NaN errors: see `evaluate`.
UNDEFINED_NOTE = (
    "n/a: no prediction there: the Bayes predictor's prior gives these prompts probability zero "
    "(noise-free data outside its class, e.g. more than k points of a function that is not "
    "k-sparse), so it has no posterior to predict with."
)


def experiment_dir(experiment: str, preset: str, kind: str, root: Path | None = None) -> Path:
    """`experiments/EXPERIMENT/KIND/PRESET` (KIND: results, figures, tables)."""
    return (root or EXPERIMENTS) / experiment / kind / preset


def runs_dir(preset: str, root: Path | None = None) -> Path:
    """Training runs shared by the experiments: `experiments/runs/PRESET/NAME`."""
    return (root or EXPERIMENTS) / "runs" / preset


def curve_table(
    results: EvalResults,
    names: Sequence[str],
    positions: Sequence[int],
    *,
    excess_over: str | None = None,
) -> str:
    """Markdown: one row per predictor, one column per context length, `mean [95% CI]`; with
    `excess_over`, each predictor's paired excess over that one instead. n/a (and a note under
    the table) where a predictor has no prediction on some prompt (NaN errors)."""
    header = "| predictor | " + " | ".join(f"n = {p}" for p in positions) + " |"
    rule = "|---|" + "---|" * len(positions)
    rows = [header, rule]
    undefined = False
    for name in names:
        if excess_over is not None and name == excess_over:
            continue
        curve = results.excess(name, excess_over) if excess_over else results.curve(name)
        undefined |= bool(np.isnan(curve.mean[list(positions)]).any())
        cells = [
            "n/a"
            if np.isnan(curve.mean[p])
            else f"{curve.mean[p]:.3f} [{curve.low[p]:.3f}, {curve.high[p]:.3f}]"
            for p in positions
        ]
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    table = "\n".join(rows) + "\n"
    return table + (f"\n{UNDEFINED_NOTE}\n" if undefined else "")


def value_table(row_labels: Sequence[str], column_labels: Sequence[str], values: np.ndarray) -> str:
    """Markdown table of plain numbers (rows x columns); NaN reads n/a."""
    rows = ["| | " + " | ".join(column_labels) + " |", "|---|" + "---|" * len(column_labels)]
    for label, row in zip(row_labels, values, strict=True):
        rows.append(
            f"| {label} | " + " | ".join("n/a" if np.isnan(v) else f"{v:.3f}" for v in row) + " |"
        )
    return "\n".join(rows) + "\n"


def write_text(path: Path, text: str) -> Path:
    write_atomic(path, text.encode())
    return path


def runs_table(folder: Path) -> str:
    """Markdown: every finished run under `folder` with its steps, training time (the sum of
    the timed compiled calls: compilation, evaluation and checkpoints excluded) and final
    monitoring error at a few positions (256 prompts of its own training prior)."""
    import json

    rows = [
        "| run | prior | steps | training time | monitoring error at positions 1 / 3 / 8 / last |",
        "|---|---|---|---|---|",
    ]
    for run in sorted(p for p in folder.iterdir() if (p / "metrics.jsonl").exists()):
        records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
        config = json.loads((run / "config.json").read_text())
        timed = [r for r in records if "steps_per_s" in r]
        seconds, previous = 0.0, 0
        for record in timed:
            seconds += (record["step"] - previous) / record["steps_per_s"]
            previous = record["step"]
        errors = [r["eval_error"] for r in records if "eval_error" in r]
        last = errors[-1] if errors else []
        picked = " / ".join(
            f"{last[p]:.3f}" for p in (1, 3, 8, len(last) - 1) if 0 <= p < len(last)
        )
        rows.append(
            f"| {run.name} | `{config['prior']}` | {previous} | {seconds / 60:.1f} min | {picked} |"
        )
    return "\n".join(rows) + "\n"
