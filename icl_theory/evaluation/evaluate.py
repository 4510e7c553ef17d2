"""`evaluate`: run named predictors on one seeded evaluation set and keep every error as data."""

from collections.abc import Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

from icl_theory._validation import check_positive_int, invalid
from icl_theory.evaluation.results import EvalResults
from icl_theory.predictors import (
    AbstractBayesPredictor,
    AbstractPredictor,
    bayes_predictor,
    class_posteriors,
    predict,
    prefix_posteriors,
)
from icl_theory.predictors.bayes import MixtureBayes
from icl_theory.priors import AbstractPrior, Mixture, drawn_class_variance
from icl_theory.priors.inputs import AbstractInputDistribution
from icl_theory.prompts import Prompts, sample_prompts
from icl_theory.records import provenance

BAYES = "Bayes"

Predictors = Mapping[str, AbstractPredictor | Sequence[AbstractPredictor]]


def evaluation_prompts(
    prior: AbstractPrior,
    n_points: int,
    *,
    n_prompts: int = 1280,
    seed: int = 0,
    inputs: AbstractInputDistribution | None = None,
) -> Prompts:
    """The evaluation set: `n_prompts` prompts from `jr.key(seed)`, drawn in float64 (NumPy
    leaves).

    Training draws its data and its own monitoring set from `fold_in`-derived streams of the
    training seed, never from a raw `jr.key(seed)`, so these prompts are not training prompts.
    """
    check_positive_int("evaluate", "n_prompts", n_prompts)
    # Sampled in float64 and returned as NumPy: the noise-free Bayes predictors need data that
    # is exact, not rounded to float32 (an ill-conditioned dense prompt's float32 rounding,
    # amplified by its condition number, exceeded the exact-fit tolerance once in 512 prompts
    # at d = 8 and made every class look contradicted). Float32 models get a float32 copy.
    with jax.enable_x64(True):
        prompts = sample_prompts(prior, jr.key(seed), n_prompts, n_points, inputs=inputs)
        return jax.tree.map(np.asarray, prompts)


def evaluate(
    predictors: Predictors,
    prior: AbstractPrior,
    n_points: int,
    *,
    n_prompts: int = 1280,
    seed: int = 0,
    inputs: AbstractInputDistribution | None = None,
    include_bayes: bool = True,
    chunk: int = 256,
    config: Mapping[str, Any] | None = None,
) -> EvalResults:
    """Errors of every predictor at every position of the same `n_prompts` prompts.

    **Arguments:**
    - `predictors`: name -> predictor, or name -> several predictors (e.g. one model per training
      seed; their errors are kept per seed and the confidence intervals resample seeds too).
    - `prior`: the prior the evaluation prompts come from (any prior; it need not be the one a
      model was trained on).
    - `n_points`, `n_prompts`, `seed`, `inputs`: the evaluation set (`evaluation_prompts`).
    - `include_bayes`: add the prior's exact Bayes predictor as `"Bayes"` (the default reference
      of `EvalResults.excess`) when the prior has one and no predictor has that name.
    - `chunk`: prompts per compiled call (bounds memory for the larger Bayes predictors).
    - `config`: extra fields saved with the results (e.g. the prior spec and the run folders).

    **Returns:** `EvalResults` with `errors[name]` of shape `(seeds, n_prompts, n_points)`: the
    squared error against the noise-free `f(x_i)` divided by the output variance at `x_i` of the
    prompt's own class (`class_output_variance`; the zero predictor scores 1 on every class, as
    in Garg et al.'s normalisation). Against the noisy `y_i` the
    expected error is this plus `noise_std^2 / variance`. An error is NaN where a Bayes
    predictor has no prediction: its prior gives that prompt's prefix probability zero
    (noise-free data outside its class; its mean, and the tables, then read n/a). For a mixture
    prior the Bayes class posterior `p(class | y_<i)` per prompt and position is saved as
    `extras["class_posterior"]`.
    """
    check_positive_int("evaluate", "chunk", chunk)
    named = {name: _as_tuple(value) for name, value in predictors.items()}
    for name, members in named.items():
        if not members:
            raise invalid("evaluate", f"predictors[{name!r}]", members, "needs a predictor")
    bayes = _bayes_or_none(prior)
    if include_bayes and bayes is not None and BAYES not in named:
        named[BAYES] = (bayes,)
    prompts = evaluation_prompts(prior, n_points, n_prompts=n_prompts, seed=seed, inputs=inputs)
    variance = class_output_variance(prior, prompts)
    fs = np.asarray(prompts.fs, np.float64)
    errors = {
        name: np.stack([_errors(member, prompts, fs, variance, chunk) for member in members])
        for name, members in named.items()
    }
    extras = {}
    if isinstance(bayes, MixtureBayes):
        extras["class_posterior"] = _chunked(
            lambda xs, ys: np.asarray(class_posteriors(bayes, xs, ys), np.float32), prompts, chunk
        )
    components = prior.components if isinstance(prior, Mixture) else (prior,)
    saved_config = {
        "prior": repr(prior),
        "n_points": n_points,
        "n_prompts": n_prompts,
        "seed": seed,
        "inputs": repr(inputs) if inputs is not None else "IsotropicGaussian()",
        "dim": prior.dim,
    } | dict(config or {})
    return EvalResults(
        errors=errors,
        class_index=np.asarray(prompts.class_index),
        config=saved_config,
        class_names=tuple(class_name(c) for c in components),
        extras=extras,
        provenance=provenance(),
    )


