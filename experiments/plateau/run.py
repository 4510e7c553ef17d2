"""Which training runs left the initial plateau, and when: from each run's recorded curves.

`python -m experiments.plateau.run` reads every run of the given runs folders (by default the
linear study's `sparse-regime` runs, with and without its curriculum) and writes, per folder,
`results/FOLDER.json`, `tables/FOLDER.md` and `figures/FOLDER.png` here. It trains nothing and
evaluates nothing: it reads `metrics.jsonl`, so it is cheap enough to rerun while runs train.
The question: README.md here.
"""

import argparse
import json
import math
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

from experiments.paths import runs_dir
from icl_theory.plotting import save_figure
from icl_theory.priors import describe_prior
from icl_theory.records import provenance, write_json_atomic, write_text
from icl_theory.tables import Table
from icl_theory.training.config import TrainConfig
from icl_theory.training.curves import plateau_exit, read_curves
from icl_theory.training.metrics_log import METRICS_NAME
from icl_theory.training.run_folder import RunFolder

HERE = Path(__file__).resolve().parent
DEFAULT_RUNS = ("sparse-regime-no-curriculum", "sparse-regime")
LEVEL = 0.9
SMOOTHING_STEPS = 1000  # the figure's trailing mean, for legibility only


def summarise(run: Path) -> dict[str, Any]:
    """One run: its plateau exit, its last loss, and its last monitoring error at d / 2 (rounded
    up) and at d examples."""
    config = RunFolder(run).recorded_config()
    curves = read_curves(run)
    scale = 1.0 if config.normalise_loss else _zero_predictor_loss(config)
    loss = curves.loss / scale
    half, full = math.ceil(config.dim / 2), config.dim
    last_error = curves.eval_error[-1] if len(curves.eval_steps) else None
    return {
        "prior": describe_prior(config.prior),
        "seed": config.seed,
        "curriculum": config.curriculum is not None,
        "steps_planned": config.steps,
        "steps_per_record": config.steps_per_call,
        "eval_prompts": config.eval_prompts,
        "steps_trained": int(curves.loss_steps[-1]) if curves.loss.size else 0,
        "loss_divided_by": scale,
        "plateau_exit_step": plateau_exit(curves.loss_steps, loss, LEVEL),
        "last_loss": float(loss[-1]) if loss.size else None,
        "last_eval_step": int(curves.eval_steps[-1]) if len(curves.eval_steps) else None,
        "dim": config.dim,
        "error_at": {
            str(n): None if last_error is None else float(last_error[n]) for n in (half, full)
        },
        "training_seconds": curves.training_seconds,
        "curve": {"step": curves.loss_steps.tolist(), "loss": loss.tolist()},
    }


def _zero_predictor_loss(config: TrainConfig, samples: int = 4096) -> float:
    """The zero predictor's expected raw loss, `E_x[E[f(x)^2]]`, for a run trained on the raw
    squared error, so that its plateau is at 1 too: a Monte Carlo mean over standard normal
    inputs (the prompts' distribution) of the prior's output variance, about 1% from the exact
    value at 4,096 inputs in 5 dimensions."""
    prior = config.prior
    xs = jax.random.normal(jax.random.key(0), (samples, config.dim))
    return float(jnp.mean(jax.vmap(prior.output_variance)(xs)))


def run(folders: list[Path], out: Path = HERE) -> list[Path]:
    """Summarise every run of each runs folder into `out/results/FOLDER.json`, then draw."""
    written = []
    for folder in folders:
        runs = sorted(p for p in folder.iterdir() if (p / METRICS_NAME).is_file())
        if not runs:
            raise ValueError(f"{folder} holds no run with a {METRICS_NAME}: pass a runs folder")
        summary = {run.name: summarise(run) for run in runs}
        path = out / "results" / f"{folder.name}.json"
        write_json_atomic(
            path,
            {"runs_folder": folder.name, "level": LEVEL, "runs": summary}
            | {"provenance": provenance()},
        )
        written += [path, *replot(folder.name, out)]
    return written


