"""What the linear experiments share beyond their presets: loading a study's trained models,
naming them per seed, the provenance line and per-seed table of their Markdown, and their
command line."""

import argparse
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from experiments import names
from experiments.linear_study import LinearStudy, run_name
from icl_theory.evaluation import EvalResults
from icl_theory.predictors import AbstractPredictor
from icl_theory.priors import describe_prior, prior_from_data
from icl_theory.tables import sweep_table, value_table
from icl_theory.training.run import load_model
from icl_theory.training.run_folder import RunFolder


def trained_models(
    s: LinearStudy, label: str, noise: float, seeds: Sequence[int], root: Path | None
) -> list[AbstractPredictor]:
    """The finished `LABEL_noiseN_seedS` models of the study, one per seed."""
    return [load_model(finished_run(s, run_name(label, noise, seed), root)) for seed in seeds]


def finished_run(s: LinearStudy, name: str, root: Path | None) -> Path:
    """The folder of the study's run `name`; a run another study trains must be finished (this
    preset cannot train it)."""
    folder = s.run_folder(name, root)
    if s.trained_elsewhere(name) and not RunFolder(folder).is_finished():
        raise FileNotFoundError(
            f"{folder} holds no finished run, and preset {s.name!r} does not train its own; "
            f"train it with {s.trained_by}"
        )
    return folder


def per_seed(models: Mapping[str, Sequence[AbstractPredictor]], seeds: Sequence[int]) -> dict:
    """`{"dense model": [m0, m1]}` -> `{"dense model (seed 0)": m0, ...}`."""
    return {
        names.seed_of(name, seed): model
        for name, seeded in models.items()
        for seed, model in zip(seeds, seeded, strict=True)
    }


def provenance_line(results: EvalResults, prompts: str | None = None) -> str:
    """Which prompts, which code, which metric: the line under every table's title. The prompts
    are the recorded prior's unless `prompts` describes them (a sweep, a file per value)."""
    git = results.provenance.get("git", {})
    code = f"code at git {str(git.get('commit'))[:10]}"
    if git.get("dirty") is not False:
        code = (
            f"**not reproducible from the repository**: {code} with uncommitted changes"
            if git.get("dirty")
            else "code of unknown git state"
        )
    variance = (
        "the class's mean output variance on the evaluation points"
        if results.setup.normalise == "class_mean"
        else "the class's output variance"
    )
    return (
        f"\nFrom {prompts or drawn_from(results)} evaluation prompts ({results.n_prompts}, "
        f"seed {results.setup.seed}); {code}; errors are squared error against f(x) over "
        f"{variance}.\n"
    )


def drawn_from(results: EvalResults) -> str:
    """The prior the evaluation prompts were drawn from, as a spec in backquotes."""
    if results.setup.prior is not None:
        return f"`{describe_prior(prior_from_data(results.setup.prior))}`"
    # Results saved before the prior was recorded as data.
    return f"`{results.notes.get('prior_spec')}`"


def seed_table(results: EvalResults, seeds: Sequence[int], positions: list[int]) -> str:
    """Each multi-seed predictor's mean error per training seed: the spread an effect must
    exceed."""
    rows, values = [], []
    for name in results.names:
        errors = results.errors[name]
        if errors.shape[0] > 1:
            for seed, one_seed in zip(seeds, errors, strict=True):
                rows.append(names.seed_of(name, seed))
                values.append(np.nanmean(one_seed[:, positions], axis=0))
    if not rows:
        return "One training seed per model: no spread to show.\n"
    return value_table(rows, [f"n = {p}" for p in positions], np.array(values))


def sweep_panels(
    sweep: list[EvalResults],
    values: Sequence[float],
    positions: Sequence[int],
    *,
    xlabel: str,
    column: Callable[[float], str],
    shade: tuple[float, float] | None = None,
) -> tuple[Figure, str]:
    """An evaluation per value of a setting (alpha, a test frequency): every predictor's mean
    error against the value, a panel and a Markdown table (95% intervals) per context length;
    `shade` marks a range of values (the pretraining band)."""
    predictors = list(sweep[0].names)
    figure, axes = plt.subplots(1, len(positions), figsize=(5 * len(positions), 4.5), squeeze=False)
    text = []
    for ax, position in zip(axes[0], positions, strict=True):
        if shade is not None:
            ax.axvspan(*shade, color="grey", alpha=0.15, label="pretraining band")
        for name in predictors:
            means = [results.mean(name)[position] for results in sweep]
            style = {"color": "black", "linewidth": 2} if name == names.BAYES else {}
            ax.plot(values, means, marker="o", label=name, **style)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(f"normalised error at {position} examples")
        ax.set_yscale("log")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="x-small")
        text.append(f"\n## Normalised error at {position} in-context examples (95% CI)\n\n")
        text.append(sweep_table(sweep, predictors, position, [column(v) for v in values]))
    figure.tight_layout()
    return figure, "".join(text)


def controls_section(
    sweep: list[EvalResults],
    positions: Sequence[int],
    columns: Sequence[str],
    models: Sequence[str],
    controls: Sequence[str],
) -> str:
    """Markdown: each model's paired excess over each control learner, per sweep value, at each
    context length (95% intervals over prompts and the models' training seeds): negative where
    the model beats the control."""
    text = [
        "\n## The models against their pretraining priors' Bayes predictors and the controls\n\n"
        "Paired excess error of each model over each reference (negative: the model is "
        "better), 95% intervals over prompts and training seeds. A model that beats the exact "
        "Bayes predictor of its pretraining prior out of distribution but not the controls (the "
        "same predictor with its noise tripled, an RBF Gaussian process fit on each prompt, "
        "3-nearest neighbours) is smoother than that (overconfident) predictor, which is not "
        "evidence that it composes the classes.\n"
    ]
    for control in controls:
        for position in positions:
            text.append(f"\n### Excess over {control}, {position} in-context examples\n\n")
            text.append(sweep_table(sweep, list(models), position, columns, excess_over=control))
    return "".join(text)


def main(
    experiment: str,
    run: Callable[..., list[Path]],
    replot: Callable[..., list[Path]],
    argv: list[str] | None = None,
    presets: Sequence[str] = ("smoke", "small", "sparse-regime", "sparse-regime-warm", "paper"),
    default: str = "small",
    can_skip_training: bool = False,
) -> None:
    """Command line of `python -m experiments.EXPERIMENT.run`; `can_skip_training` adds
    `--no-train` (evaluate the runs as they stand: `run(..., train=False)`)."""
    parser = argparse.ArgumentParser(
        prog=f"python -m experiments.{experiment}.run", description=run.__doc__
    )
    parser.add_argument("--preset", default=default, choices=list(presets))
    parser.add_argument(
        "--jobs", type=int, default=1, help="training processes (one XLA thread each); 2 on 2 cores"
    )
    if can_skip_training:
        parser.add_argument(
            "--no-train", action="store_true", help="evaluate the runs as they stand"
        )
    parser.add_argument(
        "--replot", action="store_true", help="only redraw tables and figures from saved results"
    )
    arguments = parser.parse_args(argv)
    if arguments.replot:
        written = replot(arguments.preset)
    else:
        options = {"train": not arguments.no_train} if can_skip_training else {}
        try:
            written = run(
                arguments.preset, jobs=arguments.jobs, progress=arguments.jobs <= 1, **options
            )
        except KeyboardInterrupt:
            sys.exit(
                f"interrupted: every training run stopped at a checkpoint; the same command "
                f"continues them (python -m experiments.{experiment}.run --preset "
                f"{arguments.preset})"
            )
    for path in written:
        print(path)
