"""The `icl-theory` command line: one subcommand per job, typed options over the library's API."""

import dataclasses
import errno
import sys
import time
from pathlib import Path
from typing import Annotated

import jax
import jax.random as jr
import numpy as np
import tyro
from rich.console import Console
from rich.table import Table

from icl_theory.jobs.summary import summarise
from icl_theory.priors.registry import PRIORS, OutputScale, build_prior
from icl_theory.prompts import sample_prompts
from icl_theory.training.config import TrainConfig


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
    table = Table(title="per-class summary")
    for column in ("class", "weight", "prompts", "frequency", "E f(x)^2", "reported Var f(x)"):
        table.add_column(column, justify="right")
    for row in summarise(model, prompts):
        table.add_row(
            row.name,
            f"{row.weight:.3f}",
            str(row.count),
            f"{row.frequency:.3f} ± {row.frequency_tolerance:.3f}",
            f"{row.mean_square_output:.3f}",
            f"{row.reported_variance:.3f}",
        )
    console.print(table)
    noise = np.asarray(prompts.ys - prompts.fs)
    console.print(f"observed noise std {float(np.std(noise)):.4f}")
    console.print("first prompt, first 3 points (x[:3], y):")
    for x, y in zip(prompts.xs[0, :3], prompts.ys[0, :3], strict=True):
        console.print(f"  {np.array2string(np.asarray(x[:4]), precision=3)}...  y={float(y):+.4f}")


def priors() -> None:
    """List the registered prior names and their fields (usable as keywords in a prior spec)."""
    console = Console()
    for name, cls in PRIORS.items():
        fields = [f.name for f in dataclasses.fields(cls) if f.init]
        console.print(f"[bold]{name}[/bold] ({cls.__name__}): {', '.join(fields)}")
    console.print(
        "[bold]combinators[/bold]: w1*A + w2*B (mixture), mixture(A, B, weights=[..]), "
        "convex(A, B, alpha=..), pool(A, size=.., seed=..)"
    )


def train(
    config: Annotated[TrainConfig, tyro.conf.OmitArgPrefixes],
    out: str = "runs/run",
    resume: str | None = None,
    allow_device_change: bool = False,
    extend_to: int | None = None,
    into: str | None = None,
    progress: bool = True,
) -> int:
    """Train a transformer on prompts from a prior (or continue a run with --resume RUN).

    Exit status: 0 when the run finished, 130 when Ctrl-C stopped it (a checkpoint was saved;
    continue with --resume), 2 on bad input, files or disks.

    Args:
        config: The run's settings (ignored with --resume, which uses the run's own).
        out: New run folder (config.json, metrics.jsonl, checkpoint.eqx, provenance.json).
        resume: Run folder to continue: from its checkpoint, or from step 0 if it has none yet.
        allow_device_change: With --resume, continue on another device count than the run
            used (the result then differs from an uninterrupted run by float32 round-off).
        extend_to: With --resume, a new budget in steps for a `constant` or `wsd` run (one still
            before its decay): the result is the run planned that long from the start.
        into: With --resume, continue in a copy of the run made in this new folder, leaving the
            run as it is (with --extend-to, start a wsd decay from a stable checkpoint).
        progress: Show a progress bar.
    """
    from icl_theory.training import run as training

    console = Console()
    if resume is not None:
        if config != TrainConfig():
            raise ValueError(
                "train --resume continues with the run's own config; drop the other options, or "
                "start a new run with --out"
            )
        result = training.resume(
            resume,
            progress=progress,
            allow_device_change=allow_device_change,
            extend_to=extend_to,
            into=into,
        )
    else:
        if extend_to is not None or into is not None:
            raise ValueError("--extend-to and --into go with --resume RUN")
        result = training.train(config, out, progress=progress)
    if result.interrupted:
        console.print(
            f"stopped (Ctrl-C) at step {result.step}; continue with "
            f"`icl-theory train --resume {result.out}`"
        )
        return INTERRUPTED
    console.print(f"finished at step {result.step}; run folder {result.out}")
    return 0


def finalise(runs: Annotated[tuple[str, ...], tyro.conf.Positional]) -> None:
    """Keep only the parameters in finished runs' checkpoints (a third of the size): the form in
    which final models are committed. They evaluate as before and can no longer be continued.

    Args:
        runs: Finished run folders.
    """
    from icl_theory.training.run import finalise as finalise_run

    for run in runs:
        path = finalise_run(run)
        Console().print(f"{path}: parameters only ({path.stat().st_size / 2**20:.1f} MiB)")


