"""The selection-conditions table and figure, drawn from the saved results only.

The measure, on sparse prompts at `k + 1` and `d / 2` (rounded up) examples: the share of the
sparse specialist's advantage over least squares that a model keeps,
`(LS - model) / (LS - sparse specialist)` (1: selects as the specialist does; 0: least squares),
and, on dense prompts, the model's excess over the dense specialist (selection must not cost
the dense class). Intervals: 95% percentile bootstrap, prompts resampled (paired across
predictors) and each predictor's training seeds resampled independently.
"""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from experiments.linear_study import study
from experiments.names import LEAST_SQUARES
from experiments.paths import experiment_dir
from experiments.selection_conditions.settings import NAME, recipes, study_runs_dir
from icl_theory.evaluation import EvalResults
from icl_theory.plotting import save_figure
from icl_theory.records import write_text
from icl_theory.tables import Table, runs_table
from icl_theory.training.run_folder import RunFolder

DENSE_SPECIALIST = "dense specialist"
SPARSE_SPECIALIST = "sparse specialist"
BASELINE = "per-prompt"
RESAMPLES = 2000
LABELS = {
    BASELINE: "per-prompt mixture (the sparse-regime models)",
    "sparse-specialist": "sparse specialist at step t (matched-data control)",
}


def pilot_name(recipe: str) -> str:
    """The row of a recipe's seeds trained further than the others (a pilot)."""
    return f"{recipe}-pilot"


def step_name(step: int) -> str:
    return f"step {step}"


def results_dir(preset: str, root: Path | None = None) -> Path:
    return experiment_dir(NAME, preset, "results", root)


