"""The scaling study's table and figure, drawn from its saved results only."""

import json
from pathlib import Path

import matplotlib.pyplot as plt

from experiments.names import BAYES
from experiments.sparse_regime.settings import output_dir
from icl_theory.plotting import save_figure
from icl_theory.records import write_text
from icl_theory.tables import Table

# The trained sparse specialist, in the results and the summary.
SPECIALIST = "model"


def replot(preset: str = "small", *, root: Path | None = None) -> list[Path]:
    """`tables/PRESET/scaling.md` and `figures/PRESET/scaling.png` from `scaling.json`."""
    saved = json.loads((output_dir("results", preset, root) / "scaling.json").read_text())
    measured = saved["settings"]
    return [
        write_text(output_dir("tables", preset, root) / "scaling.md", scaling_table(saved)),
        save_figure(scaling_figure(measured), output_dir("figures", preset, root) / "scaling.png"),
    ]


def scaling_table(saved: dict) -> str:
    """Markdown: per setting, its compute and wall time, and the share of least squares' error
    removed by the model, Lasso and the Bayes predictor at each reported context length."""
    git = saved["provenance"].get("git", {})
    lines = [
        f"# Sparse recovery against training compute, preset `{saved['preset']}`\n",
        "Share of least squares' error removed on the specialist's own k-sparse prompts "
        "(1 - error / least squares' error; 1 is perfect, 0 is least squares, negative is worse), "
        f"at the latest checkpoint, on {saved['final_prompts']:,} fresh noise-free prompts, with "
        "95% bootstrap intervals over prompts; one training seed per setting. Compute is prompts "
        "seen (steps x batch); wall time is one CPU core, compiled calls only. Code at git "
        f"{str(git.get('commit'))[:10]}{' (uncommitted changes)' if git.get('dirty') else ''}.\n",
    ]
    measured, extrapolated = [], []
    for name, one in saved["settings"].items():
        final = one["final"]
        for position in one["positions"]:
            shares = final["share_removed"]
            cells = [
                _interval(shares[key][str(position)]) for key in (SPECIALIST, final["lasso"], BAYES)
            ]
            stage = "" if final["decayed"] else " (stable phase)"
            measured.append(
                [
                    name,
                    str(one["dim"]),
                    str(one["k"]),
                    str(position),
                    f"{final['step']:,}{stage}",
                    f"{final['prompts_seen']:.2e}",
                    f"{final['wall_time_s'] / 60:.0f} min",
                    *cells,
                ]
            )
        line = one.get("extrapolation")
        if line is not None:
            reach = line["prompts_to_target"]
            reached = "never (no rise)" if reach is None else f"{reach:.1e}"
            extrapolated.append(
                [
                    name,
                    str(line["position"]),
                    f"{line['slope_per_decade']:.3f}",
                    str(line["fitted_points"]),
                    reached,
                ]
            )
    columns = ["setting", "d", "k", "n", "steps", "prompts seen", "wall time", "model", "Lasso"]
    lines.append(Table([*columns, "Bayes"], measured).to_markdown().rstrip("\n"))
    lines.append(
        "\nExtrapolation: the monitoring curve's share at d / 2 examples (rounded up), a straight "
        "line in log10(prompts seen) fitted to its later half (in log prompts); where it would "
        "reach half of least squares' error removed. A guide to a longer run's compute, not a "
        "prediction.\n"
    )
    columns = ["setting", "n", "slope per decade of prompts", "points fitted"]
    lines.append(Table([*columns, "prompts to reach 0.5"], extrapolated).to_markdown())
    return "\n".join(lines)


def _interval(share: dict) -> str:
    return f"{share['mean']:.2f} ({share['low']:.2f} to {share['high']:.2f})"


def scaling_figure(measured: dict):
    """One panel per reported context length relative to k (k + 1, k + 2) and d / 2: each
    setting's share removed against prompts seen, its Lasso and Bayes shares as dashed and
    dotted lines in its colour."""
    panels = ("k + 1", "k + 2", "d / 2")
    figure, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 4.2), sharey=True)
    for index, (name, one) in enumerate(measured.items()):
        colour = f"C{index}"
        lengths = {"k + 1": one["k"] + 1, "k + 2": one["k"] + 2, "d / 2": one["headline"]}
        for ax, panel in zip(axes, panels, strict=True):
            position = str(lengths[panel])
            if position not in one["curve"]["share_removed"][0]:
                continue
            curve = one["curve"]
            ax.plot(
                curve["prompts_seen"],
                [point[position] for point in curve["share_removed"]],
                color=colour,
                label=f"{name} (n = {position})",
            )
            final = one["final"]["share_removed"]
            ax.axhline(final[one["final"]["lasso"]][position]["mean"], color=colour, ls="--", lw=1)
            ax.axhline(final[BAYES][position]["mean"], color=colour, ls=":", lw=1)
    for ax, panel in zip(axes, panels, strict=True):
        ax.set_xscale("log")
        ax.set_xlabel("prompts seen (steps x batch)")
        ax.set_title(f"{panel} examples in context")
        ax.axhline(0.0, color="grey", lw=0.8)
        # Untrained models are far worse than least squares; the question is above zero.
        ax.set_ylim(-1.0, 1.05)
        ax.grid(alpha=0.3)
        ax.legend(fontsize="x-small", title="model; -- Lasso, : Bayes", title_fontsize="x-small")
    axes[0].set_ylabel("share of least squares' error removed")
    figure.tight_layout()
    return figure
