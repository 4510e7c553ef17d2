"""The linear + sinusoid study (Yadlowsky et al. 2023, second half): a linear specialist, a
sinusoid specialist and their 50/50 per-prompt mixture, on 1-D inputs `x ~ N(0, 1)` with noise
std 0.1; shared by the experiments `selection_across_families`, `convex_combinations` and
`frequency_extrapolation`, which evaluate the same trained models.

Presets: `smoke` (the test suite: tiny models, seconds each) and `small` (a CPU core per run:
the runs committed in `runs/linear_sinusoid_1d/`, with their training times in its `runs.md`).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from experiments import names
from experiments.common import per_seed
from experiments.paths import runs_dir
from icl_theory.predictors import AbstractPredictor, bayes_predictor
from icl_theory.predictors.baselines import NearestNeighbours
from icl_theory.predictors.gaussian_process import GaussianProcessRBF
from icl_theory.priors import AbstractPrior, DenseLinear, Mixture, Sinusoid
from icl_theory.training.config import TrainConfig
from icl_theory.training.run import load_model

LABELS = ("linear", "sinusoid", "mixture")
TEMPERING = 3.0
TEMPERED = f"{names.PRETRAINING_BAYES}, noise x3"
GAUSSIAN_PROCESS = "Gaussian process (RBF)"
NEAREST_NEIGHBOURS = "3-nearest neighbours"
CONTROLS = (TEMPERED, GAUSSIAN_PROCESS, NEAREST_NEIGHBOURS)
# The Bayes predictors of the models' own pretraining priors, shown beside the controls.
PRETRAINING_BAYES = (names.PRETRAINING_BAYES, names.bayes("sinusoid band"))


@dataclass(frozen=True)
class LinearSinusoidStudy:
    """One preset: the data (`dim`, `n_points`, `noise_std`, the pretraining frequency band),
    the training of every model, the evaluation sizes, and the out-of-distribution grids
    (`alphas` of the convex combinations, test `frequencies`)."""

    name: str
    runs_folder: str
    dim: int = 1
    n_points: int = 21
    noise_std: float = 0.1
    freq_low: float = 0.5
    freq_high: float = 2.0
    model: str = "small-deep"
    steps: int = 10_000
    batch_size: int = 64
    learning_rate: float = 1e-3
    warmup_steps: int = 500
    steps_per_call: int = 50
    eval_every: int = 1000
    checkpoint_every: int = 500
    seeds: tuple[int, ...] = (0, 1, 2)
    n_prompts: int = 1280
    selection_prompts: int = 256
    selection_queries: int = 32
    key_lengths: tuple[int, ...] = (1, 2, 5, 10, 20)
    alphas: tuple[float, ...] = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
    frequencies: tuple[float, ...] = (0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 6.0)

    def linear(self) -> DenseLinear:
        return DenseLinear(dim=self.dim, noise_std=self.noise_std)

    def sinusoid(self, low: float | None = None, high: float | None = None) -> Sinusoid:
        """The pretraining sinusoid class, or the same class on the band `[low, high]`."""
        return Sinusoid(
            dim=self.dim,
            freq_low=self.freq_low if low is None else low,
            freq_high=self.freq_high if high is None else high,
            noise_std=self.noise_std,
        )

    def mixture(self, noise_std: float | None = None) -> Mixture:
        """The pretraining mixture; with `noise_std`, the same prior with that noise (the
        tempered Bayes control: an inflated noise flattens its posterior)."""
        noise = self.noise_std if noise_std is None else noise_std
        linear = DenseLinear(dim=self.dim, noise_std=noise)
        sinusoid = Sinusoid(
            dim=self.dim, freq_low=self.freq_low, freq_high=self.freq_high, noise_std=noise
        )
        return Mixture((linear, sinusoid), (0.5, 0.5))

    def controls(self) -> dict[str, AbstractPredictor]:
        """The learners that separate "composes the classes" from "is smoother than an exact
        Bayes predictor that puts no mass on the truth": that Bayes predictor tempered (noise
        `TEMPERING` times the pretraining noise), an RBF Gaussian process fit on each prompt,
        and 3-nearest neighbours."""
        return {
            TEMPERED: bayes_predictor(self.mixture(TEMPERING * self.noise_std)),
            GAUSSIAN_PROCESS: GaussianProcessRBF(),
            NEAREST_NEIGHBOURS: NearestNeighbours(3),
        }

    def prior(self, label: str) -> AbstractPrior:
        """The training prior of a model: `linear`, `sinusoid` or `mixture`."""
        return {"linear": self.linear, "sinusoid": self.sinusoid, "mixture": self.mixture}[label]()

    def config(self, label: str, seed: int) -> TrainConfig:
        return TrainConfig(
            prior=self.prior(label),
            n_points=self.n_points,
            model=self.model,
            batch_size=self.batch_size,
            steps=self.steps,
            learning_rate=self.learning_rate,
            warmup_steps=self.warmup_steps,
            steps_per_call=self.steps_per_call,
            eval_every=self.eval_every,
            checkpoint_every=self.checkpoint_every,
            seed=seed,
        )

    def runs(self) -> dict[str, TrainConfig]:
        """Run name -> config of every model: `LABEL_seedS`."""
        return {
            f"{label}_seed{seed}": self.config(label, seed)
            for label in LABELS
            for seed in self.seeds
        }

    def runs_dir(self, root: Path | None = None) -> Path:
        return runs_dir(self.runs_folder, root)

    def models(self, root: Path | None = None) -> dict[str, list[AbstractPredictor]]:
        """`"LABEL model"` -> its trained models, one per seed."""
        return {
            names.model(label): [
                load_model(self.runs_dir(root) / f"{label}_seed{seed}") for seed in self.seeds
            ]
            for label in LABELS
        }

    def per_seed(self, models: Mapping[str, Sequence[AbstractPredictor]]) -> dict:
        return per_seed(models, self.seeds)


PRESETS = {
    "smoke": LinearSinusoidStudy(
        name="smoke",
        runs_folder="linear_sinusoid_smoke",
        n_points=9,
        model="tiny",
        steps=100,
        warmup_steps=10,
        eval_every=50,
        checkpoint_every=50,
        seeds=(0,),
        n_prompts=64,
        selection_prompts=8,
        selection_queries=8,
        key_lengths=(1, 2, 5, 8),
        # The two ends and one frequency on each side of the band: the pipeline, not the science
        # (each condition compiles every predictor again).
        alphas=(0.0, 1.0),
        frequencies=(1.0, 4.0),
    ),
    # The implied weight costs prompts x points x queries calls of each Bayes predictor (the
    # sinusoid ones integrate over 1,024 frequency nodes): 128 x 21 x 4 here. In 1-D four
    # queries already pin down the blend.
    "small": LinearSinusoidStudy(
        name="small", runs_folder="linear_sinusoid_1d", selection_prompts=128, selection_queries=4
    ),
}


def study(preset: str) -> LinearSinusoidStudy:
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {sorted(PRESETS)}")
    return PRESETS[preset]
