"""Experiment 4: linear, sinusoid and mixture models on linear and on sinusoid prompts.

`python -m experiments.selection_across_families.run --preset small --jobs 2` (presets smoke,
small; `--replot` redraws tables and figures from saved results). The question: README.md here.
"""

from pathlib import Path

from experiments import names
from experiments.common import main
from experiments.linear_sinusoid_study import study
from experiments.paths import experiment_dir
from experiments.selection_across_families.figures import replot
from icl_theory.evaluation import SelectionProbe, baselines, evaluate
from icl_theory.predictors import bayes_predictor
from icl_theory.training.reuse import train_all

NAME = "selection_across_families"


def run(
    preset: str = "small", *, root: Path | None = None, jobs: int = 1, progress: bool = True
) -> list[Path]:
    """Experiment 4: the three models on prompts of the 50/50 linear + sinusoid mixture, next to
    each class's Bayes predictor, the mixture's, and least squares; with the mixture model's
    implied weight on the linear class against the Bayes class posterior."""
    s = study(preset)
    train_all(s.runs(), s.runs_dir(root), jobs=jobs, progress=progress)
    prior = s.mixture()
    linear, sinusoid = prior.components
    models = s.models(root)
    linear_bayes, sinusoid_bayes = bayes_predictor(linear), bayes_predictor(sinusoid)
    classes = {names.bayes("linear"): linear_bayes, names.bayes("sinusoid"): sinusoid_bayes}
    each_seed = s.per_seed(models)
    mixture_seeds = {n: each_seed[n] for n in names.seeds_of(names.MIXTURE_MODEL, each_seed)}
    probe = SelectionProbe(
        classes=(linear_bayes, sinusoid_bayes),
        weighted=mixture_seeds | {names.BAYES: bayes_predictor(prior)},
        prompts=s.selection_prompts,
        queries=s.selection_queries,
    )
    results = evaluate(
        models | classes | baselines(linear, s.n_points, ("least-squares",)).predictors,
        prior,
        s.n_points,
        n_prompts=s.n_prompts,
        selection=probe,
        # 1-D linear functions have output variance x^2, which vanishes at x = 0.
        normalise="class_mean",
        notes={"preset": s.name},
    )
    path = experiment_dir(NAME, preset, "results", root) / "selection.npz"
    return [results.save(path), *replot(preset, root=root)]


if __name__ == "__main__":
    main(NAME, run, replot, presets=("smoke", "small"))
