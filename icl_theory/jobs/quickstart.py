"""`icl-theory quickstart`, the main job: train a small transformer on the 50/50 dense + 2-sparse
mixture and set it against the Bayes predictors, least squares and Lasso."""

import dataclasses
import shutil
import time
from pathlib import Path

from rich.console import Console

from icl_theory.curriculum import Curriculum
from icl_theory.evaluation import EvalResults, baselines, evaluate
from icl_theory.jobs.evaluate_runs import run_config, selection_probe
from icl_theory.plotting import save_figure, summary_figure
from icl_theory.priors import Mixture, build_prior, describe_prior
from icl_theory.tables import print_curve_tables
from icl_theory.training.checkpoint import CHECKPOINT_NAME
from icl_theory.training.config import TrainConfig
from icl_theory.training.run import load_model, load_prior, train

# The committed 18,000-step model of the same setting (the linear study's `small` preset).
PRETRAINED = Path(__file__).resolve().parents[2] / "experiments/runs/small/mixture_noise0_seed0"

# d = 8, 17 points, 6 layers, with a curriculum: the setting of the linear study's `small`
# preset, whose reasons `experiments/README.md` gives.
QUICKSTART = TrainConfig(
    prior=build_prior("0.5*dense + 0.5*sparse(k=2)", dim=8),
    n_points=17,
    curriculum=Curriculum(dims_start=3, dims_end=8, points_start=7, points_end=17, interval=300),
    model="small-deep",
    batch_size=64,
    steps=3000,
    learning_rate=1e-3,
    warmup_steps=500,
    normalise_loss=True,
    steps_per_call=50,
    eval_every=500,
    checkpoint_every=1000,
    seed=0,
)
DEFAULT_OUT = {False: "runs/quickstart", True: "runs/quickstart-pretrained"}
# What a quickstart writes into its folder.
OUTPUTS = ("run", "results.npz", "quickstart.png")
# Context lengths in the tables: 1, k + 1, d / 2, d, 2 d.
POSITIONS = (1, 3, 4, 8, 16)


def output_folder(out: str | Path | None, *, pretrained: bool, overwrite: bool) -> Path:
    """Where a quickstart writes: `out`, by default `runs/quickstart` (`runs/quickstart-pretrained`
    with the committed model). A folder that holds an earlier quickstart is kept: the next free
    `NAME-2`, `NAME-3`, ... is used instead, unless `overwrite` says to replace it."""
    folder = Path(out) if out is not None else Path(DEFAULT_OUT[pretrained])
    if overwrite or not _holds_output(folder):
        return folder
    number = 2
    while _holds_output(folder.with_name(f"{folder.name}-{number}")):
        number += 1
    return folder.with_name(f"{folder.name}-{number}")


def _holds_output(folder: Path) -> bool:
    return any((folder / name).exists() for name in OUTPUTS)


def run_quickstart(
    *, pretrained: bool, out: str | Path | None, steps: int, overwrite: bool = False
) -> EvalResults:
    """Train (or take the committed checkpoint with `pretrained`), evaluate on 1,280 prompts of
    the mixture, print the tables and write `results.npz` and `quickstart.png` into the folder
    `output_folder` chooses."""
    console = Console()
    if not console.is_terminal:  # a log file: wide enough that names and intervals fit
        console = Console(width=160)
    folder = output_folder(out, pretrained=pretrained, overwrite=overwrite)
    requested = Path(out) if out is not None else Path(DEFAULT_OUT[pretrained])
    if folder != requested:
        console.print(
            f"{requested} holds an earlier quickstart, kept as it is: writing to {folder} "
            "(--overwrite replaces the earlier one; --out chooses another folder)"
        )
    elif overwrite:
        for name in OUTPUTS:
            path = folder / name
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
    if pretrained:
        run = PRETRAINED
        if not (run / CHECKPOINT_NAME).exists():
            raise FileNotFoundError(
                f"no committed checkpoint at {run}: run from a clone of the repository, or "
                "drop --pretrained to train one"
            )
        config = run_config(run)
        console.print(f"using the committed checkpoint {run}")
    else:
        run = folder / "run"
        # A shorter run keeps the warm-up's share of it.
        warmup = QUICKSTART.warmup_steps * steps // QUICKSTART.steps
        config = dataclasses.replace(QUICKSTART, steps=steps, warmup_steps=warmup)
        console.print(
            f"training the `{config.model}` model on {describe_prior(config.prior)} "
            f"(d = {config.dim}, {config.n_points} points) for {steps} steps into {run}"
        )
        start = time.perf_counter()
        train(config, run)
        console.print(f"trained in {time.perf_counter() - start:.0f} s")
    prior = load_prior(run)
    assert isinstance(prior, Mixture)  # the quickstart's prior is a two-class mixture
    sparse = prior.components[1]
    transformer = load_model(run)
    # The transformer's implied weight on the dense class, next to the Bayes posterior in the
    # figure: whether it selects the class, which is what the job is about.
    probe = selection_probe(prior, {"transformer": transformer})
    assert probe is not None  # both classes have exact Bayes predictors
    start = time.perf_counter()
    results = evaluate(
        {"transformer": transformer, "Bayes dense": probe.classes[0]}
        | {"Bayes sparse": probe.classes[1]}
        | baselines(sparse, config.n_points, ("least-squares", "lasso")).predictors,
        prior,
        config.n_points,
        selection=probe,
        notes={"runs": [str(run)]},
        progress=console,
    )
    console.print(f"evaluated in {time.perf_counter() - start:.0f} s")
    results.save(folder / "results.npz")
    print_curve_tables(results, console, positions=POSITIONS)
    figure = save_figure(summary_figure(results), folder / "quickstart.png")
    console.print(f"results in {folder / 'results.npz'}, figure in {figure}")
    return results
