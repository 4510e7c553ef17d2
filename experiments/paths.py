"""Where the experiments keep what they write: `experiments/EXPERIMENT/KIND/PRESET` (KIND:
results, tables, figures) and training runs in `experiments/runs/FOLDER`, shared between the
experiments that reuse them. `root` replaces the `experiments` folder (the tests write to a
temporary one)."""

from pathlib import Path

EXPERIMENTS = Path(__file__).resolve().parent
REPOSITORY = EXPERIMENTS.parent


def experiment_dir(experiment: str, preset: str, kind: str, root: Path | None = None) -> Path:
    """`experiments/EXPERIMENT/KIND/PRESET`."""
    return (root or EXPERIMENTS) / experiment / kind / preset


def runs_dir(folder: str, root: Path | None = None) -> Path:
    """`experiments/runs/FOLDER`: a study's (or a preset's) training runs."""
    return (root or EXPERIMENTS) / "runs" / folder
