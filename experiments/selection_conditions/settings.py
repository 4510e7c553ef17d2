"""The recipes of the selection-conditions study: which mixture models are trained, from what,
on what batches, for how long.

Every recipe is the `sparse-regime` 50/50 mixture run (d = 5, 1-of-5 sparse, 11 points,
`small-deep`, the curriculum, warmup-stable-decay) with one lever changed, so that a difference
in selection is that lever's. The warm starts begin from the committed specialists of the
`sparse-regime` preset, seed for seed, without the curriculum (the specialists already solve
the full task).
"""

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from experiments import paths
from experiments.linear_study import NOISE_FREE, LinearStudy, run_name, runs_dir, study
from icl_theory.priors import AbstractPrior
from icl_theory.priors.registry import OutputScale
from icl_theory.training.config import TrainConfig

NAME = "selection_conditions"


@dataclass(frozen=True)
class Recipe:
    """A way to train the mixture model: `label` (the table's row), how the config differs
    from the study's 50/50 mixture run (`changes`), and what it warm-starts from (`init_from`:
    `"sparse"` or `"dense"`, the committed specialist of the same seed; the name of another
    recipe of this study, that recipe's final run of the same seed, continued with a fresh
    optimiser; or `None`); the mixture's `dense_weight`, `noise_std` and `output_scale` are
    the study's 50/50 noise-free raw-scale one unless a recipe says."""

    name: str
    label: str
    changes: tuple[tuple[str, object], ...] = ()
    init_from: str | None = None
    seeds: tuple[int, ...] = (0,)
    dense_weight: float = 0.5
    noise_std: float = NOISE_FREE
    output_scale: OutputScale = "raw"

    def prior(self, s: LinearStudy) -> AbstractPrior:
        """The mixture this recipe trains on (and its models are evaluated on)."""
        mixture = s.mixture(self.dense_weight, self.noise_std)
        return mixture.with_unit_output_variance() if self.output_scale == "unit" else mixture

    def continues(self) -> bool:
        """Whether the recipe continues another recipe's runs (rather than a specialist's)."""
        return self.init_from not in (None, "sparse", "dense")

    def source(self, s: LinearStudy, seed: int, root: Path | None = None) -> Path | None:
        """The run the recipe's seed `seed` warm-starts from, if any."""
        if self.init_from is None:
            return None
        if self.continues():
            return self.continued_run(s, seed, root)
        return runs_dir(s.name, root) / run_name(self.init_from, NOISE_FREE, seed)

    def continued_run(self, s: LinearStudy, seed: int, root: Path | None = None) -> Path:
        """The run of another recipe that this recipe's seed `seed` continues."""
        return study_runs_dir(s.name, root) / f"{self.init_from}_seed{seed}"

    def config(self, s: LinearStudy, seed: int, root: Path | None = None) -> TrainConfig:
        config = dataclasses.replace(s.config(self.prior(s), seed=seed), **dict(self.changes))
        source = self.source(s, seed, root)
        if source is None:
            return config
        # Relative to the repository when it is the committed run, so the recorded config is
        # the same on every machine; absolute under a temporary `root` (the tests).
        init_from = str(source.relative_to(paths.REPOSITORY)) if root is None else str(source)
        return dataclasses.replace(config, init_from=init_from)

    def runs(self, s: LinearStudy, root: Path | None = None) -> dict[str, TrainConfig]:
        return {f"{self.name}_seed{seed}": self.config(s, seed, root) for seed in self.seeds}


def _warm_start(steps: int, decay_steps: int, snapshots: tuple[int, ...]) -> tuple:
    return (
        ("curriculum", None),
        ("steps", steps),
        ("decay_steps", decay_steps),
        ("snapshot_steps", snapshots),
    )


_WARM = _warm_start(15_000, 4000, (500, 1000, 2000, 4000, 8000))
_SMOKE_WARM = _warm_start(100, 20, (50,))
_BALANCED = (("batch_composition", "balanced"),)
_ROUND_ROBIN = (("batch_composition", "round-robin"),)
_ONE_CLASS = (("batch_composition", "one-class"),)
# Round robin's final runs carried on: their optimiser state was not kept, so the continuation
# starts a fresh one (warm-up, stable, decay) from the decayed parameters.
_ROUND_ROBIN_CONTINUED = _ROUND_ROBIN + _warm_start(30_000, 4000, (4000, 8000, 16000, 24000))
# Every claim rests on three seeds; a recipe's three train as one ensemble on one core.
_SEEDS = (0, 1, 2)

