"""What it takes for a small mixture model to select: every recipe of `settings.py` evaluated at
each kept step, against least squares and the committed dense and sparse specialists.

`python -m experiments.selection_conditions.run --preset sparse-regime` trains what is missing
(`--jobs 2` on 2 cores; `--no-train` evaluates the runs as they stand, partial ones at the steps
they reached), evaluates, and draws the table and the figure; `--replot` redraws them from the
saved results. The question and the measure: README.md here.
"""

import dataclasses
import json
from pathlib import Path

import numpy as np

from experiments.common import main
from experiments.linear_study import NOISE_FREE, LinearStudy, run_name, runs_dir, study
from experiments.names import LEAST_SQUARES
from experiments.selection_conditions.figures import (
    BASELINE,
    DENSE_SPECIALIST,
    SPARSE_SPECIALIST,
    pilot_name,
    replot,
    results_dir,
    step_name,
)
from experiments.selection_conditions.settings import Recipe, recipes, study_runs_dir
from icl_theory.evaluation import EvalResults, evaluate
from icl_theory.predictors.baselines import LeastSquares
from icl_theory.priors import AbstractPrior
from icl_theory.training.curves import training_seconds
from icl_theory.training.reuse import train_all
from icl_theory.training.run import load_model, snapshot_path
from icl_theory.training.run_folder import RunFolder


def run(
    preset: str = "sparse-regime",
    *,
    root: Path | None = None,
    jobs: int = 1,
    progress: bool = True,
    train: bool = True,
) -> list[Path]:
    """Train every recipe (unless `train` is false), then evaluate each at its kept steps."""
    s = study(preset)
    folder = study_runs_dir(preset, root)
    chosen = recipes(preset)
    if train:
        # A recipe that continues another's runs starts from their final parameters.
        for wave in (
            [r for r in chosen if not r.continues()],
            [r for r in chosen if r.continues()],
        ):
            configs = {name: c for r in wave for name, c in r.runs(s, root).items()}
            train_all(configs, folder, jobs=jobs, progress=progress)
    specialists = {
        label: [runs_dir(preset, root) / run_name(label, NOISE_FREE, seed) for seed in s.seeds]
        for label in ("dense", "sparse", "mixture")
    }
    references = {
        LEAST_SQUARES: LeastSquares(),
        DENSE_SPECIALIST: [load_model(run) for run in specialists["dense"]],
        SPARSE_SPECIALIST: [load_model(run) for run in specialists["sparse"]],
    }
    written = []
    # name -> (runs, the recipe they belong to, or None for the reference groups)
    groups: dict[str, tuple[list[Path], Recipe | None]] = {
        BASELINE: (specialists["mixture"], None),
        "sparse-specialist": (specialists["sparse"], None),
    }
    for r in chosen:
        runs = [folder / name for name in r.runs(s, root)]
        groups[r.name] = (runs, r)
        # Seeds trained further than the rest (a pilot continued alone, or the only seed
        # started yet) are a row of their own.
        latest = {
            run: RunFolder(run).step() if RunFolder(run).has_checkpoint() else 0 for run in runs
        }
        ahead = [run for run, step in latest.items() if step > min(latest.values())]
        if ahead:
            groups[pilot_name(r.name)] = (ahead, r)
    for name, (runs, recipe) in groups.items():
        if not all(RunFolder(run).has_checkpoint() for run in runs):
            continue
        if not _kept_models(runs, load=False):  # no step all keep (a seed went on alone):
            continue  # the saved results stand
        models = {step_name(step): models for step, models in _kept_models(runs).items()}
        steps = sorted(int(step) for step in _kept_models(runs, load=False))
        notes = {
            "preset": preset,
            "recipe": name,
            "runs": [str(run.relative_to(run.parents[2])) for run in runs],
            "training_seconds": _training_seconds(runs, max(steps)),
            "steps": steps,
        }
        if recipe is not None and recipe.continues():
            sources = [recipe.continued_run(s, _seed(run), root) for run in runs]
            notes["steps_before"] = RunFolder(sources[0]).step()
            notes["training_seconds_before"] = _training_seconds(sources, notes["steps_before"])
        prior = s.mixture() if recipe is None else recipe.prior(s)
        results = _evaluate(references, models, s, prior, notes)
        path = results_dir(preset, root) / f"{name}.npz"
        written.append(_save_compact(_with_earlier_steps(results, path), path))
    return written + replot(preset, root=root)


