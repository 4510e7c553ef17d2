"""`evaluate`: run named predictors on one seeded evaluation set and keep every error as data."""

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, TypeVar

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from icl_theory._validation import check_positive_int, invalid
from icl_theory.evaluation.diagnostics import SelectionProbe, selection_diagnostics
from icl_theory.evaluation.results import EvalResults, Selection
from icl_theory.evaluation.setup import EvalSetup
from icl_theory.predictors import (
    AbstractPredictor,
    class_posteriors,
    find_bayes_predictor,
    predict_where_defined,
)
from icl_theory.priors import AbstractPrior, drawn_class_variance, prior_to_data
from icl_theory.priors.inputs import AbstractInputDistribution
from icl_theory.prompts import Prompts, sample_prompts
from icl_theory.records import provenance

BAYES = "Bayes"
"""The name of the evaluation prior's exact Bayes predictor in results."""

T = TypeVar("T")

Normalisation = Literal["pointwise", "class_mean"]

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
    selection: SelectionProbe | None = None,
    normalise: Normalisation = "pointwise",
    chunk: int = 256,
    notes: Mapping[str, Any] | None = None,
    progress: Console | None = None,
) -> EvalResults:
    """Errors of every predictor at every position of the same `n_prompts` prompts.

    Args:
        predictors: name -> predictor, or name -> several predictors (e.g. one model per
            training seed; their errors are kept per seed and the confidence intervals resample
            seeds too).
        prior: the prior the evaluation prompts come from (any prior; it need not be the one a
            model was trained on).
        n_points: points per evaluation prompt (`evaluation_prompts`).
        n_prompts: the number of evaluation prompts.
        seed: the seed of the evaluation prompts.
        inputs: the input distribution of the evaluation prompts (`evaluation_prompts`).
        include_bayes: add the prior's exact Bayes predictor as `"Bayes"` (the default
            reference of `EvalResults.excess`) when the prior has one and no predictor has that
            name. When it has none, `setup.bayes` says so (and the tables print it), rather
            than leaving it out silently.
        normalise: the denominator of the errors (see Returns): `"pointwise"`, the class's
            output variance at each query `x_i`; `"class_mean"`, its mean over all the
            evaluation points of the class's prompts (the average output variance under the
            input distribution). Use the second where the pointwise variance vanishes at some
            inputs (1-D linear functions near `x = 0`, quadratic forms), which would let a few
            prompts dominate every mean.
        selection: model-selection diagnostics to compute on the same prompts
            (`SelectionProbe`; saved in `EvalResults.selection`).
        chunk: prompts per compiled call (bounds memory for the larger Bayes predictors).
        notes: whatever else to save with the results (`EvalResults.notes`: e.g. the run
            folders and training steps the models came from).
        progress: a rich `Console` to show which predictor is being evaluated on (a transient
            bar; compiling each predictor's batched call is most of the time).

    Returns:
        `EvalResults` with `errors[name]` of shape `(seeds, n_prompts, n_points)`: the
        squared error against the noise-free `f(x_i)` divided by the output variance of the
        prompt's own class (`class_output_variance` at `x_i`, or its class mean with
        `normalise="class_mean"`; either way the zero predictor scores 1 on every class in
        expectation, as in Garg et al.'s normalisation). Against the noisy `y_i` the expected error
        is this plus `noise_std^2 / variance`. An error is NaN where a Bayes
        predictor has no prediction: its prior gives that prompt's prefix probability zero
        (noise-free data outside its class; its mean, and the tables, then read n/a). For a mixture
        prior the Bayes class posterior `p(class | y_<i)` per prompt and position is saved as
        `class_posterior`.
    """
    check_positive_int("evaluate", "chunk", chunk)
    named = {name: _as_tuple(value) for name, value in predictors.items()}
    for name, members in named.items():
        if not members:
            raise invalid("evaluate", f"predictors[{name!r}]", members, "needs a predictor")
    bayes = find_bayes_predictor(prior)
    added_bayes = include_bayes and bayes is not None and BAYES not in named
    if added_bayes:
        named[BAYES] = (bayes,)
    prompts = evaluation_prompts(prior, n_points, n_prompts=n_prompts, seed=seed, inputs=inputs)
    variance = class_output_variance(prior, prompts)
    if normalise == "class_mean":
        variance = _class_means(variance, np.asarray(prompts.class_index))
    elif normalise != "pointwise":
        raise invalid("evaluate", "normalise", normalise, "is 'pointwise' or 'class_mean'")
    fs = np.asarray(prompts.fs, np.float64)
    has_posterior = bayes is not None and len(prior.classes) > 1
    tasks = sum(map(len, named.values())) + has_posterior + (selection is not None)
    with _Stages(progress, tasks) as stage:
        errors = {}
        for name, members in named.items():
            errors[name] = np.stack(
                [stage(name, _errors, member, prompts, fs, variance, chunk) for member in members]
            )
        class_posterior = None
        if bayes is not None and has_posterior:
            class_posterior = stage(
                "Bayes class posterior",
                _chunked,
                lambda xs, ys: np.asarray(class_posteriors(bayes, xs, ys), np.float32),
                prompts,
                chunk,
            )
        diagnostics = Selection()
        if selection is not None:
            diagnostics = stage(
                "selection diagnostics", selection_diagnostics, selection, prior, prompts, inputs
            )
    setup = EvalSetup(
        n_points=n_points,
        n_prompts=n_prompts,
        seed=seed,
        prior=prior_to_data(prior),
        dim=prior.dim,
        inputs=repr(inputs) if inputs is not None else "IsotropicGaussian()",
        normalise=normalise,
        bayes=_bayes_note(bayes, prior, named, added=added_bayes),
        selection_prompts=None if selection is None else selection.prompts,
        selection_queries=None if selection is None else selection.queries,
    )
    return EvalResults(
        errors=errors,
        class_index=np.asarray(prompts.class_index),
        setup=setup,
        notes=dict(notes or {}),
        class_names=tuple(c.label for c in prior.classes),
        class_posterior=class_posterior,
        selection=diagnostics,
        provenance=provenance(),
    )


