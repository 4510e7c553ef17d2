"""The runs of the layout-parity experiment: the linear study's dense and sparse specialists
again, each config unchanged but for the paired token layout."""

import dataclasses
from pathlib import Path

from experiments import paths
from experiments.linear_study import NOISE_FREE, LinearStudy, run_name
from icl_theory.training.config import TrainConfig

NAME = "layout_parity"
LABELS = ("dense", "sparse")


def paired_name(label: str, seed: int) -> str:
    return f"{label}-paired_seed{seed}"


def paired_runs(s: LinearStudy) -> dict[str, TrainConfig]:
    """Run name -> config of the paired-layout specialists, seed for seed with the study's."""
    specialists = s.specialists_and_mixture(NOISE_FREE, s.seeds)
    return {
        paired_name(label, seed): dataclasses.replace(
            specialists[run_name(label, NOISE_FREE, seed)], layout="paired"
        )
        for label in LABELS
        for seed in s.seeds
    }


def study_runs_dir(preset: str, root: Path | None = None) -> Path:
    """`experiments/runs/layout_parity_PRESET`."""
    return paths.runs_dir(f"{NAME}_{preset}", root)
