"""The best available Bayes predictor of a prior: exact where a closed form is registered, NUTS
otherwise (ReLU networks)."""

from icl_theory.predictors.base import AbstractPredictor
from icl_theory.predictors.bayes import bayes_predictor
from icl_theory.predictors.nuts import NutsPredictor
from icl_theory.priors import AbstractPrior


def reference_predictor(prior: AbstractPrior, *, noise_floor: float = 0.0) -> AbstractPredictor:
    """`bayes_predictor(prior)` when the prior has an exact one, else `NutsPredictor(prior,
    noise_floor=noise_floor)` (expensive: about a second per prompt and position on CPU)."""
    try:
        return bayes_predictor(prior)
    except ValueError as no_closed_form:
        if "no exact Bayes predictor" not in str(no_closed_form):
            raise
        return NutsPredictor(prior, noise_floor=noise_floor)
