"""Choosing a baseline's regularisation on prompts that are not the evaluation prompts."""

from collections.abc import Sequence

import numpy as np

from icl_theory.evaluation.evaluate_predictors import class_output_variance, evaluation_prompts
from icl_theory.predictors import predict
from icl_theory.predictors.baselines import Lasso
from icl_theory.priors import AbstractPrior

LASSO_GRID = (1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1.0)
# A stream no evaluation set uses (those come from jr.key(seed) with small seeds).
VALIDATION_SEED = 7_654_321


def select_lasso(
    prior: AbstractPrior,
    n_points: int,
    *,
    grid: Sequence[float] = LASSO_GRID,
    n_prompts: int = 256,
    seed: int = VALIDATION_SEED,
) -> tuple[Lasso, dict[float, float]]:
    """The Lasso whose `alpha` from `grid` has the lowest normalised error averaged over the
    positions with context, on `n_prompts` validation prompts of `prior`; also returns the
    validation error of every `alpha`. The validation prompts are drawn from their own key, so
    the choice never sees the evaluation set."""
    if not grid:
        raise ValueError("select_lasso needs at least one alpha in grid")
    prompts = evaluation_prompts(prior, n_points, n_prompts=n_prompts, seed=seed)
    variance = class_output_variance(prior, prompts)
    fs = np.asarray(prompts.fs, np.float64)
    scores = {}
    for alpha in grid:
        preds = np.asarray(
            predict(
                Lasso(alpha=alpha), prompts.xs.astype(np.float32), prompts.ys.astype(np.float32)
            ),
            np.float64,
        )
        scores[alpha] = float(np.mean(((preds - fs) ** 2 / variance)[:, 1:]))
    best = min(scores, key=scores.__getitem__)
    return Lasso(alpha=best), scores


__all__ = ["LASSO_GRID", "select_lasso"]
