"""The accelerator script's CPU dry run end to end, and its vmapped ensemble against single runs:
a member of the ensemble is the run `icl-theory train` makes with that member's config."""

import dataclasses
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import equinox as eqx
import jax
import numpy as np
import pytest

from benchmarks.accelerator_run import member_configs, train_ensemble
from experiments.linear_study import study
from icl_theory.training import load_model, train

ROOT = Path(__file__).resolve().parents[1]


def leaves(model):
    return [np.asarray(x) for x in jax.tree.leaves(eqx.filter(model, eqx.is_array))]


@pytest.mark.slow
def test_the_dry_run_writes_a_report_and_nine_loadable_runs(tmp_path):
    subprocess.run(
        ["bash", str(ROOT / "benchmarks/accelerator_run.sh"), "--dry-run"],
        env={"OUT": str(tmp_path), "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin"},
        check=True,
        timeout=600,
    )
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["project_step"]["float32"]["steps_per_s"] > 0
    assert len(report["ensemble"]["members"]) == 9
    with tarfile.open(tmp_path / "runs.tar.gz") as archive:
        archive.extractall(tmp_path / "runs", filter="data")
    runs = sorted((tmp_path / "runs").iterdir())
    assert [run.name for run in runs][:3] == [f"dense_noise0_seed{s}" for s in range(3)]
    for run in runs:
        model = load_model(run)  # a parameters-only checkpoint, as the experiments load them
        assert all(np.isfinite(leaf).all() for leaf in leaves(model))


@pytest.mark.slow  # nine members compile slowly; tests/test_ensemble.py checks seeds quickly
def test_an_ensemble_member_is_the_single_run_of_its_config(tmp_path):
    """The mixture member of seed 1, trained in the 9-model vmapped ensemble for 60 steps (a
    20-step decay at the end), against `train` with its config: equal to float32 round-off, not
    bit for bit (the batched matmuls sum in another order)."""
    configs = member_configs(study("smoke"), dry_run=True)
    configs = {n: dataclasses.replace(c, decay_steps=20) for n, c in configs.items()}
    train_ensemble(configs, 0.0, tmp_path, steps=60)
    with tarfile.open(tmp_path / "runs.tar.gz") as archive:
        archive.extractall(tmp_path / "runs", filter="data")
    name = "mixture_noise0_seed1"
    member = load_model(tmp_path / "runs" / name)
    single = train(
        dataclasses.replace(configs[name], steps=60), tmp_path / "single", progress=False
    )
    for a, b in zip(leaves(member), leaves(single.model), strict=True):
        # Round-off flips the sign of near-zero gradients, and Adam turns any gradient into a
        # step of up to about the learning rate: such a coordinate may differ by about one
        # step (observed: 1% of one); every other agrees to 1e-5 relative.
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=configs[name].learning_rate)
