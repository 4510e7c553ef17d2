"""The `icl-theory` command line: one subcommand per job, typed options over the library's API."""

import dataclasses
import errno
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import jax
import jax.random as jr
import numpy as np
import tyro
from rich.console import Console
from rich.table import Table

from icl_theory import interrupt
from icl_theory._validation import InvalidField, check_positive_int
from icl_theory.curriculum import Curriculum
from icl_theory.jobs.summary import summarise
from icl_theory.memory import check_fits, prompts_bytes
from icl_theory.priors.registry import PRIORS, OutputScale, build_prior
from icl_theory.prompts import sample_prompts
from icl_theory.training.config import TrainConfig

T = TypeVar("T")


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


@dataclasses.dataclass(frozen=True)
class TrainOptions(TrainConfig):
    """`TrainConfig`'s fields as `train` options, checked after parsing (`TrainConfig(...)`)
    so that a bad value is reported by its option name rather than inside the parser."""

    curriculum: (
        Annotated[Curriculum, tyro.conf.subcommand("curriculum", prefix_name=False)]
        | Annotated[None, tyro.conf.subcommand("no-curriculum", prefix_name=False)]
    ) = None
    """Garg's schedule over active dimensions and points: the sub-command `curriculum` with its
    options turns it on (see `icl-theory train curriculum --help`); off by default."""
    init_from: Annotated[str | None, tyro.conf.arg(metavar="RUN")] = None
    """A run folder whose final parameters this run starts from (same model preset, `dim` and
    `n_points`), with a fresh optimiser: a warm start; off by default."""

    def __post_init__(self) -> None:
        pass

    def checked(self) -> TrainConfig:
        return TrainConfig(**{f.name: getattr(self, f.name) for f in dataclasses.fields(self)})


def train(
    config: Annotated[TrainOptions, tyro.conf.OmitArgPrefixes],
    out: Annotated[str, tyro.conf.arg(metavar="FOLDER")] = "runs/run",
    resume: Annotated[str | None, tyro.conf.arg(metavar="RUN")] = None,
    allow_device_change: bool = False,
    extend_to: Annotated[int | None, tyro.conf.arg(metavar="STEPS")] = None,
    into: Annotated[str | None, tyro.conf.arg(metavar="FOLDER")] = None,
    seeds: Annotated[tuple[int, ...], tyro.conf.arg(metavar="SEED")] = (),
    progress: bool = True,
) -> int:
    """Train a transformer on prompts from a prior, or continue a run with --resume RUN.

    Exit status: 0 when the run finished, 130 when Ctrl-C stopped it (a checkpoint was saved;
    continue with --resume), 2 on bad input, files or disks.

    Args:
        config: The run's settings (not with --resume, which uses the run's own).
        out: New run folder: config.json, prior.json, metrics.jsonl, checkpoint.eqx,
            provenance.json.
        resume: Run folder to continue: from its checkpoint, or from step 0 if it has none yet.
        allow_device_change: With --resume, continue on another device count than the run
            used (the result then differs from an uninterrupted run by float32 round-off).
        extend_to: With --resume, a new budget in steps for a constant or wsd run (one still
            before its decay): the result is the run planned that long from the start.
        into: With --resume, continue in a copy of the run made in this new folder, leaving the
            run as it is (with --extend-to: start a wsd decay from a stable checkpoint).
        seeds: Train one model per seed together, as one vmapped ensemble, into OUT/seedS
            (each folder a run of its own; --resume OUT continues them together).
        progress: Show a progress bar.
    """
    with interrupt.deferred():  # Ctrl-C while the run is prepared stops it before its first step
        return _train(config, out, resume, allow_device_change, extend_to, into, seeds, progress)


