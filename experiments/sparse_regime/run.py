"""The sparse-regime scaling study: how much of least squares' error a trained sparse specialist
removes, against training compute, for each setting in `settings.py`.

`python -m experiments.sparse_regime.run --preset small --jobs 2` trains what is missing, then
analyses; `--no-train` analyses the runs as they stand (partial runs give their curve so far);
`--replot` redraws the tables and figures from the saved results. The question: README.md here.
"""

from pathlib import Path
from typing import Any

import numpy as np

from experiments.common import main
from experiments.names import BAYES, LEAST_SQUARES
from experiments.sparse_regime.figures import SPECIALIST, replot
from experiments.sparse_regime.settings import (
    FINAL_PROMPTS,
    Setting,
    output_dir,
    runs_dir,
    settings,
)
from icl_theory.evaluation import baselines, evaluate
from icl_theory.predictors import AbstractPredictor, predict
from icl_theory.predictors.baselines import LeastSquares
from icl_theory.priors import drawn_class_variance
from icl_theory.records import provenance, write_json_atomic
from icl_theory.training.checkpoint import CHECKPOINT_NAME, read_header
from icl_theory.training.curves import training_seconds
from icl_theory.training.reuse import train_all
from icl_theory.training.run import load_model
from icl_theory.training.run_folder import RunFolder
from icl_theory.training.trainer import Trainer, evaluation_set

RESAMPLES = 2000


def run(
    preset: str = "small",
    *,
    root: Path | None = None,
    jobs: int = 1,
    progress: bool = True,
    train: bool = True,
) -> list[Path]:
    """Train every setting to its budget (unless `train` is false), then measure each run's
    curve and its latest checkpoint, and save them with the references (least squares, Lasso,
    exact Bayes)."""
    chosen = settings(preset)
    folder = runs_dir(preset, root)
    if train:
        train_all({s.name: s.config for s in chosen}, folder, jobs=jobs, progress=progress)
    measured = {
        s.name: analyse(s, folder / s.name, FINAL_PROMPTS[preset])
        for s in chosen
        if (folder / s.name / CHECKPOINT_NAME).exists()
    }
    path = output_dir("results", preset, root) / "scaling.json"
    saved = {"preset": preset, "final_prompts": FINAL_PROMPTS[preset], "settings": measured}
    write_json_atomic(path, saved | {"provenance": provenance()})
    return [path, *replot(preset, root=root)]


def analyse(setting: Setting, run: Path, final_prompts: int) -> dict[str, Any]:
    """One run: its share of least squares' error removed at each eval step (on its own
    monitoring prompts, against least squares on the same prompts), and its latest checkpoint's
    errors on a fresh float64 evaluation set next to Lasso and the exact Bayes predictor, with
    bootstrap intervals over prompts."""
    config, positions = setting.config, setting.positions()
    records = RunFolder(run).metrics()
    curve = [r for r in records if "eval_error" in r]
    monitoring = evaluation_set(Trainer(config))
    least_squares = _mean_errors(LeastSquares(), setting, monitoring)
    step = int(read_header(run / CHECKPOINT_NAME)["step"])
    standard = baselines(config.prior, config.n_points, which=("least-squares", "lasso"))
    results = evaluate(
        {SPECIALIST: load_model(run)} | standard.predictors,
        config.prior,
        config.n_points,
        n_prompts=final_prompts,
    )
    lasso = standard.lasso
    return {
        "dim": setting.dim,
        "k": setting.k,
        "model": config.model,
        "batch_size": config.batch_size,
        "config": config.to_json(),
        "positions": positions,
        "headline": setting.headline(),
        "curve": {
            "step": [r["step"] for r in curve],
            "prompts_seen": [r["step"] * config.batch_size for r in curve],
            "share_removed": [
                {str(n): 1.0 - r["eval_error"][n] / least_squares[n] for n in positions}
                for r in curve
            ],
        },
        "extrapolation": _extrapolation(curve, least_squares, setting, config.batch_size),
        "final": {
            "step": step,
            "decayed": step >= config.steps,
            "prompts_seen": step * config.batch_size,
            "wall_time_s": training_seconds(records),
            "share_removed": {
                name: _share_removed(
                    results.errors[name][0], results.errors[LEAST_SQUARES][0], positions
                )
                for name in (SPECIALIST, lasso, BAYES)
            },
            "lasso": lasso,
        },
    }


def _extrapolation(curve: list[dict], least_squares: np.ndarray, setting: Setting, batch: int):
    """Where the monitoring curve at d / 2 examples would reach half of least squares' error
    removed, by a straight line in log(prompts seen) fitted to the later half of the curve (in
    log prompts): a rough guide to the compute a longer run needs, not a prediction with
    guarantees. `None` with fewer than 4 points there or no rise."""
    position = setting.headline()
    if position >= setting.dim or len(curve) < 2:
        return None
    prompts = np.array([r["step"] * batch for r in curve], float)
    share = np.array([1.0 - r["eval_error"][position] / least_squares[position] for r in curve])
    later = np.log(prompts) >= np.log(prompts[0]) + (np.log(prompts[-1]) - np.log(prompts[0])) / 2
    if later.sum() < 4:
        return None
    slope, intercept = np.polyfit(np.log10(prompts[later]), share[later], 1)
    target = 0.5
    reach = 10 ** ((target - intercept) / slope) if slope > 0 else None
    return {
        "position": position,
        "target": target,
        "slope_per_decade": float(slope),
        "fitted_points": int(later.sum()),
        "prompts_to_target": None if reach is None else float(reach),
    }


def _mean_errors(predictor: AbstractPredictor, setting: Setting, prompts) -> np.ndarray:
    """Mean over prompts of the error the training monitor records (`normalised_error`)."""
    preds = np.asarray(predict(predictor, prompts.xs, prompts.ys), np.float64)
    prior = setting.config.prior
    variance = np.asarray(drawn_class_variance(prior, prompts.xs, prompts.class_index), np.float64)
    return np.mean((preds - np.asarray(prompts.fs, np.float64)) ** 2 / variance, axis=0)


def _share_removed(errors: np.ndarray, reference: np.ndarray, positions: list[int]) -> dict:
    """`1 - mean(errors) / mean(reference)` per position, with a 95% paired bootstrap interval
    over prompts (the same resampled prompts in both means)."""
    rng = np.random.default_rng(0)
    n = errors.shape[0]
    weights = rng.multinomial(n, np.full(n, 1 / n), RESAMPLES)
    shares = {}
    for position in positions:
        own, base = (
            errors[:, position].astype(np.float64),
            reference[:, position].astype(np.float64),
        )
        resampled = 1.0 - (weights @ own) / (weights @ base)
        low, high = np.quantile(resampled, [0.025, 0.975])
        shares[str(position)] = {"mean": 1.0 - own.mean() / base.mean(), "low": low, "high": high}
    return shares


if __name__ == "__main__":
    main(
        "sparse_regime",
        run,
        replot,
        presets=("smoke", "small"),
        default="small",
        can_skip_training=True,
    )
