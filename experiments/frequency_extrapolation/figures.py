"""Experiment 6's table and figure, drawn from its saved results only."""

from pathlib import Path

from experiments import names
from experiments.common import controls_section, provenance_line, sweep_panels
from experiments.linear_sinusoid_study import CONTROLS, PRETRAINING_BAYES, study
from experiments.paths import experiment_dir
from icl_theory.evaluation import EvalResults
from icl_theory.plotting import save_figure
from icl_theory.records import write_text

NAME = "frequency_extrapolation"
# One file per frequency; the line under the table says so.
PROMPTS = "one test frequency's sinusoid (a file per frequency)"
# The models whose out-of-distribution errors the controls explain, or not.
MODELS = (names.MIXTURE_MODEL, names.model("sinusoid"))


def column(value: float) -> str:
    return f"f {value:g}"


def replot(preset: str = "small", *, root: Path | None = None) -> list[Path]:
    """Error against the test frequency, the pretraining band shaded, one panel per length."""
    s = study(preset)
    folder = experiment_dir(NAME, preset, "results", root)
    loaded = [EvalResults.load(folder / f"frequency{f:g}.npz") for f in s.frequencies]
    positions = [p for p in s.key_lengths if 1 < p < s.n_points]
    text = [f"# Frequency extrapolation, preset `{preset}`\n", provenance_line(loaded[0], PROMPTS)]
    text.append(
        f"\nPrompts: sinusoids of one test frequency (amplitude and phase as in pretraining), "
        f"noise std {s.noise_std:g}; pretraining band [{s.freq_low:g}, {s.freq_high:g}]. "
        "`Bayes` is the oracle that knows the test frequency; `Bayes sinusoid band` and `Bayes "
        "pretraining mixture` are the Bayes predictors of the sinusoid model's and the mixture "
        "model's pretraining priors.\n"
    )
    figure, tables = sweep_panels(
        loaded,
        s.frequencies,
        positions,
        xlabel="test frequency",
        column=column,
        shade=(s.freq_low, s.freq_high),
    )
    text.append(tables)
    controls = [c for c in (*PRETRAINING_BAYES, *CONTROLS) if c in loaded[0].names]
    if controls:
        columns = [column(value) for value in s.frequencies]
        text.append(controls_section(loaded, positions, columns, MODELS, controls))
    return [
        save_figure(figure, experiment_dir(NAME, preset, "figures", root) / "frequency.png"),
        write_text(experiment_dir(NAME, preset, "tables", root) / "frequency.md", "".join(text)),
    ]