def _train(
    config: TrainOptions,
    out: str,
    resume: str | None,
    allow_device_change: bool,
    extend_to: int | None,
    into: str | None,
    seeds: tuple[int, ...],
    progress: bool,
) -> int:
    from icl_theory.training import ensemble
    from icl_theory.training import run as training
    from icl_theory.training.run_folder import RunFolder

    console = Console()
    if resume is not None and not RunFolder(resume).holds_run() and ensemble.is_ensemble(resume):
        if (config, extend_to, into) != (TrainOptions(), None, None) or seeds:
            raise ValueError("train --resume OUT continues an ensemble as it was; drop the options")
        # An ensemble's folder: its members continue together.
        return _report(console, ensemble.resume_seeds(resume, progress=progress))
    if resume is None:
        check_output_path("--out", out)
    if seeds:
        if resume is not None:
            raise ValueError("--seeds starts an ensemble; --resume OUT continues one")
        checked = _as_options(config.checked)
        for seed in seeds:
            check_seed("--seeds", seed)
        return _report(console, ensemble.train_seeds(checked, seeds, out, progress=progress))
    if resume is not None:
        if config != TrainOptions():
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
        result = training.train(_as_options(config.checked), out, progress=progress)
    return _report(console, [result])


def _report(console: Console, results: list) -> int:
    """The end of a training command: where the runs are, and how to continue them."""
    folders = " ".join(str(result.out) for result in results)
    if len(results) > 1:
        folders = str(results[0].out.parent)  # an ensemble continues from its folder
    if results[0].interrupted:
        console.print(
            f"stopped (Ctrl-C) at step {results[0].step}; continue with "
            f"`icl-theory train --resume {folders}`"
        )
        return INTERRUPTED
    console.print(f"finished at step {results[0].step}; run folder(s) {folders}")
    return 0


def _as_options(build: Callable[[], T]) -> T:
    """`build()`, with a bad field reported as the option that set it (`--n-points=0 ...`)."""
    try:
        return build()
    except InvalidField as error:
        if error.owner in ("TrainConfig", "build_prior", "Curriculum"):
            fields = error.field.strip("()").split(",")  # one field, or a tuple of them
            options = ", ".join("--" + field.strip().replace("_", "-") for field in fields)
            raise InvalidField(error.owner, options, error.value, error.allowed) from None
        raise


def finalise(
    runs: Annotated[tuple[str, ...], tyro.conf.Positional, tyro.conf.arg(metavar="RUN")],
) -> None:
    """Keep only the parameters in finished runs' checkpoints (a third of the size): the form in
    which final models are committed. They evaluate as before and can no longer be continued.

    Args:
        runs: Finished run folders.
    """
    from icl_theory.training.run import finalise as finalise_run

    if not runs:
        raise ValueError(
            "finalise needs at least one run folder: icl-theory finalise RUN [RUN ...]"
        )
    for run in runs:
        path = finalise_run(run)
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
    """
    from icl_theory.jobs.evaluate_runs import evaluate_runs, run_config

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
    evaluation_prior = None
    if (prior, noise_std, output_scale) != (None, None, None):
        # The first run's training prior, every field, except those the user overrides.
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


EXAMPLES = {
    "sample": [
        "icl-theory sample --prior 'sparse(k=2)' --dim 8",
        "icl-theory sample --prior '0.5*dense + 0.5*sinusoid' --dim 1 --output-scale unit",
    ],
    "priors": ["icl-theory priors"],
    "train": [
        "icl-theory train --prior '0.5*dense + 0.5*sparse(k=2)' --dim 8 --n-points 17 "
        "--model small-deep --steps 3000 --out runs/mixture",
        "icl-theory train --prior dense --dim 8 --n-points 17 --out runs/curriculum curriculum "
        "--dims-start 3 --dims-end 8 --points-start 7 --points-end 17 --interval 300",
        "icl-theory train --schedule wsd --decay-steps 2000 --steps 100000 --out runs/long",
        "icl-theory train --resume runs/mixture            # after Ctrl-C or a crash",
        "icl-theory train --resume runs/long --extend-to 50000 --into runs/long-decayed",
        "icl-theory train --prior dense --seeds 0 1 2 --out runs/dense   # runs/dense/seed0 ...",
    ],
    "finalise": ["icl-theory finalise runs/mixture runs/long-decayed"],
    "evaluate": [
        "icl-theory evaluate runs/mixture --out runs/mixture.npz",
        "icl-theory evaluate runs/seed0 runs/seed1 runs/seed2 --prior 'sparse(k=3)'",
    ],
    "plot": ["icl-theory plot runs/mixture.npz"],
    "quickstart": ["icl-theory quickstart", "icl-theory quickstart --pretrained"],
}


def _unwrap_docstring_lines(text: str) -> str:
    """A docstring's wrapped lines joined into paragraphs (blank lines and `-` items still break
    them), so that the terminal, not the source, decides where help text wraps."""
    paragraphs: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("- ") or not paragraphs or not paragraphs[-1]:
            paragraphs.append(stripped)
        else:
            paragraphs[-1] += " " + stripped
    return "\n".join(paragraphs)


def _joining_wrapped_lines(original: Callable[[str], str]) -> Callable[[str], str]:
    return lambda text: original(_unwrap_docstring_lines(text))


def _with_unwrapped_arguments(command: Callable) -> Callable:
    """`command` with each `Args:` description of its docstring on one line: tyro reads a
    function's argument help from the docstring as written, line breaks included."""
    lines: list[str] = []
    in_arguments, argument_indent = False, None
    for line in (command.__doc__ or "").splitlines():
        stripped, indent = line.strip(), len(line) - len(line.lstrip())
        if stripped == "Args:":
            in_arguments = True
        elif in_arguments and stripped and argument_indent is None:
            argument_indent = indent
        elif in_arguments and stripped and argument_indent is not None and indent > argument_indent:
            lines[-1] += " " + stripped
            continue
        lines.append(line)
    command.__doc__ = "\n".join(lines)
    return command


