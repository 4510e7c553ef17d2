"""The standard baselines, assembled in one place: least squares, Lasso (its `alpha` chosen on
validation prompts of a given prior) and averaging."""

from collections.abc import Sequence
from typing import NamedTuple

from icl_theory.evaluation.tuning import select_lasso
from icl_theory.predictors import AbstractPredictor
from icl_theory.predictors.baselines import Averaging, Lasso, LeastSquares
from icl_theory.priors import AbstractPrior

BASELINES = ("least-squares", "lasso", "averaging")
"""The baselines `baselines` can assemble (the command line's `--baselines`)."""
LEAST_SQUARES = "least squares"
"""Least squares' name in results."""
AVERAGING = "averaging"
"""Averaging's name in results."""


def lasso_name(alpha: float) -> str:
    """Lasso's name in results: it carries the chosen `alpha`."""
    return f"Lasso (alpha={alpha:g})"


class Baselines(NamedTuple):
    """Display name -> predictor, and Lasso's validation error per `alpha` (empty without it)."""

    predictors: dict[str, AbstractPredictor]
    lasso_scores: dict[float, float]

    @property
    def lasso(self) -> str:
        """The Lasso's name among `predictors` (it carries its chosen alpha)."""
        names = [name for name, p in self.predictors.items() if isinstance(p, Lasso)]
        if not names:
            raise KeyError("these baselines have no Lasso; ask for 'lasso'")
        return names[0]


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
        predictors[LEAST_SQUARES] = LeastSquares()
    if "lasso" in which:
        lasso, scores = select_lasso(lasso_prior, n_points)
        predictors[lasso_name(lasso.alpha)] = lasso
    if "averaging" in which:
        predictors[AVERAGING] = Averaging()
    return Baselines(predictors, scores)


__all__ = ["AVERAGING", "BASELINES", "LEAST_SQUARES", "Baselines", "baselines", "lasso_name"]
