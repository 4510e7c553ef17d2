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
)
from icl_theory.predictors.evidence import MixedPosterior, PrefixPosterior, combine

__all__ = [
    "AbstractBayesPredictor",
    "AbstractPredictor",
    "DenseBayes",
    "MixedPosterior",
    "MixtureBayes",
    "PoolBayes",
    "PrefixPosterior",
    "SparseBayes",
    "bayes_predictor",
    "class_posteriors",
    "combine",
    "predict",
]