def evaluate(
    runs: Annotated[tuple[str, ...], tyro.conf.Positional],
    prior: str | None = None,
    noise_std: float | None = None,
    output_scale: OutputScale | None = None,
    n_points: int | None = None,
    n_prompts: int = 1280,
    seed: int = 0,
    baselines: tuple[str, ...] = ("least-squares", "lasso", "averaging"),
    out: str = "results.npz",
) -> None:
    """Evaluate trained runs (and baselines, and the prior's Bayes predictor) on a prior; save
    the per-prompt errors and print a table with 95% bootstrap intervals.

    Args:
        runs: Run folders. Runs whose configs differ only in the seed are one predictor, with
            the seeds in its confidence intervals.
        prior: Prior spec of the evaluation prompts (default: the first run's training prior).
        noise_std: Observation noise of the evaluation prompts (default: the first run's).
        output_scale: raw or unit class scales of the evaluation prompts (default: the first
            run's).
        n_points: Points per prompt (default: the first run's; at most what it was trained on).
        n_prompts: Evaluation prompts.
        seed: Seed of the evaluation prompts.
        baselines: Any of least-squares, lasso (alpha chosen on separate prompts), averaging.
        out: Results file (.npz); `icl-theory plot` draws it.
    """
    from icl_theory.jobs.evaluate_runs import evaluate_runs, run_config

    evaluation_prior = None
    if (prior, noise_std, output_scale) != (None, None, None):
        # The first run's training prior, every field, except those the user overrides.
        first = run_config(Path(runs[0])) if runs else TrainConfig()
        evaluation_prior = build_prior(
            first.prior if prior is None else prior,
            dim=first.dim,
            noise_std=first.noise_std if noise_std is None else noise_std,
            output_scale=first.output_scale if output_scale is None else output_scale,
        )
    evaluate_runs(
        runs,
        prior=evaluation_prior,
        n_points=n_points,
        n_prompts=n_prompts,
        seed=seed,
        which_baselines=baselines,
        out=out,
    )


def plot(results: Annotated[str, tyro.conf.Positional], out: str | None = None) -> None:
    """Draw saved results (ICL curves per class, excess over Bayes, class selection).

    Args:
        results: A results file written by `icl-theory evaluate` or an experiment.
        out: Figure path (default: the results path with .png).
    """
    from icl_theory.evaluation.results import EvalResults
    from icl_theory.plotting import save_figure, summary_figure

    loaded = EvalResults.load(results)
    path = save_figure(summary_figure(loaded), out or str(Path(results).with_suffix(".png")))
    Console().print(f"figure written to {path}")


def quickstart(pretrained: bool = False, out: str = "runs/quickstart", steps: int = 3000) -> None:
    """The main job: train a small transformer on the 50/50 dense + 2-sparse mixture (d = 8, 17
    points; a few minutes on 2 cores), evaluate it against the Bayes predictors, least squares
    and Lasso, print per-position tables and write a figure.

    Args:
        pretrained: Use the committed `small` mixture checkpoint instead of training.
        out: Folder for the run, the results and the figure.
        steps: Training steps (ignored with --pretrained).
    """
    from icl_theory.jobs.quickstart import run_quickstart

    run_quickstart(pretrained=pretrained, out=out, steps=steps)


COMMANDS = {
    "sample": sample,
    "priors": priors,
    "train": train,
    "finalise": finalise,
    "evaluate": evaluate,
    "plot": plot,
    "quickstart": quickstart,
}


# Exit statuses: bad input, files or disks; and Ctrl-C (128 + SIGINT, the shell's convention).
BAD_INPUT = 2
INTERRUPTED = 130


def main(args: Annotated[list[str] | None, "argv without the program name"] = None) -> int:
    try:
        code = tyro.extras.subcommand_cli_from_dict(
            COMMANDS,
            prog="icl-theory",
            description="In-context learning of function classes vs the exact Bayes predictor.",
            args=args,
        )
    except KeyboardInterrupt:
        print(
            "icl-theory: interrupted; a training run continues with `icl-theory train --resume "
            "RUN` (from its checkpoint, or from step 0 if it had none)",
            file=sys.stderr,
        )
        return INTERRUPTED
    except OSError as error:
        print(f"icl-theory: error: {describe_os_error(error)}", file=sys.stderr)
        return BAD_INPUT
    except (ValueError, KeyError, RuntimeError) as error:
        print(f"icl-theory: error: {error}", file=sys.stderr)
        return BAD_INPUT
    return code if isinstance(code, int) else 0


_OS_ERROR_FIXES = {
    errno.ENOSPC: "the disk is full: free space, then continue a training run with --resume",
    errno.EDQUOT: "the disk quota is used up: free space, then continue with --resume",
    errno.EROFS: "the file system is read-only: choose a folder on a writable disk",
    errno.EACCES: "permission denied: choose a path you can write to, or change its permissions",
    errno.EPERM: "permission denied: choose a path you can write to, or change its permissions",
    errno.ENOTDIR: "a part of the path is a file, not a folder: choose another path",
    errno.EISDIR: "it is a folder where a file was expected: choose a file path",
    errno.EEXIST: "it already exists: choose a new name",
    errno.ENOENT: "it does not exist: check the path",
}


def describe_os_error(error: OSError) -> str:
    """One line naming the path, the problem and the fix."""
    if error.filename is None and error.errno is None:  # raised by this package with a message
        return str(error)
    fix = _OS_ERROR_FIXES.get(error.errno or -1, "check the path and the disk")
    path = error.filename if error.filename is not None else "a file"
    return f"{path}: {error.strerror or error}; {fix}"


if __name__ == "__main__":
    sys.exit(main())
