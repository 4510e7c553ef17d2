"""`icl-theory quickstart`, the main job: train a small transformer on the 50/50 dense + 2-sparse
mixture and set it against the Bayes predictors, least squares and Lasso."""

import dataclasses
import time
from pathlib import Path

from rich.console import Console

from icl_theory.curriculum import Curriculum
from icl_theory.evaluation import EvalResults, baselines, evaluate
from icl_theory.jobs.evaluate_runs import run_config
from icl_theory.plotting import save_figure, summary_figure
from icl_theory.predictors import bayes_predictor
from icl_theory.priors import Mixture
from icl_theory.tables import print_curve_tables
from icl_theory.training.checkpoint import CHECKPOINT_NAME
from icl_theory.training.config import TrainConfig
from icl_theory.training.run import load_model, load_prior, train

# The committed 18,000-step model of the same setting (the linear study's `small` preset).
PRETRAINED = Path(__file__).resolve().parents[2] / "experiments/runs/small/mixture_noise0_seed0"

# d = 8, 17 points, 6 layers, with a curriculum: the setting of the linear study's `small`
# preset, whose reasons `experiments/README.md` gives.
QUICKSTART = TrainConfig(
    prior="0.5*dense + 0.5*sparse(k=2)",
    dim=8,
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
# Context lengths in the tables: 1, k + 1, d / 2, d, 2 d.
POSITIONS = (1, 3, 4, 8, 16)


def run_quickstart(*, pretrained: bool, out: str | Path, steps: int) -> EvalResults:
    """Train (or take the committed checkpoint with `pretrained`), evaluate on 1,280 prompts of
    the mixture, print the tables and write `results.npz` and `quickstart.png` into `out`."""
    console = Console()
    if not console.is_terminal:  # a log file: wide enough that names and intervals fit
        console = Console(width=160)
    out = Path(out)
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
        run = out / "run"
        config = dataclasses.replace(QUICKSTART, steps=steps)
        console.print(
            f"training the `{config.model}` model on {config.prior} (d = {config.dim}, "
            f"{config.n_points} points) for {steps} steps into {run}"
        )
        start = time.perf_counter()
        train(config, run)
        console.print(f"trained in {time.perf_counter() - start:.0f} s")
    prior = load_prior(run)
    assert isinstance(prior, Mixture)  # the quickstart's prior is a two-class mixture
    dense, sparse = prior.components
    results = evaluate(
        {
            "transformer": load_model(run),
            "Bayes dense": bayes_predictor(dense),
            "Bayes sparse": bayes_predictor(sparse),
        }
        | baselines(sparse, config.n_points, ("least-squares", "lasso")).predictors,
        prior,
        config.n_points,
        config={"runs": [str(run)]},
    )
    results.save(out / "results.npz")
    print_curve_tables(results, console, positions=POSITIONS)
    figure = save_figure(summary_figure(results), out / "quickstart.png")
    console.print(f"results in {out / 'results.npz'}, figure in {figure}")
    return results
