"""Every experiment's `smoke` preset end to end (train, evaluate, save, tables, figures), the
figures redrawn from saved results alone, and the evaluate / plot commands on the smoke runs."""

import dataclasses
import hashlib
import math
from pathlib import Path

import numpy as np
import pytest

import experiments.dense_sparse_mixture.run as dense_sparse_mixture
import experiments.intermediate_sparsity.run as intermediate_sparsity
import experiments.layout_parity.run as layout_parity
import experiments.mixture_weights.run as mixture_weights
import experiments.selection_conditions.run as selection_conditions
import experiments.selection_emergence.run as selection_emergence
from experiments import intermediate_sparsity as sweep_settings
from experiments.dense_sparse_mixture.figures import replot as replot_dense_sparse_mixture
from experiments.intermediate_sparsity.figures import replot as replot_intermediate_sparsity
from experiments.layout_parity.figures import replot as replot_layout_parity
from experiments.linear_study import NOISE_FREE, run_name, runs_dir, study
from experiments.mixture_weights.figures import replot as replot_mixture_weights
from experiments.selection_conditions.figures import replot as replot_selection_conditions
from experiments.selection_conditions.settings import study_runs_dir
from experiments.selection_emergence.figures import replot as replot_selection_emergence
from icl_theory.cli import main
from icl_theory.evaluation import EvalResults, EvalSetup
from icl_theory.jobs.quickstart import QUICKSTART, output_folder
from icl_theory.training.run_folder import RunFolder

EXPERIMENTS = {
    "dense_sparse_mixture": (dense_sparse_mixture.run, replot_dense_sparse_mixture),
    "intermediate_sparsity": (intermediate_sparsity.run, replot_intermediate_sparsity),
    "mixture_weights": (mixture_weights.run, replot_mixture_weights),
    "selection_emergence": (selection_emergence.run, replot_selection_emergence),
    # After experiment 1: its recipes warm-start from, and are measured against, its specialists.
    "selection_conditions": (selection_conditions.run, replot_selection_conditions),
    # After experiment 1: the same specialists with the paired token layout.
    "layout_parity": (layout_parity.run, replot_layout_parity),
}


