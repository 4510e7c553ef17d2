"""Figures drawn from saved `EvalResults` only (NumPy + matplotlib; no JAX, no models, no
retraining): ICL curves with bootstrap bands, excess error over a reference, class weights."""

import io
import warnings
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files, not windows: figures are written by scripts and CI

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from icl_theory.evaluation.results import EvalResults
from icl_theory.records import write_atomic

ERROR_FLOOR = 1e-4
ERROR_CEILING = 10.0


def plot_icl_curves(
    ax: Axes,
    results: EvalResults,
    names: Sequence[str] | None = None,
    *,
    title: str | None = None,
    log: bool = True,
) -> None:
    """Normalised error against the number of in-context examples, one line and 95% band per
    predictor (bands resample prompts and training seeds)."""
    for name in names or results.names:
        curve = results.curve(name)
        label = f"{name} ({results.seeds(name)} seeds)" if results.seeds(name) > 1 else name
        defined = curve.mean[~np.isnan(curve.mean)]  # NaN: no prediction (see `evaluate`)
        if log and defined.size and defined.max() > ERROR_CEILING:
            label += " (off scale)"
        (line,) = ax.plot(curve.context_lengths, curve.mean, label=label, **_style(name))
        ax.fill_between(
            curve.context_lengths, curve.low, curve.high, color=line.get_color(), alpha=0.2
        )
    if log:
        ax.set_yscale("log")
        # Noise-free Bayes errors reach 1e-30 (round-off); below 1e-4 nothing is visible anyway.
        # Averaging, or least squares at n = d with noise, reach 1e2-1e3; beyond ten times the
        # zero predictor's error the scale would only squash the rest.
        ax.set_ylim(bottom=ERROR_FLOOR, top=min(ax.get_ylim()[1], ERROR_CEILING))
    ax.set_xlabel("in-context examples")
    ax.set_ylabel("squared error / output variance")
    ax.set_title(title or "")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")


def plot_excess(
    ax: Axes,
    results: EvalResults,
    names: Sequence[str],
    reference: str = "Bayes",
    *,
    title: str | None = None,
) -> None:
    """Each predictor's error minus the reference's, paired by prompt, with 95% bands."""
    for name in names:
        curve = results.excess(name, reference)
        (line,) = ax.plot(curve.context_lengths, curve.mean, label=name, **_style(name))
        ax.fill_between(
            curve.context_lengths, curve.low, curve.high, color=line.get_color(), alpha=0.2
        )
    ax.axhline(0.0, color="black", linewidth=0.8)
    # Linear near zero (where the differences between good predictors are), logarithmic beyond
    # (least squares at n = d with noise, averaging).
    ax.set_yscale("symlog", linthresh=0.05)
    ax.set_xlabel("in-context examples")
    ax.set_ylabel(f"excess error over {reference}")
    ax.set_title(title or "")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")


def plot_class_weights(
    ax: Axes, results: EvalResults, class_index: int = 0, *, title: str | None = None
) -> None:
    """On prompts of every class: the Bayes posterior of class `class_index` (solid) and each
    predictor's implied weight of it (dashed; `results.selection.implied_weight`), as the
    median over prompts with the interquartile range."""
    if results.class_posterior is None:
        raise ValueError("these results hold no class posterior (the prior is not a mixture)")
    target = results.class_names[class_index]
    dashes = ["--", ":", "-.", (0, (5, 1, 1, 1, 1, 1))]
    for true_class, class_label in enumerate(results.class_names):
        # One colour per class of prompts: the Bayes posterior wide and pale, each predictor's
        # implied weight dashed on top of it, so that agreement shows and hides nothing.
        colour = f"C{true_class}"
        chosen = results.class_index == true_class
        posterior = results.class_posterior[chosen, class_index]
        _median_band(
            ax,
            posterior,
            f"Bayes p({target}) | {class_label} prompts",
            {"color": colour, "linewidth": 3.5, "alpha": 0.45},
        )
        for index, (name, weights) in enumerate(results.selection.implied_weight.items()):
            style = {"color": colour, "linestyle": dashes[index % len(dashes)]}
            _median_band(ax, weights[chosen], f"{name}: implied | {class_label} prompts", style)
    ax.set_ylim(-0.1, 1.1)
    ax.set_xlabel("in-context examples")
    ax.set_ylabel(f"weight on {target}")
    ax.set_title(title or "")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="x-small")


def summary_figure(results: EvalResults, names: Sequence[str] | None = None) -> Figure:
    """One ICL-curve panel per class of the evaluation prior (or one for a single class), an
    excess-over-Bayes panel when a Bayes predictor was evaluated, and the class weights for a
    mixture."""
    classes = results.class_names if len(results.class_names) > 1 else (None,)
    has_posterior = results.class_posterior is not None
    panels = len(classes) + ("Bayes" in results.names) + has_posterior
    figure, axes = plt.subplots(1, panels, figsize=(5.5 * panels, 4.5), squeeze=False)
    axes = list(axes[0])
    for class_label in classes:
        subset = results if class_label is None else results.for_class(class_label)
        title = "all prompts" if class_label is None else f"{class_label} prompts"
        plot_icl_curves(axes.pop(0), subset, names, title=title)
    if "Bayes" in results.names:
        # Bayes predictors of single classes are excluded: noise-free, a class's predictor on the
        # other class's prompts is confidently wrong (errors of 1e3) and would flatten the rest.
        others = [name for name in (names or results.names) if not name.startswith("Bayes")]
        plot_excess(axes.pop(0), results, others, title="excess over Bayes (all prompts)")
    if has_posterior:
        plot_class_weights(axes.pop(0), results, title="class selection")
    figure.tight_layout()
    return figure


def save_figure(figure: Figure, path: str | Path) -> Path:
    """Write the figure atomically (format from the suffix) and close it."""
    path = Path(path)
    buffer = io.BytesIO()
    figure.savefig(buffer, format=path.suffix.lstrip(".") or "png", dpi=130)
    plt.close(figure)
    write_atomic(path, buffer.getvalue())
    return path


def _median_band(ax: Axes, values: np.ndarray, label: str, style: dict) -> None:
    if values.size == 0 or np.all(np.isnan(values)):
        return
    positions = np.arange(values.shape[1])
    quartiles = np.asarray(nan_quantile(values, [0.25, 0.5, 0.75]))
    (line,) = ax.plot(positions, quartiles[1], label=label, **style)
    ax.fill_between(positions, quartiles[0], quartiles[2], color=line.get_color(), alpha=0.12)


def nan_quantile(values: np.ndarray, q, axis: int = 0) -> np.ndarray | np.floating:
    """Quantiles ignoring NaN (an implied weight where it is not identified); NaN, silently,
    where a column is all NaN (no context yet)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanquantile(values, q, axis=axis)


def _style(name: str) -> dict:
    # Bayes predictors are the reference: black (the prior's own, solid) or grey (others, each
    # with its own dash pattern) so the eye finds them first.
    if name == "Bayes":
        # Wide, pale and underneath: a class's Bayes predictor that coincides with it (noise-free,
        # once the class is identified) stays visible on top of it.
        return {"color": "black", "linestyle": "-", "linewidth": 3.5, "alpha": 0.35, "zorder": 1}
    if name.startswith("Bayes"):
        patterns = ["--", ":", "-.", (0, (5, 1, 1, 1, 1, 1))]
        return {"color": "dimgray", "linestyle": patterns[sum(map(ord, name)) % len(patterns)]}
    return {}
