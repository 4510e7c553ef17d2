"""Evaluation: errors of any predictors on any prior as saved data, with bootstrap bands, and the
model-selection diagnostics (Bayes class posterior, implied class weight, implied linear
function) computed on the same prompts."""

from icl_theory.evaluation.diagnostics import SelectionProbe, selection_diagnostics
from icl_theory.evaluation.evaluate_predictors import BAYES, evaluate, evaluation_prompts
from icl_theory.evaluation.results import Curve, EvalResults, Selection, bootstrap_curve
from icl_theory.evaluation.selection import (
    ImpliedFunction,
    ImpliedWeight,
    blend_weight,
    linear_fit,
    off_support_share,
    posterior_defined,
    query_predictions,
    sample_queries,
)
from icl_theory.evaluation.setup import EvalSetup
from icl_theory.evaluation.standard_baselines import (
    AVERAGING,
    BASELINES,
    LEAST_SQUARES,
    Baselines,
    baselines,
    lasso_name,
)

__all__ = [
    "AVERAGING",
    "BASELINES",
    "BAYES",
    "LEAST_SQUARES",
    "Baselines",
    "Curve",
    "EvalResults",
    "EvalSetup",
    "ImpliedFunction",
    "ImpliedWeight",
    "Selection",
    "SelectionProbe",
    "baselines",
    "blend_weight",
    "bootstrap_curve",
    "evaluate",
    "evaluation_prompts",
    "lasso_name",
    "linear_fit",
    "off_support_share",
    "posterior_defined",
    "query_predictions",
    "sample_queries",
    "selection_diagnostics",
]
