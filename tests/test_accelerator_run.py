"""The accelerator script's CPU dry run end to end, and its vmapped ensemble against single runs:
a member of the ensemble is the run `icl-theory train` makes with that member's config."""

import json
import subprocess
import sys
import tarfile
from pathlib import Path

import equinox as eqx
import jax
import numpy as np
import pytest

from icl_theory.training import TrainConfig, load_model, train

ROOT = Path(__file__).resolve().parents[1]


def leaves(model):
    return [np.asarray(x) for x in jax.tree.leaves(eqx.filter(model, eqx.is_array))]


# Run before a device session (`nox -s extended`): the script matters only there, and its dry
# run costs CI a minute.
@pytest.mark.extended
def test_the_dry_run_writes_a_report_and_nine_runs_each_the_single_run_of_its_config(tmp_path):
    """The CPU dry run end to end; then the mixture member of seed 1, trained in the 9-model
    vmapped ensemble (the step budget placed on time, the decay at its end), against `train`
    with the config its run folder records: equal to float32 round-off, not bit for bit (the
    batched matmuls sum in another order)."""
    subprocess.run(
        ["bash", str(ROOT / "benchmarks/accelerator_run.sh"), "--dry-run"],
        env={"OUT": str(tmp_path), "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin"},
        check=True,
        timeout=600,
    )
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["project_step"]["float32"]["steps_per_s"] > 0
    assert report["project_step"]["bfloat16"]["steps_per_s"] > 0
    assert len(report["ensemble"]["members"]) == 9
    with tarfile.open(tmp_path / "runs.tar.gz") as archive:
        archive.extractall(tmp_path / "runs", filter="data")
    runs = sorted((tmp_path / "runs").iterdir())
    assert [run.name for run in runs][:3] == [f"dense_noise0_seed{s}" for s in range(3)]
    for run in runs:
        model = load_model(run)  # a parameters-only checkpoint, as the experiments load them
        assert all(np.isfinite(leaf).all() for leaf in leaves(model))
    member = tmp_path / "runs" / "mixture_noise0_seed1"
    config = TrainConfig.loads((member / "config.json").read_text())
    assert config.steps == report["ensemble"]["steps"] and config.schedule == "wsd"
    single = train(config, tmp_path / "single", progress=False)
    for a, b in zip(leaves(load_model(member)), leaves(single.model), strict=True):
        # Round-off flips the sign of near-zero gradients, and Adam turns any gradient into a
        # step of up to about the learning rate: such a coordinate may differ by about one
        # step; every other agrees to 1e-5 relative.
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=config.learning_rate)