def _evaluate(
    references: dict, models: dict, s: LinearStudy, prior: AbstractPrior, notes: dict
) -> EvalResults:
    """The references on the study's mixture and the models on `prior`, on the same prompts.

    A recipe at another output scale is evaluated at its own scale: the rescaled mixture draws
    the same classes, inputs and standard weights from the same key, each output only scaled,
    and the errors are normalised by each class's output variance, so they pair prompt by
    prompt with the references' at the raw scale."""
    options = {"n_prompts": s.n_prompts, "include_bayes": False, "notes": notes}
    if prior == s.mixture():
        return evaluate(references | models, prior, s.n_points, **options)
    raw = evaluate(references, s.mixture(), s.n_points, **options)
    scaled = evaluate(models, prior, s.n_points, **options)
    if not np.array_equal(raw.class_index, scaled.class_index):
        raise AssertionError("the rescaled mixture drew other classes than the raw one")
    notes = scaled.notes | {"references_prior": raw.setup.prior}
    return dataclasses.replace(scaled, errors=raw.errors | scaled.errors, notes=notes)


def _seed(run: Path) -> int:
    return RunFolder(run).config().seed


def _kept_models(runs: list[Path], load: bool = True) -> dict[int, list]:
    """Step -> the runs' models at that step, for every step all of them keep (snapshots and
    the latest checkpoint)."""
    steps = set.intersection(*(_steps(run) for run in runs))
    if not load:
        return {step: [] for step in steps}
    kept = {}
    for step in sorted(steps):
        kept[step] = [_model_at(run, step) for run in runs]
    return kept


def _steps(run: Path) -> set[int]:
    return {*RunFolder(run).snapshot_steps(), RunFolder(run).step()}


def _model_at(run: Path, step: int):
    if snapshot_path(run, step).is_file():
        return load_model(run, step)
    return load_model(run)


def _training_seconds(runs: list[Path], step: int) -> float:
    """One member's timed training to `step` (the members of an ensemble train together on one
    core; a pilot seed trained further is counted to the step of the row)."""
    return training_seconds([r for r in RunFolder(runs[0]).metrics() if r["step"] <= step])


def _with_earlier_steps(results: EvalResults, path: Path) -> EvalResults:
    """The results, plus the steps an earlier evaluation of the same runs saved and this one no
    longer has the parameters of (snapshots not kept in the repository). The evaluation prompts
    are the same (same prior, seed and count), so the steps compare as before."""
    if not path.is_file():
        return results
    earlier = EvalResults.load(path)
    same = earlier.notes.get("runs") == results.notes["runs"]
    if not same or earlier.n_prompts != results.n_prompts:
        return results
    steps = set(results.notes["steps"])
    kept = {
        step_name(step): earlier.errors[step_name(step)]
        for step in earlier.notes["steps"]
        if step not in steps
    }
    notes = results.notes | {"steps": sorted(steps | {int(n.split()[1]) for n in kept})}
    return dataclasses.replace(results, errors=results.errors | kept, notes=notes)


def _save_compact(results: EvalResults, path: Path) -> Path:
    """The results with errors in float32 (relative precision 1e-7, far below any interval
    here; a quarter of the size). A saved file with the same errors, setup and notes is left as
    it is: re-evaluating unchanged runs rewrites nothing (each rewrite would add the file to the
    repository's history again)."""
    errors = {name: value.astype(np.float32) for name, value in results.errors.items()}
    compact = dataclasses.replace(results, errors=errors)
    if path.is_file() and _same_results(EvalResults.load(path), compact):
        return path
    return compact.save(path)


def _same_results(saved: EvalResults, results: EvalResults) -> bool:
    def as_saved(value: object) -> object:  # tuples read back as lists
        return json.loads(json.dumps(value))

    return (
        as_saved(saved.setup.to_json()) == as_saved(results.setup.to_json())
        and saved.notes == as_saved(results.notes)
        and saved.errors.keys() == results.errors.keys()
        and all(
            np.array_equal(saved.errors[n], results.errors[n], equal_nan=True)
            for n in results.errors
        )
    )


if __name__ == "__main__":
    main(
        "selection_conditions",
        run,
        replot,
        presets=("smoke", "sparse-regime"),
        default="sparse-regime",
        can_skip_training=True,
    )
