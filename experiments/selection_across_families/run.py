"""Experiment 4: linear, sinusoid and mixture models on linear and on sinusoid prompts.

`python -m experiments.selection_across_families.run --preset small --jobs 2` (presets smoke,
small; `--replot` redraws tables and figures from saved results). The question: README.md here.
"""

from pathlib import Path

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
    classes = {"Bayes linear": bayes_predictor(linear), "Bayes sinusoid": bayes_predictor(sinusoid)}
    mixture_seeds = {
        name: model for name, model in s.per_seed(models).items() if name.startswith("mixture")
    }
    probe = SelectionProbe(
        classes=(classes["Bayes linear"], classes["Bayes sinusoid"]),
        weighted=mixture_seeds | {"Bayes": bayes_predictor(prior)},
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
        config={"preset": s.name, "prior_spec": s.spec("mixture")},
    )
    path = experiment_dir(NAME, preset, "results", root) / "selection.npz"
    return [results.save(path), *replot(preset, root=root)]


if __name__ == "__main__":
    main(NAME, run, replot, presets=("smoke", "small"))
