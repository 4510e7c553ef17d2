"""The settings of the sparse-regime scaling study: which sparse specialists are trained, on
what, for how long. Every run uses the warmup-stable-decay schedule, so its budget can be raised
while it is in its stable phase (`icl-theory train --resume RUN --extend-to STEPS`) and the run
is still the one these settings describe; raise `steps` here to match."""

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from experiments import paths
from icl_theory.priors import SparseLinear
from icl_theory.training.config import TrainConfig

NAME = "sparse_regime"


@dataclass(frozen=True)
class Setting:
    """A sparse specialist: `sparse(k)` regression in `dim` dimensions, trained by `config`."""

    name: str
    dim: int
    k: int
    config: TrainConfig

    def positions(self) -> list[int]:
        """The context lengths the study reports: k + 1, k + 2 and d / 2 (rounded up), where
        least squares still has error (fewer than d examples)."""
        return sorted({n for n in (self.k + 1, self.k + 2, self.headline()) if 0 < n < self.dim})

    def headline(self) -> int:
        """The headline context length, d / 2 examples (rounded up)."""
        return (self.dim + 1) // 2


def sparse_specialist(
    dim: int, k: int, *, model: str, steps: int, batch_size: int = 64, **changes
) -> Setting:
    """A noise-free k-sparse specialist with `2d + 1` points per prompt; `changes` are other
    `TrainConfig` fields (the levers), named in the setting's name."""
    fields = {
        "prior": SparseLinear(dim=dim, k=k),
        "n_points": 2 * dim + 1,
        "model": model,
        "batch_size": batch_size,
        "steps": steps,
        "learning_rate": 1e-3,
        "warmup_steps": 500,
        "schedule": "wsd",
        "decay_steps": 2000,
        "steps_per_call": 100,
        "eval_every": 1000,
        "eval_prompts": 1024,
        "checkpoint_every": 1000,
    }
    levers = "".join(f"-{key}{value}" for key, value in changes.items())
    model_tag = "" if model == "small-deep" else f"-{model}"
    name = f"d{dim}-k{k}-b{batch_size}{model_tag}{levers}"
    return Setting(name, dim, k, TrainConfig(**(fields | changes)))


def _smoke(dim: int, k: int) -> Setting:
    """Seconds of training: the pipeline, not the science."""
    fields = {"warmup_steps": 10, "decay_steps": 20, "steps_per_call": 20, "eval_every": 40}
    fields |= {"eval_prompts": 64, "checkpoint_every": 40}
    setting = sparse_specialist(dim, k, model="tiny", steps=120, batch_size=16, **fields)
    return dataclasses.replace(setting, name=f"d{dim}-k{k}")


def decayed(setting: Setting, steps: int) -> Setting:
    """A stable run's copy finished with its decay at `steps` (`train --resume RUN --extend-to
    STEPS --into RUN-decayed`): the setting's endpoint, while the stable run can go on."""
    config = dataclasses.replace(setting.config, steps=steps)
    return dataclasses.replace(setting, name=f"{setting.name}-decayed", config=config)


_D5_K1 = sparse_specialist(5, 1, model="small-deep", steps=400_000)

PRESETS: dict[str, tuple[Setting, ...]] = {
    "smoke": (_smoke(4, 1),),
    "small": (
        _D5_K1,
        decayed(_D5_K1, 65_800),
        sparse_specialist(5, 2, model="small-deep", steps=400_000),
        sparse_specialist(5, 1, model="small-deep", steps=400_000, batch_size=256),
        sparse_specialist(4, 1, model="small-deep", steps=400_000),
    ),
}


# Fresh prompts on which each run's latest checkpoint is evaluated (with bootstrap intervals).
FINAL_PROMPTS = {"smoke": 256, "small": 2048}


def settings(preset: str) -> tuple[Setting, ...]:
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {sorted(PRESETS)}")
    return PRESETS[preset]


def output_dir(kind: str, preset: str, root: Path | None = None) -> Path:
    """`experiments/sparse_regime/KIND/PRESET` (KIND: results, figures, tables)."""
    return paths.experiment_dir(NAME, preset, kind, root)


def runs_dir(preset: str, root: Path | None = None) -> Path:
    """`experiments/runs/sparse_scaling` (`.../sparse_scaling_PRESET` for other presets than
    small)."""
    folder = "sparse_scaling" if preset == "small" else f"sparse_scaling_{preset}"
    return paths.runs_dir(folder, root)
