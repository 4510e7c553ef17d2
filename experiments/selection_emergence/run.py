"""When does the mixture model select? Its implied weight on the dense class, at the snapshots
its runs keep, next to the Bayes class posterior.

`python -m experiments.selection_emergence.run --preset sparse-regime` (presets smoke,
sparse-regime: those whose runs keep snapshots; `--replot` redraws tables and figures from saved
results). Reuses experiment 1's mixture models. The question: README.md here.
"""

from pathlib import Path

from experiments import names
from experiments.common import finished_run, main, per_seed
from experiments.linear_study import experiment_dir, run_name, runs_dir, study
from experiments.selection_emergence.figures import replot
from icl_theory.evaluation import SelectionProbe, baselines, evaluate
from icl_theory.predictors import bayes_predictor
from icl_theory.training.reuse import train_all
from icl_theory.training.run import load_model
from icl_theory.training.run_folder import RunFolder

NAME = "selection_emergence"
PRESETS = ("smoke", "sparse-regime", "sparse-regime-warm")


def model_steps(folders: list[Path]) -> list[int]:
    """The training steps evaluated: every snapshot all the runs keep, and the final model."""
    kept = set.intersection(*(set(RunFolder(folder).snapshot_steps()) for folder in folders))
    final = {RunFolder(folder).config().steps for folder in folders}
    if len(final) != 1:
        raise ValueError(f"the runs {folders} end at different steps {sorted(final)}")
    return sorted(kept - final) + sorted(final)


def run(
    preset: str = "sparse-regime", *, root: Path | None = None, jobs: int = 1, progress: bool = True
) -> list[Path]:
    """The 50/50 mixture model at each kept training step, on dense and on sparse prompts of
    its pretraining mixture: its implied weight on the dense class (from `2 x selection_prompts`
    probed prompts) and its error, next to the mixture's Bayes predictor (whose implied weight
    is its class posterior), each class's Bayes predictor, least squares and Lasso."""
    s = study(preset)
    noise = s.emergence_noise  # whose snapshots are followed: noise-free unless the preset says
    mixtures = [run_name("mixture", noise, seed) for seed in s.seeds]
    configs = s.specialists_and_mixture(noise, s.seeds)
    train_all(
        s.own_runs({name: configs[name] for name in mixtures}),
        runs_dir(preset, root),
        jobs=jobs,
        progress=progress,
    )
    folders = [finished_run(s, name, root) for name in mixtures]
    steps = model_steps(folders)
    if len(steps) == 1:
        raise ValueError(
            f"the mixture models of preset {preset!r} keep no snapshots; choose one of "
            f"{list(PRESETS)}"
        )
    prior = s.mixture(noise_std=noise)
    dense, sparse = prior.components
    models = {
        names.at_step(names.MIXTURE_MODEL, step): [
            load_model(folder, None if step == steps[-1] else step) for folder in folders
        ]
        for step in steps
    }
    standard = baselines(sparse, s.n_points)
    dense_bayes, sparse_bayes = bayes_predictor(dense), bayes_predictor(sparse)
    classes = {names.bayes("dense"): dense_bayes, names.bayes("sparse"): sparse_bayes}
    bayes = {names.BAYES: bayes_predictor(prior)}
    probe = SelectionProbe(
        classes=(dense_bayes, sparse_bayes),
        weighted=per_seed(models, s.seeds) | bayes,
        prompts=2 * s.selection_prompts,  # about half of them sparse
        queries=s.selection_queries,
    )
    results = evaluate(
        models
        | classes
        | bayes
        | {name: standard.predictors[name] for name in (names.LEAST_SQUARES, standard.lasso)},
        prior,
        s.n_points,
        n_prompts=s.n_prompts,
        selection=probe,
        notes={
            "preset": s.name,
            "noise_std": noise,
            "k": s.k,
            "steps": steps,
        },
    )
    path = experiment_dir(NAME, preset, "results", root) / "emergence.npz"
    return [results.save(path), *replot(preset, root=root)]


if __name__ == "__main__":
    main(NAME, run, replot, presets=PRESETS)