class _Stages:
    """`with _Stages(console, total) as stage: stage(label, function, *arguments)` runs each
    stage under a transient progress bar on `console` (nothing shown without one)."""

    def __init__(self, console: Console | None, total: int):
        self._bar = (
            Progress(
                TextColumn("[bold]evaluate"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.description}"),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            )
            if console is not None
            else None
        )
        self._total = total
        self._task = None

    def __enter__(self) -> "_Stages":
        if self._bar is not None:
            self._bar.__enter__()
            self._task = self._bar.add_task("", total=self._total)
        return self

    def __call__(self, label: str, function: Callable[..., T], *arguments: Any) -> T:
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, description=label)
        value = function(*arguments)
        if self._bar is not None and self._task is not None:
            self._bar.advance(self._task)
        return value

    def __exit__(self, *exception: Any) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exception)


def class_output_variance(prior: AbstractPrior, prompts: Prompts) -> np.ndarray:
    """`drawn_class_variance` of the prompts, computed in float64 (NumPy)."""
    with jax.enable_x64(True):
        variance = drawn_class_variance(
            prior, jnp.asarray(prompts.xs, jnp.float64), jnp.asarray(prompts.class_index)
        )
        return np.asarray(variance, np.float64)


def _class_means(variance: np.ndarray, class_index: np.ndarray) -> np.ndarray:
    """Each prompt's entries replaced by the mean over every point of its class's prompts."""
    means = np.empty_like(variance)
    for index in np.unique(class_index):
        chosen = class_index == index
        means[chosen] = variance[chosen].mean()
    return means


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
    """Float64 predictions, and where the predictor has none (`predict_defined`)."""
    dtype = np.float64 if predictor.needs_float64 else np.float32

    def both(xs, ys):
        preds, defined = predict_where_defined(predictor, xs.astype(dtype), ys.astype(dtype))
        return np.stack([np.asarray(preds, np.float64), ~np.asarray(defined)], axis=-1)

    stacked = _chunked(both, prompts, chunk)
    return stacked[..., 0], stacked[..., 1] > 0


def _chunked(function, prompts: Prompts, chunk: int) -> np.ndarray:
    parts = [
        function(prompts.xs[start : start + chunk], prompts.ys[start : start + chunk])
        for start in range(0, prompts.batch_size, chunk)
    ]
    return np.concatenate(parts)


def _as_tuple(value: AbstractPredictor | Sequence[AbstractPredictor]) -> tuple:
    return (value,) if isinstance(value, AbstractPredictor) else tuple(value)


def _bayes_note(
    bayes: AbstractPredictor | None, prior: AbstractPrior, named: dict, *, added: bool
) -> str:
    """What the `"Bayes"` entry is: the prior's exact predictor, the caller's, or absent."""
    if added:
        return "exact"
    given = "; 'Bayes' is the caller's predictor" if BAYES in named else ""
    if bayes is None:
        return f"none registered for {prior.label}{given}"
    return "the caller's predictor" if given else "not evaluated (include_bayes=False)"


__all__ = ["BAYES", "class_output_variance", "evaluate", "evaluation_prompts"]
