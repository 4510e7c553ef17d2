"""Summaries of sampled prompts: per-class frequencies and output scales, for the CLI demo and
for a quick look at a new prior."""

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np

from icl_theory.priors.base import AbstractPrior
from icl_theory.priors.noise import shared_noise_std
from icl_theory.priors.spec import describe_prior
from icl_theory.prompts import Prompts


@dataclasses.dataclass(frozen=True)
class ClassSummary:
    """One class of a batch: how often it was drawn and how its outputs scale.

    `mean_square_output` is the empirical mean of `f(x)^2` over its prompts' active points and
    `reported_variance` the mean of the prior's `output_variance` at the same points: the two
    agree up to sampling error when the prior reports its scale correctly.
    """

    name: str
    weight: float
    count: int
    frequency: float
    frequency_tolerance: float
    mean_square_output: float
    reported_variance: float


def summarise(prior: AbstractPrior, prompts: Prompts) -> list[ClassSummary]:
    components, weights = prior.classes, prior.class_weights
    batch = prompts.batch_size
    classes = np.asarray(prompts.class_index) if len(components) > 1 else np.zeros(batch)
    mask = np.asarray(prompts.point_mask)
    fs = np.asarray(prompts.fs)
    rows = []
    for index, (component, weight) in enumerate(zip(components, weights, strict=True)):
        chosen = classes == index
        count = int(chosen.sum())
        point_variance = jax.vmap(jax.vmap(component.output_variance))(prompts.xs)
        selected = mask & chosen[:, None]
        square = float(np.sum(fs**2 * selected) / max(selected.sum(), 1))
        reported = float(jnp.sum(point_variance * selected) / max(int(selected.sum()), 1))
        rows.append(
            ClassSummary(
                # Its spec, which tells two classes of one type apart (`sparse(k=1)`,
                # `sparse(k=3)`); its noise only where it differs from the whole prior's.
                name=describe_prior(component, noise_std=shared_noise_std(prior)),
                weight=weight,
                count=count,
                frequency=count / batch,
                # Three binomial standard deviations: the drawn frequency lies within this of the
                # weight with probability about 0.997.
                frequency_tolerance=3.0 * math.sqrt(weight * (1.0 - weight) / batch),
                mean_square_output=square,
                reported_variance=reported,
            )
        )
    return rows
