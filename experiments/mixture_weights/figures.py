"""Experiment 3's tables and figure, drawn from its saved results only."""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from experiments import names
from experiments.common import provenance_line, seed_table
from experiments.linear_study import experiment_dir, study
from icl_theory.evaluation import EvalResults
from icl_theory.plotting import save_figure
from icl_theory.records import write_text
from icl_theory.tables import curve_table, value_table

NAME = "mixture_weights"


def replot(preset: str = "small", *, root: Path | None = None) -> list[Path]:
    s = study(preset)
    results = EvalResults.load(experiment_dir(NAME, preset, "results", root) / "weights.npz")
    positions = s.key_lengths()
    figure, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    text = [f"# Mixture weights, preset `{preset}` (noise-free)\n\n", provenance_line(results)]
    for ax, (class_label, own) in zip(
        axes, zip(results.class_names, ("dense", "sparse"), strict=True), strict=True
    ):
        subset = results.for_class(class_label)
        shares = [w if own == "dense" else 1 - w for w in s.dense_weights]
        rows, labels = [], []
        for kind in (names.MIXTURE_MODEL, names.BAYES):
            excess = np.array(
                [
                    subset.excess(names.weighted(kind, w), names.bayes(own)).mean[positions]
                    for w in s.dense_weights
                ]
            )
            rows.append(excess)
            labels += [f"{kind} (share {share:g})" for share in shares]
            for column, position in enumerate(positions[1:4], start=1):
                ax.plot(
                    shares,
                    excess[:, column],
                    marker="o",
                    linestyle="-" if kind == names.MIXTURE_MODEL else "--",
                    label=f"{kind}, n = {position}",
                )
        ax.axhline(0.0, color="black", linewidth=0.8)
        ax.set_xlabel(f"share of {own} prompts in pretraining")
        ax.set_ylabel(f"excess error over Bayes {own} on {own} prompts")
        ax.set_title(f"{class_label} prompts")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="x-small")
        text.append(
            f"\n## {class_label} prompts: excess error over Bayes {own} (the best possible on "
            "these prompts), against the class's share of pretraining\n\n"
        )
        text.append(value_table(labels, [f"n = {p}" for p in positions], np.concatenate(rows)))
        text.append(
            f"\n## {class_label} prompts: the mixture models' excess over Bayes {own}, 95% "
            "intervals (over prompts, and over training seeds where there are several)\n\n"
        )
        mixtures = [names.weighted(names.MIXTURE_MODEL, w) for w in s.dense_weights]
        text.append(curve_table(subset, mixtures, positions, excess_over=names.bayes(own)))
        text.append(
            f"\n## {class_label} prompts: mean normalised error of each training seed (the "
            "seed-to-seed spread an effect of the weight must exceed)\n\n"
        )
        text.append(seed_table(subset, s.seeds[: s.weight_seeds], positions))
        text.append(f"\n## {class_label} prompts: normalised error (95% CI)\n\n")
        text.append(curve_table(subset, list(results.names), positions))
    figure.tight_layout()
    return [
        save_figure(figure, experiment_dir(NAME, preset, "figures", root) / "weights.png"),
        write_text(experiment_dir(NAME, preset, "tables", root) / "weights.md", "".join(text)),
    ]
