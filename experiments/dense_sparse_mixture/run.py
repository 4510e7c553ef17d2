"""Experiment 1: dense, sparse and mixture models on dense and on sparse prompts.

`python -m experiments.dense_sparse_mixture.run --preset small --jobs 2` (presets smoke, small,
paper; `--replot` redraws tables and figures from saved results). The question: README.md here.
"""

from pathlib import Path

from experiments import names
from experiments.common import main, per_seed, trained_models
from experiments.dense_sparse_mixture.figures import replot
from experiments.linear_study import NOISE_FREE, experiment_dir, runs_dir, study
from icl_theory.evaluation import SelectionProbe, baselines, evaluate
from icl_theory.predictors import bayes_predictor
from icl_theory.training.reuse import train_all

NAME = "dense_sparse_mixture"


def run(
    preset: str = "small", *, root: Path | None = None, jobs: int = 1, progress: bool = True
) -> list[Path]:
    """Experiment 1: dense, sparse and mixture models on dense and on sparse prompts, next to
    the Bayes predictor of each class and of the mixture, least squares, Lasso and averaging;
    noise-free (several seeds) and, where the preset has a noisy setting, with small noise
    (one seed)."""
    s = study(preset)
    runs = s.specialists_and_mixture(NOISE_FREE, s.seeds)
    runs |= s.noisy_runs()
    train_all(s.own_runs(runs), runs_dir(preset, root), jobs=jobs, progress=progress)
    written = []
    for noise in s.noise_levels:
        seeds, labels = s.seeds_at(noise), s.labels_at(noise)
        prior = s.mixture(noise_std=noise)
        dense, sparse = prior.components
        standard = baselines(sparse, s.n_points)
        models = {
            names.model(label): trained_models(s, label, noise, seeds, root) for label in labels
        }
        dense_bayes, sparse_bayes = bayes_predictor(dense), bayes_predictor(sparse)
        classes = {names.bayes("dense"): dense_bayes, names.bayes("sparse"): sparse_bayes}
        each_seed = per_seed(models, seeds)
        bayes = {names.BAYES: bayes_predictor(prior)}
        probe = SelectionProbe(
            classes=(dense_bayes, sparse_bayes),
            weighted={n: each_seed[n] for n in names.seeds_of(names.MIXTURE_MODEL, each_seed)}
            | bayes,
            # Lasso too: the paper's yardstick for the sparse model is how close it gets to Lasso,
            # so its share of `w` off the support is the one to hold the models against.
            probed=each_seed
            | {name: standard.predictors[name] for name in (names.LEAST_SQUARES, standard.lasso)}
            | bayes,
            prompts=s.selection_prompts,
            queries=s.selection_queries,
        )
        results = evaluate(
            models | classes | standard.predictors,
            prior,
            s.n_points,
            n_prompts=s.n_prompts,
            selection=probe,
            notes={
                "preset": s.name,
                "noise_std": noise,
                "k": s.k,
                "lasso_validation_error": {str(a): e for a, e in standard.lasso_scores.items()},
            },
        )
        path = experiment_dir(NAME, preset, "results", root) / f"noise{noise:g}.npz"
        written.append(results.save(path))
    return written + replot(preset, root=root)


if __name__ == "__main__":
    main(NAME, run, replot)
