"""Predictors: one prompt in, one prediction per position out (exact Bayes and baselines)."""

from icl_theory.predictors.base import AbstractPredictor, predict
from icl_theory.predictors.bayes import (
    AbstractBayesPredictor,
    DenseBayes,
    MixtureBayes,
    PoolBayes,
    SparseBayes,
    bayes_predictor,
    class_posteriors,
    prefix_posteriors,
)
from icl_theory.predictors.evidence import MixedPosterior, PrefixPosterior, combine
from icl_theory.predictors.nuts import NutsPredictor
from icl_theory.predictors.periodic import ConvexBayes, SinusoidBayes
from icl_theory.predictors.reference import reference_predictor

__all__ = [
    "AbstractBayesPredictor",
    "AbstractPredictor",
    "ConvexBayes",
    "DenseBayes",
    "MixedPosterior",
    "MixtureBayes",
    "NutsPredictor",
    "PoolBayes",
    "PrefixPosterior",
    "SinusoidBayes",
    "SparseBayes",
    "bayes_predictor",
    "class_posteriors",
    "combine",
    "predict",
    "prefix_posteriors",
    "reference_predictor",
]
