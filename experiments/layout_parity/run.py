"""Does the paired token layout learn what the interleaved one does? The linear study's dense
and sparse specialists trained again with `layout="paired"` (same configs, seeds and prompts
seen), evaluated on their own class next to the committed interleaved ones.

`python -m experiments.layout_parity.run --preset sparse-regime --jobs 2` trains what is
missing and evaluates; `--replot` redraws the table and the figure from the saved results.
"""

from pathlib import Path

from experiments.common import main, trained_models
from experiments.layout_parity.figures import INTERLEAVED, PAIRED, replot, results_path
from experiments.layout_parity.settings import LABELS, paired_name, paired_runs, study_runs_dir
from experiments.linear_study import NOISE_FREE, run_name, study
from icl_theory.evaluation import evaluate
from icl_theory.training.curves import training_seconds
from icl_theory.training.reuse import train_all
from icl_theory.training.run import load_model
from icl_theory.training.run_folder import RunFolder


def run(
    preset: str = "sparse-regime", *, root: Path | None = None, jobs: int = 1, progress: bool = True
) -> list[Path]:
    """Train the paired-layout specialists, then evaluate both layouts on each class."""
    s = study(preset)
    folder = study_runs_dir(preset, root)
    train_all(paired_runs(s), folder, jobs=jobs, progress=progress)
    written = []
    for label, prior in zip(LABELS, (s.dense(NOISE_FREE), s.sparse(NOISE_FREE)), strict=True):
        paired = [folder / paired_name(label, seed) for seed in s.seeds]
        interleaved = [s.run_folder(run_name(label, NOISE_FREE, seed), root) for seed in s.seeds]
        results = evaluate(
            {
                INTERLEAVED: trained_models(s, label, NOISE_FREE, s.seeds, root),
                PAIRED: [load_model(run) for run in paired],
            },
            prior,
            s.n_points,
            n_prompts=s.n_prompts,
            notes={
                "preset": preset,
                "class": label,
                "steps": RunFolder(paired[0]).step(),
                "training_seconds": {
                    INTERLEAVED: [_seconds(run) for run in interleaved],
                    PAIRED: [_seconds(run) for run in paired],
                },
            },
        )
        written.append(results.save(results_path(preset, label, root)))
    return written + replot(preset, root=root)


def _seconds(run: Path) -> float:
    return training_seconds(RunFolder(run).metrics())


if __name__ == "__main__":
    main(
        "layout_parity",
        run,
        replot,
        presets=("smoke", "sparse-regime"),
        default="sparse-regime",
    )
