"""Predictors: one prompt in, one prediction per position out (exact Bayes and baselines)."""

from icl_theory.predictors.base import AbstractPredictor, predict, predict_where_defined
from icl_theory.predictors.baselines import (
    Averaging,
    Lasso,
    LeastSquares,
    NearestNeighbours,
    Ridge,
    ZeroPredictor,
)
from icl_theory.predictors.bayes import (
    AbstractBayesPredictor,
    DenseBayes,
    MixtureBayes,
    NoBayesPredictor,
    PoolBayes,
    SparseBayes,
    bayes_predictor,
    class_posteriors,
    find_bayes_predictor,
    has_bayes_predictor,
    prefix_posteriors,
    register_bayes_predictor,
)
from icl_theory.predictors.evidence import MixedPosterior, PrefixPosterior, combine
from icl_theory.predictors.gaussian import gaussian_linear_posterior
from icl_theory.predictors.gaussian_process import GaussianProcessRBF
from icl_theory.predictors.nuts import NutsPredictor
from icl_theory.predictors.periodic import ConvexBayes, SinusoidBayes

__all__ = [
    "AbstractBayesPredictor",
    "AbstractPredictor",
    "Averaging",
    "ConvexBayes",
    "DenseBayes",
    "GaussianProcessRBF",
    "Lasso",
    "LeastSquares",
    "MixedPosterior",
    "MixtureBayes",
    "NearestNeighbours",
    "NoBayesPredictor",
    "NutsPredictor",
    "PoolBayes",
    "PrefixPosterior",
    "Ridge",
    "SinusoidBayes",
    "SparseBayes",
    "ZeroPredictor",
    "bayes_predictor",
    "class_posteriors",
    "combine",
    "find_bayes_predictor",
    "gaussian_linear_posterior",
    "has_bayes_predictor",
    "predict",
    "predict_where_defined",
    "prefix_posteriors",
    "register_bayes_predictor",
]
