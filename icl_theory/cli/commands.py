"""The other commands: sample, priors, finalise, evaluate, plot, quickstart."""

import dataclasses
import time
from pathlib import Path
from typing import Annotated

import jax
import jax.random as jr
import numpy as np
import tyro
from rich.console import Console

from icl_theory._validation import check_positive_int
from icl_theory.cli.checks import check_output_path, check_seed
from icl_theory.jobs.summary import summarise
from icl_theory.memory import check_fits, prompts_bytes
from icl_theory.priors.registry import PRIORS, OutputScale, build_prior, load_plugins
from icl_theory.prompts import sample_prompts


def sample(
    prior: str = "0.5*dense + 0.5*sparse(k=2)",
    dim: int = 20,
    n_points: int = 41,
    batch: int = 4096,
    noise_std: float = 0.0,
    output_scale: OutputScale = "raw",
    seed: int = 0,
) -> None:
    """Sample prompts from a prior and print a per-class summary (frequencies and output scales).

    Args:
        prior: Prior spec, e.g. "dense", "sparse(k=2)", "0.5*dense + 0.5*sparse(k=2)",
            "convex(dense, sinusoid, alpha=0.3)", "pool(dense, size=64)".
        dim: Input dimension.
        n_points: Points per prompt.
        batch: Number of prompts.
        noise_std: Observation noise of every class (a class's own keyword overrides it).
        output_scale: "raw" (Garg et al.'s scales) or "unit" (each class at unit variance).
        seed: PRNG seed.
    """
    from icl_theory.tables import Table

    check_seed("--seed", seed)
    for option, value in (("--dim", dim), ("--n-points", n_points), ("--batch", batch)):
        check_positive_int("sample", option, value)
    sizes = (batch, n_points, dim)
    check_fits("sample", "(--batch, --n-points, --dim)", sizes, prompts_bytes(*sizes, itemsize=4))
    console = Console()
    model = build_prior(prior, dim=dim, noise_std=noise_std, output_scale=output_scale)
    start = time.perf_counter()
    prompts = sample_prompts(model, jr.key(seed), batch, n_points)
    jax.block_until_ready(prompts.ys)
    elapsed = time.perf_counter() - start
    console.print(
        f"[bold]prior[/bold] {prior}  (dim={dim}, noise_std={noise_std}, "
        f"output_scale={output_scale})"
    )
    console.print(
        f"sampled {batch} prompts x {n_points} points in {elapsed:.2f} s "
        f"(including compilation); backend {jax.default_backend()}"
    )
    columns = ("class", "weight", "prompts", "share", "mean f^2", "prior E f^2")
    rows = [
        (
            row.name,
            f"{row.weight:.3f}",
            str(row.count),
            f"{row.frequency:.3f} ± {row.frequency_tolerance:.3f}",
            f"{row.mean_square_output:.3f}",
            f"{row.reported_variance:.3f}",
        )
        for row in summarise(model, prompts)
    ]
    console.print(Table(columns, rows).to_rich("per-class summary"))
    console.print(
        "share: the class's share of the prompts drawn, ± 3 binomial standard deviations around "
        "its weight; mean f^2: the mean of f(x)^2 over its prompts' points; prior E f^2: the "
        "prior's own E f(x)^2 at the same points (the two agree up to sampling error when the "
        "prior reports its scale correctly)."
    )
    noise = np.asarray(prompts.ys - prompts.fs)
    console.print(f"observed noise std {float(np.std(noise)):.4f}")
    shown = min(dim, 4)
    more = ", ..." if dim > shown else ""
    console.print(f"first prompt, first 3 points (x[:{shown}]{more}; y):")
    for x, y in zip(prompts.xs[0, :3], prompts.ys[0, :3], strict=True):
        coordinates = np.array2string(np.asarray(x[:shown]), precision=3)
        console.print(f"  {coordinates}{'...' if more else ''}  y={float(y):+.4f}")


def priors() -> None:
    """List the registered prior names and their fields (usable as keywords in a prior spec)."""
    console = Console()
    load_plugins()
    for name, cls in PRIORS.items():
        fields = [f.name for f in dataclasses.fields(cls) if f.init]
        console.print(f"[bold]{name}[/bold] ({cls.__name__}): {', '.join(fields)}")
    console.print(
        "[bold]combinators[/bold]: w1*A + w2*B (mixture), mixture(A, B, weights=[..]), "
        "convex(A, B, alpha=..), pool(A, size=.., seed=..)"
    )


def finalise(
    runs: Annotated[tuple[str, ...], tyro.conf.Positional, tyro.conf.arg(metavar="RUN")],
    stop_early: bool = False,
) -> None:
    """Keep only the parameters in finished runs' checkpoints (a third of the size): the form in
    which final models are committed. They evaluate as before and can no longer be continued.

    Args:
        runs: Finished run folders.
        stop_early: Finalise live runs too: each ends at the step it reached, for good.
    """
    from icl_theory.training.run import finalise as finalise_run

    if not runs:
        raise ValueError(
            "finalise needs at least one run folder: icl-theory finalise RUN [RUN ...]"
        )
    for run in runs:
        path = finalise_run(run, stop_early=stop_early)
        Console().print(f"{path}: parameters only ({path.stat().st_size / 2**20:.1f} MiB)")