def replot(name: str, out: Path = HERE) -> list[Path]:
    """The table and the figure of one runs folder, from its saved summary."""
    saved = json.loads((out / "results" / f"{name}.json").read_text())
    runs, level = saved["runs"], saved["level"]
    lines = [
        f"# Leaving the initial plateau: runs of `experiments/runs/{name}`\n",
        f"\nA run has left the plateau at the first recorded step from which its training loss "
        f"(each record the mean over one compiled call, {_values(runs, 'steps_per_record')} "
        f"steps; each prompt's squared error over its class's output variance, or, for runs "
        f"trained on the raw error, the raw loss over the zero predictor's: either way the zero "
        f"predictor scores 1) stays below {level} to the end; 'never' if its last record is not "
        f"below it. The errors are the run's last monitoring evaluation "
        f"({_values(runs, 'eval_prompts')} fixed prompts of its own prior, noise-free f, errors "
        f"over the class's output variance) at d / 2 (rounded up) and d examples; least squares "
        f"is exact from d examples on. Training time counts the timed compiled calls.\n\n",
    ]
    rows = []
    for run_name, r in runs.items():
        exit_step = "never" if r["plateau_exit_step"] is None else f"{r['plateau_exit_step']:,}"
        errors = [
            "n/a" if error is None else f"{error:.3f} (n = {n})"
            for n, error in r["error_at"].items()
        ]
        rows.append(
            [
                run_name,
                "yes" if r["curriculum"] else "no",
                f"{r['steps_trained']:,} of {r['steps_planned']:,}",
                exit_step,
                f"{r['last_loss']:.3f}",
                *errors,
                f"{r['training_seconds'] / 60:.0f} min",
            ]
        )
    columns = ["run", "curriculum", "steps trained", "left the plateau at", "last loss"]
    columns += ["error at d / 2", "error at d", "training time"]
    lines.append(Table(columns, rows).to_markdown())
    table = out / "tables" / f"{name}.md"
    write_text(table, "".join(lines))

    figure, axis = plt.subplots(figsize=(8, 4.8))
    colours = {"dense": "tab:blue", "sparse": "tab:orange", "mixture": "tab:green"}
    for run_name, r in runs.items():
        label = run_name.split("_")[0]
        axis.plot(
            r["curve"]["step"],
            _smooth(
                np.asarray(r["curve"]["loss"]), max(1, SMOOTHING_STEPS // r["steps_per_record"])
            ),
            color=colours.get(label, "tab:gray"),
            label=run_name,
            lw=1.2,
        )
    axis.axhline(level, color="k", ls=":", lw=1, label=f"plateau exit level {level}")
    axis.set_xscale("log")
    axis.set_xlabel("training step")
    axis.set_ylabel(f"training loss (zero predictor: 1), {SMOOTHING_STEPS:,}-step mean")
    axis.set_title(f"Leaving the plateau: runs/{name}")
    axis.legend(fontsize=7, ncol=2)
    figure_path = out / "figures" / f"{name}.png"
    save_figure(figure, figure_path)
    return [table, figure_path]


def _values(runs: dict, field: str) -> str:
    """The distinct values of a per-run field, for the table's description."""
    return " or ".join(f"{value:,}" for value in sorted({r[field] for r in runs.values()}))


def _smooth(loss: np.ndarray, window: int) -> np.ndarray:
    """A trailing mean over `window` records, for legibility only: the exit step is computed
    from the raw records."""
    cumulative = np.concatenate([[0.0], np.cumsum(loss)])
    ends = np.arange(1, loss.size + 1)
    starts = np.maximum(ends - window, 0)
    return (cumulative[ends] - cumulative[starts]) / (ends - starts)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m experiments.plateau.run", description=__doc__)
    parser.add_argument(
        "runs",
        nargs="*",
        type=Path,
        default=[runs_dir(folder) for folder in DEFAULT_RUNS],
        help="runs folders (each holding run folders); default: the sparse-regime runs",
    )
    parser.add_argument(
        "--replot", action="store_true", help="redraw tables and figures from saved results"
    )
    args = parser.parse_args(argv)
    for folder in args.runs:
        if not folder.is_dir():
            parser.error(f"{folder} is not a folder: pass one such as experiments/runs/small")
    paths = (
        [p for folder in args.runs for p in replot(folder.name)] if args.replot else run(args.runs)
    )
    for path in paths:
        print(path)


if __name__ == "__main__":
    main()
