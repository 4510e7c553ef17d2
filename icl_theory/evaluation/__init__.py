"""Evaluation: errors of any predictors on any prior as saved data, with bootstrap bands, and the
model-selection diagnostics (Bayes class posterior, implied class weight, implied linear
function)."""

from icl_theory.evaluation.evaluate import BAYES, class_name, evaluate, evaluation_prompts
from icl_theory.evaluation.results import Curve, EvalResults, bootstrap_curve
from icl_theory.evaluation.selection import (
    ImpliedFunction,
    ImpliedWeight,
    blend_weight,
    implied_linear_function,
    implied_weight,
    linear_fit,
    off_support_share,
    posterior_defined,
    query_predictions,
    sample_queries,
)

__all__ = [
    "BAYES",
    "Curve",
    "EvalResults",
    "ImpliedFunction",
    "ImpliedWeight",
    "blend_weight",
    "bootstrap_curve",
    "class_name",
    "evaluate",
    "evaluation_prompts",
    "implied_linear_function",
    "implied_weight",
    "linear_fit",
    "off_support_share",
    "posterior_defined",
    "query_predictions",
    "sample_queries",
]