# tyro keeps a docstring's line breaks wherever the next line starts with a space or a
# non-letter (indented continuation lines, a backquote): unwrap the lines before it looks.
tyro._strings.remove_single_line_breaks = _joining_wrapped_lines(  # pyright: ignore
    tyro._strings.remove_single_line_breaks  # pyright: ignore
)


COMMANDS = {
    name: _with_unwrapped_arguments(command)
    for name, command in {
        "sample": sample,
        "priors": priors,
        "train": train,
        "finalise": finalise,
        "evaluate": evaluate,
        "plot": plot,
        "quickstart": quickstart,
    }.items()
}


# Exit statuses: bad input, files or disks; and Ctrl-C (128 + SIGINT, the shell's convention).
BAD_INPUT = 2
INTERRUPTED = 130


# What `train --resume RUN` takes besides the run: the rest of a run's settings are its own.
RESUME_OPTIONS = ("--resume", "--allow-device-change", "--no-allow-device-change", "--extend-to")
RESUME_OPTIONS += ("--into", "--progress", "--no-progress", "-h", "--help")


def check_seed(option: str, seed: int) -> None:
    if not 0 <= seed < 2**32:
        raise InvalidField("cli", option, seed, "must be an integer in [0, 2**32)")


def check_output_path(option: str, path: str) -> None:
    """An output path that can be written: not empty, and not below a regular file."""
    if not path.strip():
        raise InvalidField("cli", option, path, "must name a file or folder (it is empty)")
    for parent in Path(path).parents:
        if parent.exists() and not parent.is_dir():
            raise InvalidField(
                "cli", option, path, f"lies below {parent}, which is a file: choose another path"
            )


def _check_resume_options(args: list[str]) -> None:
    """`train --resume RUN` with a run setting: refused, not silently ignored (a value equal to
    the default cannot be told apart from no value once parsed, so the words are checked)."""
    if args[:1] != ["train"] or not any(a.split("=")[0] == "--resume" for a in args):
        return
    extra = [
        a.split("=")[0]
        for a in args[1:]
        if (a.startswith("-") and a.split("=")[0] not in RESUME_OPTIONS)
        or a in ("curriculum", "no-curriculum")
    ]
    if extra:
        raise ValueError(
            f"train --resume continues the run with its own settings, so {', '.join(extra)} "
            "would be ignored: drop them (--extend-to changes the budget; a new run needs --out)"
        )


def main(args: Annotated[list[str] | None, "argv without the program name"] = None) -> int:
    try:
        _check_resume_options(sys.argv[1:] if args is None else args)
        code = tyro.extras.subcommand_cli_from_dict(
            COMMANDS,
            prog="icl-theory",
            description="In-context learning of function classes vs the exact Bayes predictor.",
            args=args,
        )
    except SystemExit as exit:
        _print_examples(sys.argv[1:] if args is None else args)
        raise exit
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


def _print_examples(args: list[str]) -> None:
    """After a command's --help, its examples (tyro has no epilog)."""
    if not ({"-h", "--help"} & set(args)) or not args or args[0] not in EXAMPLES:
        return
    print("\nexamples:")
    for example in EXAMPLES[args[0]]:
        print(f"  {example}")


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
