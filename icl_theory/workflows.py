"""Jobs behind the `evaluate` and `quickstart` commands (importable, so scripts can call them)."""

import dataclasses
import time
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from icl_theory.evaluation import EvalResults, evaluate
from icl_theory.evaluation.tuning import select_lasso
from icl_theory.plotting import save_figure, summary_figure
from icl_theory.predictors import bayes_predictor
from icl_theory.predictors.baselines import Averaging, LeastSquares
from icl_theory.priors import Mixture, build_prior
from icl_theory.priors.registry import OutputScale
from icl_theory.studies.linear import NOISE_FREE, run_name, study
from icl_theory.studies.reporting import runs_dir
from icl_theory.training.checkpoint import CHECKPOINT_NAME, read_header
from icl_theory.training.config import TrainConfig
from icl_theory.training.run import load_model, train

BASELINES = ("least-squares", "lasso", "averaging")


def evaluate_runs(
    runs: Sequence[str],
    *,
    prior: str | None = None,
    noise_std: float | None = None,
    output_scale: OutputScale | None = None,
    n_points: int | None = None,
    n_prompts: int = 1280,
    seed: int = 0,
    baselines: Sequence[str] = BASELINES,
    out: str | Path = "results.npz",
    console: Console | None = None,
) -> EvalResults:
    """`icl-theory evaluate`: see its help."""
    console = console or Console()
    if not runs:
        raise ValueError("evaluate needs at least one run folder")
    unknown = sorted(set(baselines) - set(BASELINES))
    if unknown:
        raise ValueError(f"unknown baselines {unknown}; choose from {list(BASELINES)}")
    configs = {run: _config_of(Path(run)) for run in runs}
    first = configs[runs[0]]
    n_points = first.n_points if n_points is None else n_points
    for run, config in configs.items():
        if n_points > config.n_points:
            raise ValueError(
                f"n_points={n_points} exceeds the {config.n_points} points {run} was trained on "
                "(its positional table has no rows beyond them); pass --n-points <= "
                f"{config.n_points}"
            )
    # The first run's training prior, every field, except those the caller overrides.
    spec = first.prior if prior is None else prior
    noise = first.noise_std if noise_std is None else noise_std
    scale = first.output_scale if output_scale is None else output_scale
    evaluation_prior = build_prior(spec, dim=first.dim, noise_std=noise, output_scale=scale)
    predictors: dict = {}
    for run, config in configs.items():
        predictors.setdefault(_group_name(run, config, configs), []).append(load_model(run))
    if "least-squares" in baselines:
        predictors["least squares"] = LeastSquares()
    if "lasso" in baselines:
        lasso, _ = select_lasso(evaluation_prior, n_points)
        predictors[f"Lasso (alpha={lasso.alpha:g})"] = lasso
    if "averaging" in baselines:
        predictors["averaging"] = Averaging()
    results = evaluate(
        predictors,
        evaluation_prior,
        n_points,
        n_prompts=n_prompts,
        seed=seed,
        config={
            "prior_spec": spec,
            "noise_std": noise,
            "output_scale": scale,
            "runs": list(runs),
        },
    )
    path = results.save(out)
    print_tables(results, console)
    console.print(f"results written to {path}; draw them with `icl-theory plot {path}`")
    return results


def run_quickstart(*, pretrained: bool, out: str | Path, steps: int) -> EvalResults:
    """`icl-theory quickstart`: see its help."""
    console = Console()
    if not console.is_terminal:  # a log file: wide enough that names and intervals fit
        console = Console(width=160)
    out = Path(out)
    s = study("small")
    config = s.config(s.mixture_spec(), noise_std=NOISE_FREE, seed=0)
    if pretrained:
        run = runs_dir("small") / run_name("mixture", NOISE_FREE, 0)
        if not (run / CHECKPOINT_NAME).exists():
            raise FileNotFoundError(
                f"no committed checkpoint at {run}: run from a clone of the repository, or "
                "drop --pretrained to train one"
            )
        console.print(f"using the committed small checkpoint {run}")
    else:
        run = out / "run"
        config = dataclasses.replace(config, steps=steps)
        console.print(
            f"training the `small` model on {config.prior} (d = {config.dim}, "
            f"{config.n_points} points) for {steps} steps into {run}"
        )
        start = time.perf_counter()
        train(config, run)
        console.print(f"trained in {time.perf_counter() - start:.0f} s")
    prior = config.build_prior()
    assert isinstance(prior, Mixture)
    dense, sparse = prior.components
    lasso, _ = select_lasso(sparse, config.n_points)
    results = evaluate(
        {
            "transformer": load_model(run),
            "Bayes dense": bayes_predictor(dense),
            "Bayes sparse": bayes_predictor(sparse),
            "least squares": LeastSquares(),
            f"Lasso (alpha={lasso.alpha:g})": lasso,
        },
        prior,
        config.n_points,
        config={
            "prior_spec": config.prior,
            "noise_std": config.noise_std,
            "output_scale": config.output_scale,
            "runs": [str(run)],
        },
    )
    results.save(out / "results.npz")
    print_tables(results, console, positions=s.key_lengths())
    figure = save_figure(summary_figure(results), out / "quickstart.png")
    console.print(f"results in {out / 'results.npz'}, figure in {figure}")
    return results


def print_tables(
    results: EvalResults, console: Console, positions: Sequence[int] | None = None
) -> None:
    """Per class: every predictor's mean normalised error (95% CI) at a few context lengths
    (n/a: a Bayes predictor with no posterior there, see `evaluate`)."""
    if positions is None:
        n = results.n_points
        positions = sorted({1, 2, n // 4, n // 2, n - 1} - {0})
    classes = results.class_names if len(results.class_names) > 1 else (None,)
    for class_label in classes:
        subset = results if class_label is None else results.for_class(class_label)
        title = "normalised error, all prompts" if class_label is None else class_label
        table = Table(title=f"{title} ({subset.n_prompts} prompts; 95% CI)")
        table.add_column("predictor")
        for position in positions:
            table.add_column(f"n = {position}", justify="right")
        for row in subset.table(list(positions)):
            table.add_row(*row)
        console.print(table)


def _config_of(run: Path) -> TrainConfig:
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
