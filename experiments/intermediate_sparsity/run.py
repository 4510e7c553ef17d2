"""Experiment 2: the noise-free models on sparse prompts with 1 .. d nonzero coefficients.

`python -m experiments.intermediate_sparsity.run --preset small` (reuses experiment 1's runs;
`--replot` redraws tables and figures from saved results). The question: README.md here.
"""

import math
from pathlib import Path

from experiments import intermediate_sparsity, names
from experiments.common import main, per_seed, trained_models
from experiments.intermediate_sparsity.figures import replot
from experiments.linear_study import NOISE_FREE, experiment_dir, runs_dir, study
from icl_theory.evaluation import SelectionProbe, evaluate
from icl_theory.predictors import bayes_predictor
from icl_theory.priors import SparseLinear
from icl_theory.training.reuse import train_all

NAME = "intermediate_sparsity"


def run(
    preset: str = "small", *, root: Path | None = None, jobs: int = 1, progress: bool = True
) -> list[Path]:
    """Experiment 2: the noise-free models on sparse prompts with 1 .. d nonzeros, next to the
    Bayes predictor of the pretraining mixture (no mass at intermediate counts), of each
    pretraining class, and of the prompts' own class."""
    s = study(preset)
    train_all(
        s.own_runs(s.specialists_and_mixture(NOISE_FREE, s.seeds)),
        runs_dir(preset, root),
        jobs=jobs,
        progress=progress,
    )
    pretraining = s.mixture()
    dense, sparse = pretraining.components
    models = {
        names.model(label): trained_models(s, label, NOISE_FREE, s.seeds, root)
        for label in ("dense", "sparse", "mixture")
    }
    each_seed = per_seed(models, s.seeds)
    mixture_seeds = {n: each_seed[n] for n in names.seeds_of(names.MIXTURE_MODEL, each_seed)}
    references = {
        names.PRETRAINING_BAYES: bayes_predictor(pretraining),
        names.bayes("dense"): bayes_predictor(dense),
        names.bayes(f"sparse(k={s.k})"): bayes_predictor(sparse),
    }
    pretraining_bayes = {names.PRETRAINING_BAYES: references[names.PRETRAINING_BAYES]}
    written = []
    for nonzeros in range(1, s.dim + 1):
        prior = SparseLinear(dim=s.dim, k=nonzeros)
        exact = math.comb(s.dim, nonzeros) <= intermediate_sparsity.MAX_SUPPORTS
        own_bayes = {names.BAYES: bayes_predictor(prior)} if exact else {}
        probe = SelectionProbe(
            classes=(references[names.bayes("dense")], references[names.bayes(f"sparse(k={s.k})")]),
            weighted=mixture_seeds | pretraining_bayes,
            probed=each_seed
            | {names.bayes("dense"): references[names.bayes("dense")]}
            | pretraining_bayes
            | own_bayes,
            prompts=s.selection_prompts,
            queries=s.selection_queries,
        )
        results = evaluate(
            models | references,
            prior,
            s.n_points,
            n_prompts=s.n_prompts,
            include_bayes=exact,
            selection=probe,
            notes={
                "preset": s.name,
                "noise_std": NOISE_FREE,
                "k": s.k,
                "nonzeros": nonzeros,
            },
        )
        path = experiment_dir(NAME, preset, "results", root) / f"nonzeros{nonzeros}.npz"
        written.append(results.save(path))
    return written + replot(preset, root=root)


if __name__ == "__main__":
    main(NAME, run, replot)
