"""The linear model-selection study (Yadlowsky et al. 2023, first and third findings): which
models to train, on what, for how long, at each preset, and where the runs and outputs live;
shared by the experiments `dense_sparse_mixture`, `intermediate_sparsity` and `mixture_weights`,
which reuse each other's runs (the 50/50 mixture model serves all three).

Presets: `smoke` (the test suite: tiny models, seconds each), `small` (a 2-core CPU, one core
per run), `paper` (a GPU: Yadlowsky et al.'s d = 20, 2-of-20 sparse, 41 points, 12-layer
width-256 GPT-2 with Garg's curriculum). Why the `small` preset is what it is, and what its runs
cost: `experiments/README.md`.
"""

from dataclasses import dataclass, replace
from pathlib import Path

from experiments.paths import experiment_dir, runs_dir
from icl_theory.curriculum import Curriculum
from icl_theory.priors import AbstractPrior, DenseLinear, Mixture, SparseLinear
from icl_theory.training.config import Schedule, TrainConfig

NOISE_FREE = 0.0
# The models of a noise level: the two specialists and the 50/50 mixture.
LABELS = ("dense", "sparse", "mixture")


@dataclass(frozen=True)
class LinearStudy:
    """One preset of the study.

    **Fields:** `dim`, `k` (nonzeros of the sparse class), `n_points`; `model` preset and
    training `steps`, `batch_size`, `learning_rate`, `warmup_steps`, `curriculum`; `seeds` of
    the noise-free models; `small_noise` (the noisy setting, one seed; `None`: noise-free
    only); `dense_weights` of the mixture-weights experiment and `weight_seeds`, how many of
    `seeds` train each weighted mixture; `secondary_steps` (if set) for the noisy and the
    re-weighted models, which a 2-core session could not train as long as the main ones; evaluation
    `n_prompts`, and `selection_prompts` x `selection_queries` for the implied-weight
    diagnostic; `schedule` and `decay_steps` of the learning rate, and the `snapshot_steps` at
    which the models' parameters are kept (for the implied weight against training steps).

    A preset may evaluate runs that another study trains instead of training its own:
    `runs_from` maps a run name without its seed (`mixture_noise0`) to a folder under
    `experiments/runs` with `{seed}` in it, and `trained_by` is the command that trains them.
    `noisy_labels` are the models the noisy setting has, `noisy_seeds` how many seeds;
    `emergence_noise` the noise level whose mixture models `selection_emergence` follows.
    """

    name: str
    dim: int
    k: int
    n_points: int
    model: str
    steps: int
    secondary_steps: int | None = None
    batch_size: int = 64
    learning_rate: float = 1e-3
    warmup_steps: int = 500
    curriculum: Curriculum | None = None
    seeds: tuple[int, ...] = (0, 1)
    small_noise: float | None = 0.25
    dense_weights: tuple[float, ...] = (0.1, 0.5, 0.9)
    weight_seeds: int = 1
    n_prompts: int = 1280
    selection_prompts: int = 256
    selection_queries: int = 32
    steps_per_call: int = 50
    eval_every: int = 500
    checkpoint_every: int = 1000
    schedule: Schedule = "cosine"
    decay_steps: int = 0
    snapshot_steps: tuple[int, ...] = ()
    runs_from: tuple[tuple[str, str], ...] = ()
    trained_by: str = ""
    noisy_labels: tuple[str, ...] = LABELS
    noisy_seeds: int = 1
    emergence_noise: float = NOISE_FREE

    @property
    def noise_levels(self) -> tuple[float, ...]:
        return (NOISE_FREE,) if self.small_noise is None else (NOISE_FREE, self.small_noise)

    def noisy_runs(self) -> dict:
        """Run name -> config of the noisy setting's dense, sparse and mixture models (first
        seed), none without a noisy setting."""
        if self.small_noise is None:
            return {}
        return self.specialists_and_mixture(self.small_noise, self.seeds_at(self.small_noise))

    def labels_at(self, noise_std: float) -> tuple[str, ...]:
        """The models trained at a noise level: all three noise-free, `noisy_labels` else."""
        return LABELS if noise_std == NOISE_FREE else self.noisy_labels

    def seeds_at(self, noise_std: float) -> tuple[int, ...]:
        return self.seeds if noise_std == NOISE_FREE else self.seeds[: self.noisy_seeds]

    def run_folder(self, name: str, root: Path | None = None) -> Path:
        """Where the run `LABEL_noiseN_seedS` lives: this preset's runs folder, or the other
        study's folder that `runs_from` names."""
        if not self.trained_elsewhere(name):
            return runs_dir(self.name, root) / name
        without_seed, seed = name.rsplit("_seed", 1)
        return runs_dir(dict(self.runs_from)[without_seed].format(seed=seed), root)

    def trained_elsewhere(self, name: str) -> bool:
        return name.rsplit("_seed", 1)[0] in dict(self.runs_from)

    def own_runs(self, runs: dict) -> dict:
        """The runs this preset trains itself (those `runs_from` does not name)."""
        return {name: c for name, c in runs.items() if not self.trained_elsewhere(name)}

    def key_lengths(self) -> list[int]:
        """The context lengths the tables report: 1, k + 1, d / 2 (rounded up), d, 2d (within
        the prompt)."""
        lengths = [1, self.k + 1, (self.dim + 1) // 2, self.dim, 2 * self.dim]
        return sorted({n for n in lengths if n < self.n_points})

    def mixture(self, dense_weight: float = 0.5, noise_std: float = NOISE_FREE) -> Mixture:
        """The dense + k-sparse mixture with the given dense weight, every class at `noise_std`."""
        return Mixture(
            (self.dense(noise_std), self.sparse(noise_std)),
            _weights(dense_weight),
        )

    def dense(self, noise_std: float = NOISE_FREE) -> DenseLinear:
        return DenseLinear(dim=self.dim, noise_std=noise_std)

    def sparse(self, noise_std: float = NOISE_FREE) -> SparseLinear:
        return SparseLinear(dim=self.dim, k=self.k, noise_std=noise_std)

    def config(self, prior: AbstractPrior, *, seed: int, secondary: bool = False) -> TrainConfig:
        steps = self.secondary_steps if secondary and self.secondary_steps else self.steps
        return TrainConfig(
            prior=prior,
            n_points=self.n_points,
            curriculum=self.curriculum,
            model=self.model,
            batch_size=self.batch_size,
            steps=steps,
            learning_rate=self.learning_rate,
            warmup_steps=self.warmup_steps,
            # Each prompt's error over its class's output variance: the sparse class (variance
            # k) would otherwise weigh k / d as much as the dense class (variance d) in the loss.
            normalise_loss=True,
            steps_per_call=self.steps_per_call,
            eval_every=self.eval_every,
            checkpoint_every=self.checkpoint_every,
            seed=seed,
            schedule=self.schedule,
            decay_steps=self.decay_steps,
            snapshot_steps=tuple(step for step in self.snapshot_steps if step < steps),
        )

    def specialists_and_mixture(self, noise_std: float, seeds: tuple[int, ...]) -> dict:
        """Run name -> config of the dense, sparse and 50/50 mixture models (the noisy ones
        train for `secondary_steps`)."""
        runs = {}
        labels = self.labels_at(noise_std)
        for seed in seeds:
            for label, prior in (
                ("dense", self.dense(noise_std)),
                ("sparse", self.sparse(noise_std)),
                ("mixture", self.mixture(noise_std=noise_std)),
            ):
                if label not in labels:
                    continue
                runs[run_name(label, noise_std, seed)] = self.config(
                    prior, seed=seed, secondary=noise_std != NOISE_FREE
                )
        return runs

    def weighted_mixtures(self) -> dict:
        """Run name -> config of the mixture models of every weight, 0.5 included (noise-free,
        the first `weight_seeds` seeds, `secondary_steps`: all on the same budget)."""
        return {
            run_name(f"mixture-w{w:g}", NOISE_FREE, seed): self.config(
                self.mixture(w), seed=seed, secondary=True
            )
            for w in self.dense_weights
            for seed in self.seeds[: self.weight_seeds]
        }

    def all_runs(self) -> dict:
        runs = self.specialists_and_mixture(NOISE_FREE, self.seeds)
        return runs | self.noisy_runs() | self.weighted_mixtures()


def _weights(dense_weight: float) -> tuple[float, float]:
    """The dense and sparse weights, the sparse one rounded so that `1 - 0.9` is 0.1 (as in the
    runs recorded from the spec text `0.9*dense + 0.1*sparse(k=1)`)."""
    return dense_weight, round(1.0 - dense_weight, 12)


def run_name(label: str, noise_std: float, seed: int) -> str:
    return f"{label}_noise{noise_std:g}_seed{seed}"


PRESETS = {
    "smoke": LinearStudy(
        name="smoke",
        dim=4,
        k=2,
        n_points=9,
        model="tiny",
        steps=100,
        warmup_steps=10,
        n_prompts=64,
        selection_prompts=8,
        selection_queries=8,
        eval_every=50,
        checkpoint_every=50,
        snapshot_steps=(50,),
    ),
    "small": LinearStudy(
        name="small",
        dim=8,
        k=2,
        n_points=17,
        model="small-deep",
        steps=18_000,
        secondary_steps=9_000,
        # 128 prompts x 17 positions x 16 queries = 35k predictor calls per predictor probed.
        selection_prompts=128,
        selection_queries=16,
        curriculum=Curriculum(
            dims_start=3, dims_end=8, points_start=7, points_end=17, interval=300
        ),
    ),
    # The cheapest setting the scaling study (experiments/sparse_regime) found in which the
    # sparse specialist removes half of least squares' error at d / 2 examples: 1-of-5 sparse.
    "sparse-regime": LinearStudy(
        name="sparse-regime",
        dim=5,
        k=1,
        n_points=11,
        model="small-deep",
        steps=60_000,
        # The weighted mixtures: the 50/50 mixture models' monitoring error at 2 and 3 examples
        # moved by less than the seed-to-seed spread between 10,000 and 56,000 steps (before the
        # decay), so the weights are compared at a quarter of the main budget.
        secondary_steps=15_000,
        seeds=(0, 1, 2),
        steps_per_call=100,
        eval_every=1000,
        checkpoint_every=1000,
        schedule="wsd",
        decay_steps=4000,
        snapshot_steps=(1000, 2000, 4000, 8000, 16000, 32000, 48000),
        # Without it, whether a model leaves the initial plateau (loss 1, the zero predictor) is
        # a matter of chance: of six sparse and mixture models trained for 60,000 steps, three
        # never left it. Two active coordinates and five points first, the full task from step
        # 1,500 on; every class gets the same schedule (docs/results.md, "Leaving the plateau").
        curriculum=Curriculum(
            dims_start=2, dims_end=5, points_start=5, points_end=11, interval=500
        ),
        selection_prompts=128,
        selection_queries=16,
        # The selection questions are asked noise-free, as in the paper; the CPU budget goes to
        # three seeds of every model, the weighted mixtures included, rather than a noisy setting.
        small_noise=None,
        weight_seeds=3,
    ),
    "paper": LinearStudy(
        name="paper",
        dim=20,
        k=2,
        n_points=41,
        model="paper",
        steps=500_000,
        learning_rate=1e-4,
        warmup_steps=1000,
        curriculum=Curriculum.garg(dim=20, n_points=41),
        seeds=(0, 1, 2),
        eval_every=10_000,
        checkpoint_every=10_000,
        steps_per_call=100,
    ),
}


# The recipe that made the mixture model select (experiments/selection_conditions): each 50/50
# mixture model a warm start from the sparse specialist of the same seed, fine-tuned on the
# mixture for 15,000 steps. The paper's experiments again with those models in place of the
# mixture models trained from scratch: the specialists are `sparse-regime`'s, and the noisy
# setting (noise std 0.1, 3 seeds) has the mixture model only (no noisy specialists).
_WARM = "selection_conditions/warm-sparse{}_seed{{seed}}"
PRESETS["sparse-regime-warm"] = replace(
    PRESETS["sparse-regime"],
    name="sparse-regime-warm",
    small_noise=0.1,
    noisy_labels=("mixture",),
    noisy_seeds=3,
    # Selection against training steps follows the noisy mixture models (the class posterior
    # moves gradually with the context); the noise-free warm starts keep no snapshots.
    emergence_noise=0.1,
    runs_from=(
        ("dense_noise0", "sparse-regime/dense_noise0_seed{seed}"),
        ("sparse_noise0", "sparse-regime/sparse_noise0_seed{seed}"),
        ("mixture_noise0", _WARM.format("")),
        ("mixture-w0.5_noise0", _WARM.format("")),
        ("mixture-w0.1_noise0", _WARM.format("-w0.1")),
        ("mixture-w0.9_noise0", _WARM.format("-w0.9")),
        ("mixture_noise0.1", _WARM.format("-noise0.1")),
    ),
    trained_by=(
        "python -m experiments.selection_conditions.train (its warm-sparse recipes) and "
        "python -m experiments.dense_sparse_mixture.run --preset sparse-regime"
    ),
)


def study(preset: str) -> LinearStudy:
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {sorted(PRESETS)}")
    return PRESETS[preset]


__all__ = [
    "NOISE_FREE",
    "PRESETS",
    "LinearStudy",
    "experiment_dir",
    "run_name",
    "runs_dir",
    "study",
]