def replot(preset: str = "sparse-regime", *, root: Path | None = None) -> list[Path]:
    s = study(preset)
    positions = [s.k + 1, (s.dim + 1) // 2]
    labels = LABELS | {r.name: r.label for r in recipes(preset)}
    labels |= {pilot_name(r.name): f"{r.label}, pilot seed alone" for r in recipes(preset)}
    names = [n for r in recipes(preset) for n in (r.name, pilot_name(r.name))]
    rows, curves = [], {}
    for name in [BASELINE, "sparse-specialist", *names]:
        path = results_dir(preset, root) / f"{name}.npz"
        if not path.is_file():
            continue
        results = EvalResults.load(path)
        # A continued recipe counts the steps of the runs it continues.
        before = results.notes.get("steps_before", 0)
        steps = results.notes["steps"]
        measures = {
            before + step: selection_measure(results, step_name(step), positions) for step in steps
        }
        curves[name] = measures
        last = max(steps)
        rows.append((labels.get(name, name), results, last, measures[before + last]))
    table = _table(preset, rows, positions, root)
    write_text(table, table.read_text() + _steps_table(curves, labels, positions))
    return [table, _figure(preset, curves, labels, root), _runs_page(preset, root)]


def _runs_page(preset: str, root: Path | None) -> Path:
    """`runs.md` beside the runs: each run's state (final, or live at its step) and its
    training table."""
    folder = study_runs_dir(preset, root)
    states = []
    for run in sorted(p for p in folder.iterdir() if RunFolder(p).has_checkpoint()):
        steps = RunFolder(run).config().steps
        kept = RunFolder(run)
        if kept.stopped_early():
            state = f"stopped at step {kept.step():,} (parameters only)"
        elif kept.is_finalised():
            state = "final (parameters only)"
        else:
            state = f"live at step {kept.step():,}"
        states.append([run.name, f"{state} of {steps:,}"])
    text = (
        f"# Training runs of the selection-conditions study, preset `{preset}`\n\n"
        "A live run keeps its optimiser state, to continue with `python -m "
        "experiments.selection_conditions.train NAME ...`; a run stopped early "
        "(`icl-theory finalise --stop-early`) is final at the step it reached, where its pilot "
        "gave no reason to go on; parameter snapshots are not kept in "
        "the repository (their evaluations are, in `experiments/selection_conditions/results/`)."
        "\n\n" + Table(["run", "state"], states).to_markdown() + "\n" + runs_table(folder)
    )
    return write_text(folder / "runs.md", text)


def selection_measure(results: EvalResults, model: str, positions: list[int]) -> dict:
    """The kept share on sparse prompts and the dense-class excess at `positions`, each as
    (estimate, low, high)."""
    sparse = results.for_class(results.class_names[1])
    dense = results.for_class(results.class_names[0])
    rng = np.random.default_rng(0)
    share = _bootstrap(
        rng,
        [sparse.errors[n][:, :, positions] for n in (LEAST_SQUARES, model, SPARSE_SPECIALIST)],
        lambda ls, m, sp: (ls - m) / (ls - sp),
    )
    excess = _bootstrap(
        rng,
        [dense.errors[n][:, :, positions] for n in (model, DENSE_SPECIALIST)],
        lambda m, de: m - de,
    )
    return {"share": share, "dense_excess": excess}


def seed_shares(results: EvalResults, model: str, position: int) -> np.ndarray:
    """Each training seed's kept share at `position` (against the specialists' seed mean):
    whether an effect holds in every seed, not only on average."""
    sparse = results.for_class(results.class_names[1])
    ls, specialist = (
        sparse.errors[n][:, :, position].mean() for n in (LEAST_SQUARES, SPARSE_SPECIALIST)
    )
    return (ls - sparse.errors[model][:, :, position].mean(axis=1)) / (ls - specialist)


def _bootstrap(rng, errors: list[np.ndarray], statistic) -> np.ndarray:
    """(3, positions): the statistic of the seed-and-prompt means, and its 95% interval."""
    n_prompts = errors[0].shape[1]
    point = statistic(*(e.mean(axis=(0, 1)) for e in errors))
    draws = []
    for _ in range(RESAMPLES):
        prompts = rng.integers(0, n_prompts, n_prompts)
        means = []
        for e in errors:
            seeds = rng.integers(0, e.shape[0], e.shape[0])
            means.append(e[seeds][:, prompts].mean(axis=(0, 1)))
        draws.append(statistic(*means))
    low, high = np.percentile(np.stack(draws), [2.5, 97.5], axis=0)
    return np.stack([point, low, high])


def _cell(values: np.ndarray, index: int) -> str:
    point, low, high = values[:, index]
    return f"{point:.2f} [{low:.2f}, {high:.2f}]"


def _table(preset: str, rows: list, positions: list[int], root: Path | None) -> Path:
    columns = [
        "recipe",
        "seeds",
        "step",
        "prompts seen",
        "core-minutes",
        *(f"share kept, n = {p}" for p in positions),
        *(f"dense excess, n = {p}" for p in positions),
        f"each seed's share, n = {positions[-1]}",
    ]
    cells_by_row = []
    for label, results, step, measure in rows:
        seeds = results.errors[step_name(step)].shape[0]
        before = results.notes.get("steps_before", 0)
        seconds = results.notes.get("training_seconds", float("nan"))
        minutes = (seconds + results.notes.get("training_seconds_before", 0.0)) / 60
        batch = 64  # every run of the study
        total = before + step
        cells = [label, str(seeds), f"{total:,}", f"{total * batch / 1e6:.2f}M", f"{minutes:.0f}"]
        cells += [_cell(measure["share"], i) for i in range(len(positions))]
        cells += [_cell(measure["dense_excess"], i) for i in range(len(positions))]
        per_seed = seed_shares(results, step_name(step), positions[-1])
        cells.append(", ".join(f"{share:.2f}" for share in per_seed))
        cells_by_row.append(cells)
    lines = [
        f"# What it takes to select, preset `{preset}`\n",
        "Share of the sparse specialist's advantage over least squares that each model keeps on "
        "sparse prompts, `(LS - model) / (LS - sparse specialist)` (1: selects as the specialist "
        "does; 0: runs least squares), and its excess normalised error over the dense specialist "
        "on dense prompts; 95% bootstrap intervals over prompts and training seeds. Each row at "
        "the latest step its runs keep; core-minutes: the timed training of one ensemble of "
        "three seeds on one core (for a warm start, on top of its specialist's; a continued "
        "recipe counts the steps, prompts and minutes of the runs it continues); a pilot row: "
        "the seed trained further alone (one seed: not established).\n",
        Table(columns, cells_by_row).to_markdown().rstrip("\n"),
    ]
    first = next(iter(rows))[1] if rows else None
    if first is not None:
        # A result is re-saved only when it changed, so rows may come from different commits.
        gits = [results.provenance.get("git", {}) for _, results, _, _ in rows]
        commits = sorted({str(git.get("commit"))[:10] for git in gits})
        dirty = " with uncommitted changes" if any(git.get("dirty") for git in gits) else ""
        lines.append(
            f"\nEvaluated on {first.n_prompts} prompts of the 50/50 mixture (seed "
            f"{first.setup.seed}), code at git {', '.join(commits)}{dirty} (each "
            "row's results file records its own); training code of each run: "
            "`experiments/runs/selection_conditions/runs.md`.\n"
        )
    path = experiment_dir(NAME, preset, "tables", root) / "conditions.md"
    return write_text(path, "\n".join(lines) + "\n")


def _steps_table(curves: dict, labels: dict, positions: list[int]) -> str:
    """Markdown: every recipe's measure at every kept step (the figure's points)."""
    columns = [
        "recipe",
        "step",
        "prompts seen",
        *(f"share kept, n = {p}" for p in positions),
        *(f"dense excess, n = {p}" for p in positions),
    ]
    rows = []
    for name, measures in curves.items():
        for step in sorted(measures):
            cells = [labels.get(name, name), f"{step:,}", f"{step * 64 / 1e6:.2f}M"]
            cells += [_cell(measures[step]["share"], i) for i in range(len(positions))]
            cells += [_cell(measures[step]["dense_excess"], i) for i in range(len(positions))]
            rows.append(cells)
    return "\n## The measure at every kept step\n\n" + Table(columns, rows).to_markdown()


def _figure(preset: str, curves: dict, labels: dict, root: Path | None) -> Path:
    figure, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for index, ax in enumerate(axes):
        for name, measures in curves.items():
            steps = sorted(measures)
            values = np.stack([measures[step]["share"][:, index] for step in steps])
            prompts = np.asarray(steps) * 64
            line = ax.plot(prompts, values[:, 0], marker="o", label=labels.get(name, name))
            ax.fill_between(
                prompts, values[:, 1], values[:, 2], color=line[0].get_color(), alpha=0.15
            )
        ax.axhline(0.0, color="grey", linewidth=1, linestyle="--")
        ax.axhline(1.0, color="black", linewidth=1, linestyle=":")
        ax.set_xscale("log")
        ax.set_xlabel("prompts seen")
        ax.set_ylabel("share of the sparse specialist's advantage kept")
        ax.set_title(["k + 1", "d / 2"][index] + " examples")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize="x-small")
    figure.tight_layout()
    folder = experiment_dir(NAME, preset, "figures", root)
    return save_figure(figure, folder / "conditions.png")