@pytest.mark.slow
def test_smoke_presets_run_end_to_end_and_replot_from_saved_results(tmp_path, monkeypatch):
    s = study("smoke")
    # d = 4: C(4, 2) = 6 supports exceed this, so the sweep skips the own-class Bayes predictor at
    # 2 nonzeros (as the paper preset does at d = 20 beyond 20,000 supports).
    monkeypatch.setattr(sweep_settings, "MAX_SUPPORTS", 4)
    for name, (run, replot) in EXPERIMENTS.items():
        written = run("smoke", root=tmp_path, progress=False)
        assert all(path.exists() and path.stat().st_size > 0 for path in written), name
        results = [EvalResults.load(p) for p in written if p.suffix == ".npz"]
        assert results, name
        for result in results:
            for predictor, errors in result.errors.items():
                assert errors.shape[1:] == (s.n_prompts, s.n_points)
                # NaN only where a Bayes predictor's prior excludes the prompt: here only the
                # sparse class's, on prompts outside it (positions checked below).
                assert predictor.startswith("Bayes sparse") or np.all(np.isfinite(errors))
        redrawn = replot("smoke", root=tmp_path)
        assert {p.suffix for p in redrawn} == {".png", ".md"}
    first = EvalResults.load(tmp_path / "dense_sparse_mixture/results/smoke/noise0.npz")
    assert first.seeds("mixture model") == len(s.seeds)
    # The exact mixture predictor's implied weight is its class posterior (tested exactly in
    # test_evaluation.py); here: it was computed on the probed prompts only.
    weight = first.selection.implied_weight["Bayes"]
    assert np.isnan(weight[s.selection_prompts :]).all()
    assert np.isfinite(weight[: s.selection_prompts, 1]).all()
    # The implied linear function: noise-free, the mixture's Bayes predictor has found a sparse
    # prompt's support from k + 1 examples on; on dense prompts "off the support" is undefined.
    off_support = first.selection.off_support["Bayes"][: s.selection_prompts]
    sparse = first.class_index[: s.selection_prompts] == 1
    assert sparse.any() and (~sparse).any()
    assert np.nanmax(off_support[sparse, s.k + 1 :]) < 1e-6
    assert np.isnan(off_support[~sparse]).all()
    # Lasso is probed too; from d examples on (noise-free) it puts little of `w` off the support.
    [lasso] = [k for k in first.selection.off_support if k.startswith("Lasso")]
    lasso_share = first.selection.off_support[lasso][: s.selection_prompts]
    assert np.nanmedian(lasso_share[sparse, s.dim :]) < 0.05
    assert (
        "least squares: off support"
        in (tmp_path / "dense_sparse_mixture/tables/smoke/noise0.md").read_text()
    )
    sweep = (tmp_path / "intermediate_sparsity/tables/smoke/sweep.md").read_text()
    assert "off the prompts' true support" in sweep
    # Noise-free, more than k points of a function outside the k-sparse class contradict every
    # support: that Bayes predictor has no posterior, and the tables say n/a (not the fallback's
    # meaningless numbers) exactly there.
    dense_table = (tmp_path / "dense_sparse_mixture/tables/smoke/noise0.md").read_text()
    [first_row, *_] = [r for r in dense_table.splitlines() if r.startswith("| Bayes sparse |")]
    cells = [c.strip() for c in first_row.split("|")[2:-1]]
    assert [c == "n/a" for c in cells] == [p > s.k for p in s.key_lengths()]
    own_bayes = next(r for r in sweep.splitlines() if r.startswith("| Bayes |"))
    cells = [c.strip() for c in own_bayes.split("|")[2:-1]]
    assert [c == "n/a" for c in cells] == [math.comb(s.dim, c) > 4 for c in range(1, s.dim + 1)]
    assert "more than 4 sparse supports to enumerate: not evaluated" in sweep
    # The sweep's error tables are at d/2 = k and at d examples: k points fit some k-sparse
    # function whatever the prompt, so n/a only in the second, beyond k nonzeros.
    sweep_rows = [r for r in sweep.splitlines() if r.startswith(f"| Bayes sparse(k={s.k})")]
    for position, row in zip((s.dim // 2, s.dim), sweep_rows, strict=True):
        cells = [c.strip() for c in row.split("|")[2:-1]]
        expected = [position > s.k and nonzeros > s.k for nonzeros in range(1, s.dim + 1)]
        assert [c == "n/a" for c in cells] == expected
    # Selection against training steps: each kept snapshot is its own model (not the final one),
    # every seed of it; the mixture's Bayes predictor has found the sparse class from k + 1
    # examples on (its posterior on the dense class is 0, noise-free).
    emergence = EvalResults.load(tmp_path / "selection_emergence/results/smoke/emergence.npz")
    steps = [*s.snapshot_steps, s.steps]
    assert emergence.notes["steps"] == steps
    assert all(emergence.seeds(f"mixture model, step {step}") == len(s.seeds) for step in steps)
    early, final = (emergence.errors[f"mixture model, step {step}"] for step in steps)
    assert not np.allclose(early, final)
    bayes_weight = emergence.selection.implied_weight["Bayes"]
    probed_sparse = (emergence.class_index == 1) & np.isfinite(bayes_weight[:, s.k + 1])
    assert probed_sparse.sum() >= 4  # of the 2 x 8 probed prompts, about half sparse
    assert np.abs(bayes_weight[probed_sparse, s.k + 1]).max() < 1e-6

    # The selection-conditions study: every recipe is a row, and a warm start records the
    # checkpoint it started from by its SHA-256.
    conditions = (tmp_path / "selection_conditions/tables/smoke/conditions.md").read_text()
    for label in ("warm start from the sparse specialist", "balanced", "one step per class"):
        assert label in conditions
    # A continued recipe counts the steps of the runs it continues; a recipe at unit output
    # scale is measured on its own scale, paired with the references at the raw one.
    saved = tmp_path / "selection_conditions/results/smoke"
    continued, source, unit = (
        EvalResults.load(saved / f"{name}.npz")
        for name in ("round-robin-continued", "round-robin", "round-robin-unit")
    )
    assert continued.notes["steps_before"] == max(source.notes["steps"])
    assert "round robin continued" in conditions and "unit output scale" in conditions
    assert unit.setup.prior != unit.notes["references_prior"]
    assert all(np.isfinite(unit.errors[f"step {step}"]).all() for step in unit.notes["steps"])
    warm = RunFolder(study_runs_dir("smoke", tmp_path) / "warm-sparse_seed0")
    source = warm.provenance()["init_from"]
    specialist = runs_dir("smoke", tmp_path) / run_name("sparse", NOISE_FREE, 0)
    assert Path(source["run"]) == specialist
    assert (
        source["sha256"]
        == hashlib.sha256(RunFolder(specialist).checkpoint.read_bytes()).hexdigest()
    )

    runs = runs_dir("smoke", tmp_path)
    seeds = [str(runs / run_name("mixture", NOISE_FREE, seed)) for seed in s.seeds]
    out = tmp_path / "cli.npz"
    arguments = ["evaluate", *seeds, "--n-prompts", "32", "--out", str(out)]
    assert main([*arguments, "--baselines", "least-squares"]) == 0
    results = EvalResults.load(out)
    assert results.seeds(runs.joinpath(run_name("mixture", NOISE_FREE, 0)).name) == 2
    assert "least squares" in results.names and "Bayes" in results.names
    # The class-selection probe of a two-class mixture: each run's implied weight, and the
    # Bayes posterior, for the plot's selection panel.
    assert set(results.selection.implied_weight) == {Path(seed).name for seed in seeds}
    assert results.class_posterior is not None
    assert main(["plot", str(out)]) == 0
    assert out.with_suffix(".png").stat().st_size > 0
    assert main([*arguments, "--n-points", str(s.n_points + 1)]) == 2  # beyond its positions


def test_the_quickstart_trains_the_small_preset_mixture_for_fewer_steps():
    s = study("small")
    expected = s.config(s.mixture(), seed=0)
    assert dataclasses.replace(expected, steps=QUICKSTART.steps) == QUICKSTART


def test_a_second_quickstart_writes_beside_the_first_unless_told_to_overwrite(tmp_path):
    first = tmp_path / "quickstart"
    assert output_folder(first, pretrained=False, overwrite=False) == first
    (first / "run").mkdir(parents=True)
    (first / "results.npz").write_bytes(b"earlier")
    second = output_folder(first, pretrained=False, overwrite=False)
    assert second == tmp_path / "quickstart-2"
    (second / "run").mkdir(parents=True)
    assert output_folder(first, pretrained=False, overwrite=False) == tmp_path / "quickstart-3"
    assert output_folder(first, pretrained=False, overwrite=True) == first
    # The trained and the committed model's quickstarts do not share a default folder.
    assert output_folder(None, pretrained=True, overwrite=False) != output_folder(
        None, pretrained=False, overwrite=False
    )


def test_re_evaluating_unchanged_runs_rewrites_no_results_file(tmp_path):
    """The selection study saves a result only when its errors or config changed, so that an
    evaluation of unchanged runs adds nothing to the repository's history."""
    from experiments.selection_conditions.run import _save_compact

    errors = {"model": np.arange(12, dtype=np.float64).reshape(1, 3, 4) / 7}
    setup, notes = EvalSetup(n_points=4, n_prompts=3), {"runs": ["a", "b"], "steps": (1000, 2000)}
    first = EvalResults(errors, np.zeros(3, int), setup, notes, provenance={"run": 1})
    path = _save_compact(first, tmp_path / "r.npz")
    saved = path.read_bytes()
    again = EvalResults(errors, np.zeros(3, int), setup, notes, provenance={"run": 2})
    assert _save_compact(again, path).read_bytes() == saved
    changed = {"model": errors["model"] + 1e-3}
    _save_compact(EvalResults(changed, np.zeros(3, int), setup, notes), path)
    assert path.read_bytes() != saved
