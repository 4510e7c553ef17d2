"""The model-selection diagnostics as one evaluation step, on the prompts `evaluate` drew.

`SelectionProbe` says what to compute; `selection_diagnostics` computes it on the first
`probe.prompts` evaluation prompts (the query-point method is `prompts x points x queries`
predictor calls, so it runs on a subset) and returns a `Selection` of full-size arrays, NaN on the
prompts not probed. See `selection.py` and `docs/evaluation.md` for what each quantity means.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

import jax
import jax.random as jr
import numpy as np

from icl_theory._validation import check_positive_int, invalid
from icl_theory.evaluation.results import Selection
from icl_theory.evaluation.selection import (
    blend_weight,
    linear_fit,
    off_support_share,
    posterior_defined,
    query_predictions,
    sample_queries,
)
from icl_theory.predictors import AbstractPredictor
from icl_theory.priors import AbstractPrior
from icl_theory.priors.inputs import AbstractInputDistribution
from icl_theory.prompts import Prompts


@dataclass(frozen=True)
class SelectionProbe:
    """Which predictors to probe, and how.

    Attributes:
        classes: the two class predictors (A, B) whose blend `m ~ beta a + (1 - beta) b` defines
            the implied weight of A (usually the Bayes predictors of the two pretraining classes).
        weighted: name -> predictor, for the implied weight of class A and the unexplained share.
        probed: name -> predictor, for the implied linear function (its share off the prompt's
            relevant inputs, and the share no linear function explains).
        prompts: how many of the first evaluation prompts to probe.
        queries: query inputs per context, drawn once from `jr.key(query_seed)`.
    """

    classes: tuple[AbstractPredictor, AbstractPredictor]
    weighted: Mapping[str, AbstractPredictor] = field(default_factory=dict)
    probed: Mapping[str, AbstractPredictor] = field(default_factory=dict)
    prompts: int = 256
    queries: int = 32
    query_seed: int = 1

    def __post_init__(self) -> None:
        check_positive_int("SelectionProbe", "prompts", self.prompts)
        check_positive_int("SelectionProbe", "queries", self.queries)
        if len(self.classes) != 2:
            raise invalid("SelectionProbe", "classes", self.classes, "needs two predictors")


def selection_diagnostics(
    probe: SelectionProbe,
    prior: AbstractPrior,
    prompts: Prompts,
    inputs: AbstractInputDistribution | None = None,
) -> Selection:
    """The diagnostics of `probe` on the first `probe.prompts` of `prompts` (drawn from `prior`,
    whose `relevant_inputs` say which coordinates each true function depends on)."""
    probed: Prompts = jax.tree.map(lambda a: a[: probe.prompts], prompts)
    queries = sample_queries(jr.key(probe.query_seed), probe.queries, prior.dim, inputs)

    def at_queries(predictor: AbstractPredictor) -> np.ndarray:
        return query_predictions(predictor, probed.xs, probed.ys, queries)

    class_a, class_b = probe.classes
    a, b = at_queries(class_a), at_queries(class_b)
    # No implied weight where either class predictor has no posterior.
    both_defined = posterior_defined(class_a, probed.xs, probed.ys) & posterior_defined(
        class_b, probed.xs, probed.ys
    )
    relevant = np.asarray(jax.vmap(prior.relevant_inputs)(probed.tasks))
    shape = (prompts.batch_size, prompts.n_points)
    selection = Selection()
    for name, predictor in ({**probe.weighted, **probe.probed}).items():
        m = at_queries(predictor)
        if name in probe.weighted:
            blend = blend_weight(m, a, b, both_defined)
            selection.implied_weight[name] = _padded(blend.weight, shape)
            selection.unexplained[name] = _padded(blend.unexplained, shape)
        if name in probe.probed:
            fit = linear_fit(m, queries)
            selection.off_support[name] = _padded(off_support_share(fit.weights, relevant), shape)
            selection.nonlinear[name] = _padded(fit.nonlinear, shape)
    return selection


def _padded(values: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """`values` on the first prompts, NaN on the rest (float32, like the errors)."""
    full = np.full(shape, np.nan, np.float32)
    full[: values.shape[0]] = values
    return full


__all__ = ["SelectionProbe", "selection_diagnostics"]
