"""Every committed run folder records the config its study trains it with today.

Most committed runs wrote their prior as a spec string with `dim`, `noise_std` and
`output_scale` beside it; the studies now build the prior as an object. A run is reused, resumed
or evaluated only while the two are equal, so this is what keeps the committed models the ones
the experiments describe.
"""

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from experiments import linear_sinusoid_study, linear_study
from experiments.selection_conditions import settings as selection_conditions
from experiments.sparse_regime import settings as sparse_regime
from icl_theory.training.config import TrainConfig
from icl_theory.training.run_folder import RunFolder


def _study_runs() -> Iterator[tuple[str, Path, TrainConfig]]:
    for preset in linear_study.PRESETS:
        s = linear_study.study(preset)
        for name, config in s.own_runs(s.all_runs()).items():
            yield f"{preset}/{name}", s.run_folder(name), config
    for preset in linear_sinusoid_study.PRESETS:
        s = linear_sinusoid_study.study(preset)
        for name, config in s.runs().items():
            yield f"{preset}/{name}", s.runs_dir() / name, config
    for preset in sparse_regime.PRESETS:
        for setting in sparse_regime.settings(preset):
            folder = sparse_regime.runs_dir(preset) / setting.name
            yield f"{preset}/{setting.name}", folder, setting.config
    for preset in selection_conditions.RECIPES:
        for name, config in selection_conditions.all_runs(preset).items():
            yield f"{preset}/{name}", selection_conditions.study_runs_dir(preset) / name, config


COMMITTED = [(name, folder, config) for name, folder, config in _study_runs() if folder.is_dir()]


def test_the_studies_have_committed_runs():
    assert len(COMMITTED) >= 60  # the linear, sinusoid, scaling and selection studies' models


@pytest.mark.parametrize(
    ("folder", "config"), [c[1:] for c in COMMITTED], ids=[c[0] for c in COMMITTED]
)
def test_a_committed_run_records_its_study_config(folder, config):
    recorded = RunFolder(folder).recorded_config()
    # A stable-phase run may have been extended past its setting's budget (`--extend-to`).
    assert recorded in (config, dataclasses.replace(config, steps=recorded.steps))