def evaluate(
    runs: Annotated[tuple[str, ...], tyro.conf.Positional, tyro.conf.arg(metavar="RUN")],
    prior: Annotated[str | None, tyro.conf.arg(metavar="SPEC")] = None,
    noise_std: Annotated[float | None, tyro.conf.arg(metavar="FLOAT")] = None,
    output_scale: Annotated[OutputScale | None, tyro.conf.arg(metavar="{raw,unit}")] = None,
    n_points: Annotated[int | None, tyro.conf.arg(metavar="INT")] = None,
    n_prompts: int = 1280,
    seed: int = 0,
    baselines: Annotated[tuple[str, ...], tyro.conf.arg(metavar="NAME")] = (
        "least-squares",
        "lasso",
        "averaging",
    ),
    out: Annotated[str, tyro.conf.arg(metavar="FILE")] = "results.npz",
    selection: bool = True,
) -> None:
    """Evaluate trained runs (and baselines, and the prior's Bayes predictor) on a prior; save
    the per-prompt errors and print a table with 95% bootstrap intervals.

    Args:
        runs: Run folders; runs that differ only in their seed are one predictor (seed bands).
        prior: Prior spec of the evaluation prompts (default: the first run's training prior).
        noise_std: Observation noise of the evaluation prompts (default: the first run's).
        output_scale: raw or unit class scales of the evaluation prompts (default: the first
            run's).
        n_points: Points per prompt (default: the first run's; at most what it was trained on).
        n_prompts: Evaluation prompts.
        seed: Seed of the evaluation prompts.
        baselines: Any of least-squares, lasso (alpha chosen on separate prompts), averaging.
        out: Results file (.npz); `icl-theory plot` draws it.
        selection: On a two-class mixture, probe each run's implied weight on the first class
            next to the Bayes class posterior (128 prompts; the plot's class-selection panel).
    """
    from icl_theory.jobs.evaluate_runs import evaluate_runs, evaluation_prior, run_config

    if not runs:
        raise ValueError(
            "evaluate needs at least one run folder: icl-theory evaluate RUN [RUN ...]"
        )
    check_seed("--seed", seed)
    check_positive_int("evaluate", "--n-prompts", n_prompts)
    if n_points is not None:
        check_positive_int("evaluate", "--n-points", n_points)
    check_output_path("--out", out)
    first = run_config(Path(runs[0]))
    sizes = (n_prompts, n_points or first.n_points, first.dim)
    check_fits("evaluate", "(--n-prompts, --n-points, dim)", sizes, prompts_bytes(*sizes))
    chosen = None
    if (prior, noise_std, output_scale) != (None, None, None):
        # The first run's training prior, except what the user overrides.
        chosen = evaluation_prior(first.prior, prior, noise_std, output_scale)
    evaluate_runs(
        runs,
        prior=chosen,
        n_points=n_points,
        n_prompts=n_prompts,
        seed=seed,
        which_baselines=baselines,
        out=out,
        selection=selection,
    )


def plot(
    results: Annotated[str, tyro.conf.Positional, tyro.conf.arg(metavar="RESULTS")],
    out: Annotated[str | None, tyro.conf.arg(metavar="FILE")] = None,
) -> None:
    """Draw saved results (ICL curves per class, excess over Bayes, class selection).

    Args:
        results: A results file written by `icl-theory evaluate` or an experiment.
        out: Figure path (default: the results path with .png).
    """
    from icl_theory.evaluation.results import EvalResults
    from icl_theory.plotting import save_figure, summary_figure

    if out is not None:
        check_output_path("--out", out)
    loaded = EvalResults.load(results)
    path = save_figure(summary_figure(loaded), out or str(Path(results).with_suffix(".png")))
    Console().print(f"figure written to {path}")


def quickstart(
    pretrained: bool = False,
    out: Annotated[str | None, tyro.conf.arg(metavar="FOLDER")] = None,
    steps: int = 3000,
    overwrite: bool = False,
) -> None:
    """The main job: train a small transformer on the 50/50 dense + 2-sparse mixture (d = 8, 17
    points; a few minutes on 2 cores), evaluate it against the Bayes predictors, least squares
    and Lasso, print per-position tables and write a figure.

    Args:
        pretrained: Use the committed 18,000-step mixture model instead of training.
        out: Folder for the run, the results and the figure (default: runs/quickstart, or
            runs/quickstart-pretrained). A folder holding an earlier quickstart is kept and the
            next free NAME-2, NAME-3, ... is used, unless --overwrite.
        steps: Training steps (ignored with --pretrained).
        overwrite: Replace an earlier quickstart's outputs in the folder instead.
    """
    from icl_theory.jobs.quickstart import run_quickstart

    run_quickstart(pretrained=pretrained, out=out, steps=steps, overwrite=overwrite)