def class_output_variance(prior: AbstractPrior, prompts: Prompts) -> np.ndarray:
    """`drawn_class_variance` of the prompts, computed in float64 (NumPy)."""
    with jax.enable_x64(True):
        variance = drawn_class_variance(
            prior, jnp.asarray(prompts.xs, jnp.float64), jnp.asarray(prompts.class_index)
        )
        return np.asarray(variance, np.float64)


def class_name(prior: AbstractPrior) -> str:
    """A short label for a mixture component, e.g. `DenseLinear` or `SparseLinear(k=2)`."""
    k = getattr(prior, "k", None)
    return f"{type(prior).__name__}(k={k})" if k is not None else type(prior).__name__


def _errors(
    predictor: AbstractPredictor,
    prompts: Prompts,
    fs: np.ndarray,
    variance: np.ndarray,
    chunk: int,
) -> np.ndarray:
    preds, undefined = _predictions(predictor, prompts, chunk)
    if not np.all(np.isfinite(preds) | undefined):
        raise FloatingPointError(
            f"{type(predictor).__name__} returned non-finite predictions on the evaluation set"
        )
    errors = np.where(undefined, np.nan, (preds - fs) ** 2 / variance)
    # float32 keeps saved results small; relative rounding 6e-8 is far below any CI width.
    return errors.astype(np.float32)


def _predictions(
    predictor: AbstractPredictor, prompts: Prompts, chunk: int
) -> tuple[np.ndarray, np.ndarray]:
    """Float64 predictions, and where the predictor has none: a Bayes predictor whose prior gives
    a prefix probability zero (noise-free data outside its class, e.g. the k-sparse one on k + 1
    points of a dense function) has no posterior to predict with; what its posterior falls back
    to there is not a prediction."""
    if isinstance(predictor, AbstractBayesPredictor):

        def mean_and_undefined(xs, ys):
            posterior = prefix_posteriors(predictor, xs, ys)
            return np.stack(
                [np.asarray(posterior.mean), np.isneginf(np.asarray(posterior.log_density))],
                axis=-1,
            )

        both = _chunked(mean_and_undefined, prompts, chunk)
        return both[..., 0], both[..., 1] > 0
    dtype = np.float64 if predictor.needs_float64 else np.float32
    preds = _chunked(
        lambda xs, ys: np.asarray(
            predict(predictor, xs.astype(dtype), ys.astype(dtype)), np.float64
        ),
        prompts,
        chunk,
    )
    return preds, np.zeros(preds.shape, bool)


def _chunked(function, prompts: Prompts, chunk: int) -> np.ndarray:
    parts = [
        function(prompts.xs[start : start + chunk], prompts.ys[start : start + chunk])
        for start in range(0, prompts.batch_size, chunk)
    ]
    return np.concatenate(parts)


def _as_tuple(value: AbstractPredictor | Sequence[AbstractPredictor]) -> tuple:
    return (value,) if isinstance(value, AbstractPredictor) else tuple(value)


def _bayes_or_none(prior: AbstractPrior) -> AbstractPredictor | None:
    try:
        return bayes_predictor(prior)
    except ValueError as error:
        if "no exact Bayes predictor" in str(error):
            return None
        raise


__all__ = ["BAYES", "class_name", "class_output_variance", "evaluate", "evaluation_prompts"]
