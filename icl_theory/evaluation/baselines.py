"""The standard baselines, assembled in one place: least squares, Lasso (its `alpha` chosen on
validation prompts of a given prior) and averaging."""

from collections.abc import Sequence
from typing import NamedTuple

from icl_theory.evaluation.tuning import select_lasso
from icl_theory.predictors import AbstractPredictor
from icl_theory.predictors.baselines import Averaging, LeastSquares
from icl_theory.priors import AbstractPrior

BASELINES = ("least-squares", "lasso", "averaging")


class Baselines(NamedTuple):
    """Display name -> predictor, and Lasso's validation error per `alpha` (empty without it)."""

    predictors: dict[str, AbstractPredictor]
    lasso_scores: dict[float, float]


def baselines(
    lasso_prior: AbstractPrior, n_points: int, which: Sequence[str] = BASELINES
) -> Baselines:
    """The baselines named in `which` (any of `BASELINES`), Lasso tuned on `lasso_prior`."""
    unknown = sorted(set(which) - set(BASELINES))
    if unknown:
        raise ValueError(f"unknown baselines {unknown}; choose from {list(BASELINES)}")
    predictors: dict[str, AbstractPredictor] = {}
    scores: dict[float, float] = {}
    if "least-squares" in which:
        predictors["least squares"] = LeastSquares()
    if "lasso" in which:
        lasso, scores = select_lasso(lasso_prior, n_points)
        predictors[f"Lasso (alpha={lasso.alpha:g})"] = lasso
    if "averaging" in which:
        predictors["averaging"] = Averaging()
    return Baselines(predictors, scores)


__all__ = ["BASELINES", "Baselines", "baselines"]
