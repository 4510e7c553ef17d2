"""Experiment 5: the models on convex combinations `alpha * linear + (1 - alpha) * sinusoid`.

`python -m experiments.convex_combinations.run --preset small --jobs 2` (reuses experiment 4's
runs; `--replot` redraws tables and figures from saved results). The question: README.md here.
"""

from pathlib import Path

from experiments import names
from experiments.common import main
from experiments.convex_combinations.figures import replot
from experiments.linear_sinusoid_study import study
from experiments.paths import experiment_dir
from icl_theory.evaluation import evaluate
from icl_theory.predictors import bayes_predictor
from icl_theory.priors import ConvexCombination, DenseLinear, Sinusoid
from icl_theory.training.reuse import train_all

NAME = "convex_combinations"


def run(
    preset: str = "small", *, root: Path | None = None, jobs: int = 1, progress: bool = True
) -> list[Path]:
    """Experiment 5: on `alpha * linear + (1 - alpha) * sinusoid` (noise std of the study) for
    each alpha of the preset, the three models next to the Bayes predictor under the
    pretraining mixture (which gives such functions probability zero) and the oracle Bayes
    predictor that knows the combined class (`"Bayes"`)."""
    s = study(preset)
    train_all(s.runs(), s.runs_dir(root), jobs=jobs, progress=progress)
    models = s.models(root)
    pretraining = {names.PRETRAINING_BAYES: bayes_predictor(s.mixture())} | s.controls()
    written = []
    for alpha in s.alphas:
        prior = ConvexCombination(
            DenseLinear(dim=s.dim),
            Sinusoid(dim=s.dim, freq_low=s.freq_low, freq_high=s.freq_high),
            alpha=alpha,
            noise_std=s.noise_std,
        )
        results = evaluate(
            models | pretraining,
            prior,
            s.n_points,
            n_prompts=s.n_prompts,
            # The combination's output variance is alpha^2 x^2 + (1 - alpha)^2: its mean over the
            # evaluation points, alpha^2 E[x^2] + (1 - alpha)^2, is the denominator.
            normalise="class_mean",
            notes={
                "preset": s.name,
                "alpha": alpha,
            },
        )
        path = experiment_dir(NAME, preset, "results", root) / f"alpha{alpha:g}.npz"
        written.append(results.save(path))
    return written + replot(preset, root=root)


if __name__ == "__main__":
    main(NAME, run, replot, presets=("smoke", "small"))
