"""Experiment 7: what the predictors draw. For a few prompts of each kind (a linear function, an
in-band sinusoid, a convex combination, a frequency below and one above the band), the function
each predictor predicts over a grid of query inputs after the same context.

`python -m experiments.function_drawings.run --preset small` (reuses experiment 4's runs;
`--replot` redraws the figure from the saved predictions).
"""

import io
import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from experiments import names
from experiments.common import main
from experiments.function_drawings.figures import replot
from experiments.linear_sinusoid_study import LinearSinusoidStudy, study
from experiments.paths import experiment_dir
from icl_theory.evaluation import evaluation_prompts, query_predictions
from icl_theory.predictors import bayes_predictor
from icl_theory.priors import AbstractPrior, ConvexCombination, DenseLinear, Sinusoid
from icl_theory.records import provenance, write_atomic
from icl_theory.training.reuse import train_all

NAME = "function_drawings"
PROMPTS_PER_KIND = 2
GRID = np.linspace(-3.0, 3.0, 121)


def kinds(s: LinearSinusoidStudy) -> dict[str, AbstractPrior]:
    """The prompt kinds, each a prior of its own (its oracle is its Bayes predictor)."""
    return {
        "linear": s.linear(),
        "sinusoid in band (f = 1.25)": s.sinusoid(1.25, 1.25),
        "alpha = 0.5": ConvexCombination(
            DenseLinear(dim=s.dim),
            Sinusoid(dim=s.dim, freq_low=s.freq_low, freq_high=s.freq_high),
            0.5,
            s.noise_std,
        ),
        "below the band (f = 0.25)": s.sinusoid(0.25, 0.25),
        "above the band (f = 4)": s.sinusoid(4.0, 4.0),
    }


def run(
    preset: str = "small", *, root: Path | None = None, jobs: int = 1, progress: bool = True
) -> list[Path]:
    """Predictions over `GRID` after `context` examples, per prompt kind: the mixture model
    (first seed), the Bayes predictor of its pretraining mixture, and the kind's own Bayes
    predictor (the oracle); with the context and the true function."""
    s = study(preset)
    train_all(s.runs(), s.runs_dir(root), jobs=jobs, progress=progress)
    context = min(10, s.n_points - 1)
    transformer = s.models(root)[names.MIXTURE_MODEL][0]
    pretraining = bayes_predictor(s.mixture())
    queries = GRID[:, None] * np.ones((1, s.dim))
    arrays: dict[str, np.ndarray] = {"grid": GRID}
    for index, (kind, prior) in enumerate(kinds(s).items()):
        prompts = evaluation_prompts(prior, context + 1, n_prompts=PROMPTS_PER_KIND, seed=index)
        with jax.enable_x64(True):
            grid = jnp.asarray(queries)
            truth = jax.vmap(prior.evaluate, in_axes=(0, None))(prompts.tasks, grid)
        arrays[f"{kind}/context_x"] = np.asarray(prompts.xs[:, :context, 0])
        arrays[f"{kind}/context_y"] = np.asarray(prompts.ys[:, :context])
        arrays[f"{kind}/truth"] = np.asarray(truth)
        for name, predictor in (
            (names.MIXTURE_MODEL, transformer),
            (names.PRETRAINING_BAYES, pretraining),
            (names.ORACLE_BAYES, bayes_predictor(prior)),
        ):
            drawn = query_predictions(predictor, prompts.xs, prompts.ys, queries)
            arrays[f"{kind}/{name}"] = drawn[:, context]
    metadata = {
        "preset": s.name,
        "context": context,
        "kinds": list(kinds(s)),
        "provenance": provenance(),
    }
    arrays["metadata"] = np.array(json.dumps(metadata))
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)  # pyright: ignore[reportArgumentType]
    path = experiment_dir(NAME, preset, "results", root) / "drawings.npz"
    write_atomic(path, buffer.getvalue())
    return [path, *replot(preset, root=root)]


if __name__ == "__main__":
    main(NAME, run, replot, presets=("smoke", "small"))
