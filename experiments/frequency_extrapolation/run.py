"""Experiment 6: the models on sinusoids of single frequencies inside and outside the
pretraining band.

`python -m experiments.frequency_extrapolation.run --preset small --jobs 2` (reuses experiment
4's runs; `--replot` redraws tables and figures from saved results). The question: README.md here.
"""

from pathlib import Path

from experiments import names
from experiments.common import main
from experiments.frequency_extrapolation.figures import replot
from experiments.linear_sinusoid_study import study
from experiments.paths import experiment_dir
from icl_theory.evaluation import evaluate
from icl_theory.predictors import bayes_predictor
from icl_theory.training.reuse import train_all

NAME = "frequency_extrapolation"


def run(
    preset: str = "small", *, root: Path | None = None, jobs: int = 1, progress: bool = True
) -> list[Path]:
    """Experiment 6: on sinusoids of each test frequency of the preset, the sinusoid and mixture
    models next to the Bayes predictors of their pretraining priors (the band, and the linear +
    sinusoid mixture) and the oracle that knows the test frequency (`"Bayes"`)."""
    s = study(preset)
    train_all(s.runs(), s.runs_dir(root), jobs=jobs, progress=progress)
    models = {name: m for name, m in s.models(root).items() if name != names.model("linear")}
    references = {
        names.bayes("sinusoid band"): bayes_predictor(s.sinusoid()),
        names.PRETRAINING_BAYES: bayes_predictor(s.mixture()),
    } | s.controls()
    written = []
    for frequency in s.frequencies:
        prior = s.sinusoid(frequency, frequency)
        results = evaluate(
            models | references,
            prior,
            s.n_points,
            n_prompts=s.n_prompts,
            normalise="class_mean",  # constant for sinusoids: the same as pointwise
            notes={
                "preset": s.name,
                "frequency": frequency,
            },
        )
        path = experiment_dir(NAME, preset, "results", root) / f"frequency{frequency:g}.npz"
        written.append(results.save(path))
    return written + replot(preset, root=root)


if __name__ == "__main__":
    main(NAME, run, replot, presets=("smoke", "small"))
