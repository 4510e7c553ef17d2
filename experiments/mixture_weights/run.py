"""Experiment 3: mixture models trained with dense weights 0.1, 0.5, 0.9.

`python -m experiments.mixture_weights.run --preset small --jobs 2` (`--replot` redraws tables
and figures from saved results). The question: README.md here.
"""

from pathlib import Path

from experiments import names
from experiments.common import main, trained_models
from experiments.linear_study import NOISE_FREE, experiment_dir, runs_dir, study
from experiments.mixture_weights.figures import replot
from icl_theory.evaluation import evaluate
from icl_theory.predictors import bayes_predictor
from icl_theory.training.reuse import train_all

NAME = "mixture_weights"


def run(
    preset: str = "small", *, root: Path | None = None, jobs: int = 1, progress: bool = True
) -> list[Path]:
    """Experiment 3: mixture models trained with dense weights 0.1, 0.5, 0.9 (noise-free, the
    same budget), on dense and on sparse prompts: the excess over the class's Bayes predictor
    against the class's share, next to what the share costs the Bayes predictor of each
    weighted prior. The specialists (main budget) are shown for reference."""
    s = study(preset)
    seeds = s.seeds[: s.weight_seeds]
    runs = s.weighted_mixtures() | s.specialists_and_mixture(NOISE_FREE, seeds)
    runs = {name: config for name, config in runs.items() if not name.startswith("mixture_")}
    train_all(s.own_runs(runs), runs_dir(preset, root), jobs=jobs, progress=progress)
    prior = s.mixture()
    predictors = {}
    for w in s.dense_weights:
        predictors[names.weighted(names.MIXTURE_MODEL, w)] = trained_models(
            s, f"mixture-w{w:g}", NOISE_FREE, seeds, root
        )
        predictors[names.weighted(names.BAYES, w)] = bayes_predictor(s.mixture(w))
    for label, component in zip(("dense", "sparse"), prior.components, strict=True):
        predictors[names.model(label)] = trained_models(s, label, NOISE_FREE, seeds, root)
        predictors[names.bayes(label)] = bayes_predictor(component)
    results = evaluate(
        predictors,
        prior,
        s.n_points,
        n_prompts=s.n_prompts,
        include_bayes=False,
        notes={
            "preset": s.name,
            "noise_std": NOISE_FREE,
            "k": s.k,
            "dense_weights": list(s.dense_weights),
        },
    )
    written = [results.save(experiment_dir(NAME, preset, "results", root) / "weights.npz")]
    return written + replot(preset, root=root)


if __name__ == "__main__":
    main(NAME, run, replot)