RECIPES: dict[str, tuple[Recipe, ...]] = {
    "sparse-regime": (
        Recipe("warm-sparse", "warm start from the sparse specialist", _WARM, "sparse", _SEEDS),
        Recipe("warm-dense", "warm start from the dense specialist", _WARM, "dense", _SEEDS),
        Recipe("balanced", "balanced batches (32 + 32)", _BALANCED, seeds=_SEEDS),
        Recipe("round-robin", "one step per class in turn", _ROUND_ROBIN, seeds=_SEEDS),
        Recipe("one-class", "one class per batch", _ONE_CLASS, seeds=_SEEDS),
        Recipe("sparse-share-0.9", "sparse share 0.9", seeds=_SEEDS, dense_weight=0.1),
        Recipe(
            "round-robin-continued",
            "round robin continued (fresh optimiser)",
            _ROUND_ROBIN_CONTINUED,
            "round-robin",
            _SEEDS,
        ),
        Recipe(
            "round-robin-unit",
            "round robin, each class at unit output scale",
            _ROUND_ROBIN,
            seeds=_SEEDS,
            output_scale="unit",
        ),
    ),
    "smoke": (
        Recipe("warm-sparse", "warm start from the sparse specialist", _SMOKE_WARM, "sparse"),
        Recipe("balanced", "balanced batches", _BALANCED),
        Recipe("round-robin", "one step per class in turn", _ROUND_ROBIN),
        Recipe(
            "round-robin-continued",
            "round robin continued (fresh optimiser)",
            _ROUND_ROBIN + _SMOKE_WARM,
            "round-robin",
        ),
        Recipe(
            "round-robin-unit",
            "round robin at unit output scale",
            _ROUND_ROBIN,
            output_scale="unit",
        ),
    ),
}


# The recipe that selects, carried to the paper's other questions: the mixture-weights experiment
# (dense weight 0.1 and 0.9) and a noisy regime (noise std 0.1, where the Bayes class posterior
# moves gradually with the context). They start from the same noise-free sparse specialists and
# are evaluated by those experiments, not in this study's table.
FOLLOW_UPS: dict[str, tuple[Recipe, ...]] = {
    "sparse-regime": (
        Recipe(
            "warm-sparse-w0.1",
            "warm start from the sparse specialist, dense weight 0.1",
            _WARM,
            "sparse",
            _SEEDS,
            dense_weight=0.1,
        ),
        Recipe(
            "warm-sparse-w0.9",
            "warm start from the sparse specialist, dense weight 0.9",
            _WARM,
            "sparse",
            _SEEDS,
            dense_weight=0.9,
        ),
        # Shorter (the noise-free warm starts kept a flat share from step 500 to their decay).
        Recipe(
            "warm-sparse-noise0.1",
            "warm start from the sparse specialist, noise std 0.1",
            _warm_start(6000, 2000, (500, 1000, 2000, 4000)),
            "sparse",
            _SEEDS,
            noise_std=0.1,
        ),
    ),
}


def recipes(preset: str) -> tuple[Recipe, ...]:
    """The recipes this study's table compares."""
    if preset not in RECIPES:
        raise ValueError(f"unknown preset {preset!r}; choose one of {sorted(RECIPES)}")
    return RECIPES[preset]


def all_runs(preset: str, root: Path | None = None) -> dict[str, TrainConfig]:
    """Run name -> config of every recipe's runs, the follow-ups included."""
    s = study(preset)
    chosen = recipes(preset) + FOLLOW_UPS.get(preset, ())
    return {name: c for recipe in chosen for name, c in recipe.runs(s, root).items()}


def study_runs_dir(preset: str, root: Path | None = None) -> Path:
    """`experiments/runs/selection_conditions` (`..._PRESET` for other presets)."""
    return paths.runs_dir(NAME if preset == "sparse-regime" else f"{NAME}_{preset}", root)
