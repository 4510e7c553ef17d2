"""Training curves read back from `metrics.jsonl`, and the plateau exit, against hand-made
curves whose answer is known."""

import json

import numpy as np
import pytest

from experiments.plateau import run as plateau
from icl_theory.priors import build_prior
from icl_theory.training.config import TrainConfig
from icl_theory.training.curves import plateau_exit, read_curves, training_seconds

STEPS = np.arange(100, 1100, 100)


@pytest.mark.parametrize(
    ("loss", "expected"),
    [
        # Noise on the plateau dips below the level and comes back: only the last crossing
        # counts.
        ([1.0, 0.95, 0.85, 0.92, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3], 500),
        ([1.0, 1.02, 0.97, 1.01, 0.99, 1.0, 0.98, 1.03, 0.96, 0.99], None),
        ([0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.3, 0.3, 0.3, 0.3], 100),
        # Left, then back on the plateau at the end: not left for good.
        ([1.0, 0.5, 0.4, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.95], None),
        # A NaN is not below the level.
        ([1.0, 0.5, 0.4, float("nan"), 0.3, 0.3, 0.3, 0.3, 0.3, 0.3], 500),
        # Exactly at the level is not below it.
        ([1.0, 0.9, 0.5, 0.4, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3], 300),
    ],
)
def test_the_plateau_exit_is_the_step_after_the_last_record_not_below_the_level(loss, expected):
    assert plateau_exit(STEPS, np.array(loss), level=0.9) == expected


def test_the_plateau_exit_rejects_mismatched_curves():
    with pytest.raises(ValueError, match="equal 1-d shapes"):
        plateau_exit(STEPS, np.ones(3))


def write_run(folder, loss, *, seed=0, rate=10.0, normalised=True):
    """A run folder with a config and a metrics file written as the trainer writes them."""
    folder.mkdir(parents=True)
    config = TrainConfig(
        prior=build_prior("dense", dim=4),
        n_points=9,
        steps=1000,
        seed=seed,
        normalise_loss=normalised,
    )
    (folder / "config.json").write_text(json.dumps(config.to_json()))
    with (folder / "metrics.jsonl").open("w") as file:
        for step, value in zip(STEPS, loss, strict=True):
            record = {"step": int(step), "loss": value, "learning_rate": 1e-3, "steps_per_s": rate}
            file.write(json.dumps(record) + "\n")
            if step % 500 == 0:
                error = [1.0, 0.9, 0.8, 0.5, 0.25, 0.0, 0.0, 0.0, 0.0]
                file.write(json.dumps({"step": int(step), "eval_error": error}) + "\n")


def test_curves_and_training_time_are_read_back_as_written(tmp_path):
    write_run(tmp_path / "run", [1.0] * 5 + [0.5] * 5, rate=20.0)
    curves = read_curves(tmp_path / "run")
    np.testing.assert_array_equal(curves.loss_steps, STEPS)
    np.testing.assert_array_equal(curves.loss, [1.0] * 5 + [0.5] * 5)
    np.testing.assert_array_equal(curves.eval_steps, [500, 1000])
    assert curves.eval_error.shape == (2, 9)
    # 1,000 steps at 20 per second.
    assert curves.training_seconds == pytest.approx(50.0, rel=1e-12)
    assert training_seconds([{"step": 100, "eval_error": [0.0]}]) == 0.0


def test_the_plateau_table_names_each_runs_exit_and_its_errors(tmp_path):
    runs = tmp_path / "runs" / "study"
    write_run(runs / "left", [1.0, 1.0, 0.95, 0.85, 0.7, 0.6, 0.5, 0.4, 0.4, 0.4], seed=0)
    write_run(runs / "stuck", [1.0] * 10, seed=1)
    # Trained on the raw error: dense in 4 dimensions, the zero predictor's loss is 4.
    raw = [4.0, 4.0, 3.8, 3.4, 2.8, 2.4, 2.0, 1.6, 1.6, 1.6]
    write_run(runs / "raw", raw, seed=2, normalised=False)
    written = plateau.run([runs], out=tmp_path / "out")
    assert {p.suffix for p in written} == {".json", ".md", ".png"}
    table = (tmp_path / "out" / "tables" / "study.md").read_text()
    lines = table.splitlines()
    # d = 4: errors at 2 and 4 examples from the last evaluation; 1,000 steps at 10 per second.
    left = "| left | no | 1,000 of 1,000 | 400 | 0.400 | 0.800 (n = 2) | 0.250 (n = 4) | 2 min |"
    stuck = left.replace("| left |", "| stuck |").replace("| 400 | 0.400 |", "| never | 1.000 |")
    assert left in lines
    assert stuck in lines
    saved = json.loads((tmp_path / "out" / "results" / "study.json").read_text())
    # A Monte Carlo mean over 4,096 inputs of |x|^2 ~ chi-square(4): sd 0.044 around 4; the
    # exit step is the same anywhere in the band.
    assert saved["runs"]["raw"]["loss_divided_by"] == pytest.approx(4.0, abs=0.35)
    assert saved["runs"]["raw"]["plateau_exit_step"] == 400
    assert saved["runs"]["stuck"]["plateau_exit_step"] is None
    # Replotting from the saved summary alone gives the same table.
    plateau.replot("study", tmp_path / "out")
    assert (tmp_path / "out" / "tables" / "study.md").read_text() == table
