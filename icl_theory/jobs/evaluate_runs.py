"""`icl-theory evaluate`: trained run folders (and baselines, and the Bayes predictor) on one
prior, saved as results and printed as tables."""

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import equinox as eqx
from rich.console import Console

from icl_theory.evaluation import BASELINES, EvalResults, SelectionProbe, baselines, evaluate
from icl_theory.predictors import AbstractPredictor, bayes_predictor, has_bayes_predictor
from icl_theory.priors import AbstractPrior, build_prior, shared_noise_std, with_noise_std
from icl_theory.priors.registry import OutputScale
from icl_theory.tables import print_curve_tables
from icl_theory.training.checkpoint import CHECKPOINT_NAME, read_header
from icl_theory.training.config import TrainConfig
from icl_theory.training.run import load_model, load_prior


def evaluate_runs(
    runs: Sequence[str | Path],
    *,
    prior: AbstractPrior | None = None,
    n_points: int | None = None,
    n_prompts: int = 1280,
    seed: int = 0,
    which_baselines: Sequence[str] = BASELINES,
    out: str | Path = "results.npz",
    console: Console | None = None,
    selection: bool = True,
) -> EvalResults:
    """Evaluate the runs on `prior` (default: the first run's training prior, every field).

    Runs whose configs differ only in the seed are one predictor, named after the first such
    run's folder, with the seeds in its intervals. With `selection`, on a two-class mixture
    whose classes have exact Bayes predictors, each run's implied weight on the first class is
    probed on the first prompts, next to the Bayes class posterior (`SelectionProbe`).
    """
    console = console or Console()
    if not runs:
        raise ValueError("evaluate needs at least one run folder")
    configs = {str(run): run_config(Path(run)) for run in runs}
    first = next(iter(configs.values()))
    n_points = first.n_points if n_points is None else n_points
    for run, config in configs.items():
        if n_points > config.n_points:
            raise ValueError(
                f"n_points={n_points} exceeds the {config.n_points} points {run} was trained on "
                "(its positional table has no rows beyond them); pass --n-points <= "
                f"{config.n_points}"
            )
    evaluation_prior = load_prior(next(iter(configs))) if prior is None else prior
    predictors: dict = {}
    models = {run: load_model(run) for run in configs}
    for run, config in configs.items():
        predictors.setdefault(_group_name(run, config, configs), []).append(models[run])
    standard = baselines(evaluation_prior, n_points, which_baselines)
    results = evaluate(
        predictors | standard.predictors,
        evaluation_prior,
        n_points,
        n_prompts=n_prompts,
        seed=seed,
        selection=(
            selection_probe(evaluation_prior, {Path(run).name: m for run, m in models.items()})
            if selection
            else None
        ),
        notes={"runs": list(configs)},
        progress=console,
    )
    path = results.save(out)
    print_curve_tables(results, console)
    console.print(f"results written to {path}; draw them with `icl-theory plot {path}`")
    return results


def selection_probe(
    prior: AbstractPrior, weighted: dict[str, AbstractPredictor]
) -> SelectionProbe | None:
    """The implied weight of each of `weighted` on the first class of a two-class mixture,
    against the classes' Bayes predictors (`probe.classes`), on 128 prompts x 16 queries: the
    median and quartiles the summary figure draws, in a fraction of the time of the
    experiments' 256 x 32. None where there is no such weight to define."""
    classes = prior.classes
    if len(classes) != 2 or not all(has_bayes_predictor(c) for c in classes):
        return None
    first, second = (bayes_predictor(c) for c in classes)
    return SelectionProbe(classes=(first, second), weighted=weighted, prompts=128, queries=16)


def evaluation_prior(
    trained_on: AbstractPrior,
    spec: str | None = None,
    noise_std: float | None = None,
    output_scale: OutputScale | None = None,
) -> AbstractPrior:
    """The prior `evaluate --prior/--noise-std/--output-scale` ask for: `spec` (default: the
    run's training prior) with the training prior's noise and output scale unless given."""
    at_unit_scale = bool(eqx.tree_equal(trained_on, trained_on.with_unit_output_variance()))
    if spec is not None:
        return build_prior(
            spec,
            dim=trained_on.dim,
            noise_std=shared_noise_std(trained_on) if noise_std is None else noise_std,
            output_scale=output_scale or ("unit" if at_unit_scale else "raw"),
        )
    prior = trained_on
    if noise_std is not None:
        prior = with_noise_std(prior, noise_std)
    if output_scale == "unit":
        prior = prior.with_unit_output_variance()
    if output_scale == "raw" and at_unit_scale:
        raise ValueError(
            "--output-scale raw: the run was trained at unit output scale and a prior does not "
            "remember its raw scales; give the prior too (--prior SPEC --output-scale raw)"
        )
    return prior


def run_config(run: Path) -> TrainConfig:
    """The config a run folder's checkpoint was trained with."""
    if not (run / CHECKPOINT_NAME).exists():
        raise FileNotFoundError(f"{run} holds no checkpoint ({CHECKPOINT_NAME}); train it first")
    return TrainConfig.from_json(read_header(run / CHECKPOINT_NAME)["config"])


def _group_name(run: str, config: TrainConfig, configs: dict[str, TrainConfig]) -> str:
    """Runs that differ only in their seed share the first such run's folder name."""
    key = dataclasses.replace(config, seed=0)
    for other, other_config in configs.items():
        if dataclasses.replace(other_config, seed=0) == key:
            return Path(other).name
    return Path(run).name


__all__ = ["evaluate_runs", "evaluation_prior", "run_config", "selection_probe"]
