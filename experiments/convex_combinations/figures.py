"""Experiment 5's table and figure, drawn from its saved results only."""

from pathlib import Path

from experiments import names
from experiments.common import controls_section, provenance_line, sweep_panels
from experiments.linear_sinusoid_study import CONTROLS, PRETRAINING_BAYES, study
from experiments.paths import experiment_dir
from icl_theory.evaluation import EvalResults
from icl_theory.plotting import save_figure
from icl_theory.records import write_text

NAME = "convex_combinations"
# One file per alpha; the line under the table says so instead of naming one alpha's prior.
PROMPTS = "`alpha*dense + (1 - alpha)*sinusoid` (a file per alpha)"
# The models whose out-of-distribution errors the controls explain, or not.
MODELS = (names.MIXTURE_MODEL, names.model("sinusoid"))


def column(value: float) -> str:
    return f"alpha {value:g}"


def replot(preset: str = "small", *, root: Path | None = None) -> list[Path]:
    """Error against alpha, one curve per predictor, one panel per context length."""
    s = study(preset)
    folder = experiment_dir(NAME, preset, "results", root)
    loaded = [EvalResults.load(folder / f"alpha{alpha:g}.npz") for alpha in s.alphas]
    positions = [p for p in s.key_lengths if 1 < p < s.n_points]
    text = [f"# Convex combinations, preset `{preset}`\n", provenance_line(loaded[0], PROMPTS)]
    text.append(
        "\nPrompts: `alpha * linear + (1 - alpha) * sinusoid` (both drawn from the pretraining "
        f"classes), noise std {s.noise_std:g}. Error: squared error against f(x) over the "
        "combination's mean output variance on the evaluation points, alpha^2 E[x^2] + "
        "(1 - alpha)^2 (about 1 at alpha = 0 and 1, 0.5 at alpha = 0.5). `Bayes` is the oracle "
        "that knows the combined class; `Bayes pretraining mixture` gives these functions "
        "probability zero (for 0 < alpha < 1) and weighs its two classes by their evidence.\n"
    )
    figure, tables = sweep_panels(
        loaded,
        s.alphas,
        positions,
        xlabel="alpha (weight of the linear function)",
        column=column,
        shade=None,
    )
    text.append(tables)
    controls = [c for c in (*PRETRAINING_BAYES, *CONTROLS) if c in loaded[0].names]
    if controls:
        columns = [column(value) for value in s.alphas]
        text.append(controls_section(loaded, positions, columns, MODELS, controls))
    return [
        save_figure(figure, experiment_dir(NAME, preset, "figures", root) / "alpha.png"),
        write_text(experiment_dir(NAME, preset, "tables", root) / "alpha.md", "".join(text)),
    ]
