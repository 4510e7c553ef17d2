"""The sparse-regime scaling study's smoke preset end to end: training, the scaling curves and
the final shares of least squares' error removed, redrawn from the saved results alone."""

import json

import pytest

from experiments.sparse_regime import run as sparse_regime
from experiments.sparse_regime.figures import replot
from experiments.sparse_regime.settings import settings


@pytest.mark.slow
def test_the_smoke_scaling_study_runs_and_replots(tmp_path):
    written = sparse_regime.run("smoke", root=tmp_path, progress=False)
    assert {path.suffix for path in written} == {".json", ".md", ".png"}
    saved = json.loads(written[0].read_text())
    for setting in settings("smoke"):
        one = saved["settings"][setting.name]
        config = setting.config
        assert one["curve"]["step"] == list(range(config.eval_every, config.steps + 1, 40))
        final = one["final"]
        assert final["decayed"] and final["step"] == config.steps
        for position in setting.positions():
            # Noise-free, k + 1 or more examples of a k-sparse function identify its support
            # (almost surely), so the exact Bayes predictor removes all of least squares' error;
            # what is left is float64 round-off relative to an error of order one.
            bayes = final["share_removed"]["Bayes"][str(position)]
            assert bayes["mean"] == pytest.approx(1.0, abs=1e-9)
            assert bayes["low"] <= bayes["mean"] <= bayes["high"]
            model = final["share_removed"]["model"][str(position)]
            assert model["low"] <= model["mean"] <= model["high"]
    assert {path.suffix for path in replot("smoke", root=tmp_path)} == {".md", ".png"}
