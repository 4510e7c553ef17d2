"""Evaluation: errors of any predictors on any prior as saved data, with bootstrap bands, and the
model-selection diagnostics (Bayes class posterior, implied class weight)."""

from icl_theory.evaluation.evaluate import BAYES, class_name, evaluate, evaluation_prompts
from icl_theory.evaluation.results import Curve, EvalResults, bootstrap_curve
from icl_theory.evaluation.selection import (
    ImpliedWeight,
    blend_weight,
    implied_weight,
    query_predictions,
)

__all__ = [
    "BAYES",
    "Curve",
    "EvalResults",
    "ImpliedWeight",
    "blend_weight",
    "bootstrap_curve",
    "class_name",
    "evaluate",
    "evaluation_prompts",
    "implied_weight",
    "query_predictions",
]
