"""`icl-theory evaluate`: trained run folders (and baselines, and the Bayes predictor) on one
prior, saved as results and printed as tables."""

import dataclasses
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from icl_theory.evaluation import BASELINES, EvalResults, baselines, evaluate
from icl_theory.priors import AbstractPrior
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
) -> EvalResults:
    """Evaluate the runs on `prior` (default: the first run's training prior, every field).

    Runs whose configs differ only in the seed are one predictor, named after the first such
    run's folder, with the seeds in its intervals.
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
    for run, config in configs.items():
        predictors.setdefault(_group_name(run, config, configs), []).append(load_model(run))
    standard = baselines(evaluation_prior, n_points, which_baselines)
    results = evaluate(
        predictors | standard.predictors,
        evaluation_prior,
        n_points,
        n_prompts=n_prompts,
        seed=seed,
        config={"runs": list(configs)},
    )
    path = results.save(out)
    print_curve_tables(results, console)
    console.print(f"results written to {path}; draw them with `icl-theory plot {path}`")
    return results


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


__all__ = ["evaluate_runs", "run_config"]
