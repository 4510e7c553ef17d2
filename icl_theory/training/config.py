"""Everything a training run depends on, in one typed, frozen, JSON-serialisable config."""

import dataclasses
import json
from dataclasses import dataclass
from typing import Any, Literal

from icl_theory._validation import (
    check_nonnegative,
    check_positive,
    check_positive_int,
    did_you_mean,
    invalid,
)
from icl_theory.curriculum import Curriculum
from icl_theory.memory import check_fits, training_bytes
from icl_theory.model.gpt2 import PRESETS, Layout, ModelConfig, Positional, Precision, preset
from icl_theory.priors import (
    AbstractPrior,
    DenseLinear,
    build_prior,
    describe_prior,
    prior_from_data,
    prior_to_data,
)
from icl_theory.training.composition import BatchComposition, check_composition

Schedule = Literal["cosine", "linear", "constant", "wsd"]


@dataclass(frozen=True)
class TrainConfig:
    """A training run.

    **Data:** `prior` (a built prior, which holds the input dimension, the observation noise and
    the classes' output scales: `build_prior("0.5*dense + 0.5*sparse(k=2)", dim=5)`),
    `n_points`, `curriculum` (Garg's schedule over active dimensions and points; `None` is off).

    **Model:** `model` (preset: tiny, small, small-deep, medium, paper), `positional` (learned
    or none), `precision` of the matrix products, token `layout` (interleaved or paired).

    **Optimiser:** AdamW with `learning_rate`, linear warm-up over `warmup_steps`, then `schedule`
    (cosine or linear decay to `final_learning_rate_fraction * learning_rate`, constant, or
    warmup-stable-decay: constant, then a linear decay over the last `decay_steps`),
    `weight_decay`, global-norm clipping at `clip_norm`, `batch_size` prompts per step.

    **Loop:** `steps` in total, `steps_per_call` optimiser steps per compiled call (`lax.scan`),
    evaluation every `eval_every` steps on `eval_prompts` fixed prompts, a checkpoint every
    `checkpoint_every` steps (both multiples of `steps_per_call`), `seed` for everything.
    `normalise_loss` divides each prompt's squared error by its class's output variance.
    `batch_composition` decides how a mixture prior fills each batch (per prompt, balanced, one
    class per batch, round robin: `composition.py`); `init_from` starts from another run's
    parameters (a warm start: fresh optimiser, this config's prior and schedule).
    """

    prior: AbstractPrior = dataclasses.field(default_factory=lambda: DenseLinear(dim=5))
    """The prior prompts are drawn from, with its input dimension, observation noise and output
    scales inside it (`build_prior` makes one from a spec; the command line's `--prior`,
    `--dim`, `--noise-std` and `--output-scale` do)."""
    n_points: int = 11
    """(x, y) pairs per prompt."""
    curriculum: Curriculum | None = None
    """Garg's schedule over active dimensions and points; `None` is off."""
    model: str = "tiny"
    """Model preset: tiny, small, small-deep, medium or paper."""
    positional: Positional = "learned"
    """Positional encoding: learned, or none."""
    precision: Precision = "float32"
    """Matrix products in float32, or bfloat16 with float32 accumulation (parameters, optimiser
    and everything else stay float32)."""
    layout: Layout = "interleaved"
    """Tokens: `interleaved` (Garg et al.'s `x_1, y_1, x_2, ...`, 2n - 1 tokens) or `paired`
    (one token per example, `(x_{i-1}, y_{i-1}, x_i)`, n tokens)."""
    batch_size: int = 64
    """Prompts per optimiser step."""
    steps: int = 1000
    """Optimiser steps in total."""
    learning_rate: float = 5e-4
    """Peak learning rate (after warm-up)."""
    warmup_steps: int = 100
    """Linear warm-up steps from 0 to `learning_rate`."""
    schedule: Schedule = "cosine"
    """After warm-up: cosine or linear decay (to `final_learning_rate_fraction`) over the rest of
    the run, constant, or `wsd` (warmup-stable-decay: constant, then a linear decay over the last
    `decay_steps`). Constant and wsd runs can be extended to more steps (`train --extend-to`)."""
    decay_steps: int = 0
    """With schedule `wsd`: the steps of the final linear decay (at least 1)."""
    final_learning_rate_fraction: float = 0.1
    """Final learning rate as a fraction of `learning_rate`."""
    weight_decay: float = 0.0
    """AdamW decoupled weight decay."""
    clip_norm: float = 100.0
    """Global gradient-norm clip; the default only catches blow-ups (`docs/training.md`)."""
    normalise_loss: bool = False
    """Divide each prompt's squared error by its class's output variance."""
    steps_per_call: int = 50
    """Optimiser steps per compiled call (one `lax.scan`)."""
    eval_every: int = 500
    """Steps between evaluations on the fixed evaluation set (multiple of `steps_per_call`)."""
    eval_prompts: int = 256
    """Prompts in the fixed evaluation set."""
    checkpoint_every: int = 1000
    """Steps between checkpoints (multiple of `steps_per_call`)."""
    seed: int = 0
    """Seeds initialisation, training data and the evaluation set: an integer in [0, 2**32)."""
    snapshot_steps: tuple[int, ...] = ()
    """Steps at which a parameters-only copy of the model is kept in RUN/snapshots (multiples of
    `steps_per_call`), to follow a diagnostic over training."""

    batch_composition: BatchComposition = "per-prompt"
    """How a mixture fills a batch: `per-prompt` (each prompt's class drawn with the weights),
    `balanced` (each class exactly its share of every batch), `one-class` (one class per batch,
    drawn per step), `round-robin` (one class per step, in turn)."""
    init_from: str | None = None
    """A run folder whose final parameters this run starts from (same model preset, `dim` and
    `n_points`), with a fresh optimiser; `None` starts from a random initialisation."""

    def __post_init__(self) -> None:
        if not isinstance(self.prior, AbstractPrior):
            raise invalid(
                "TrainConfig",
                "prior",
                self.prior,
                "is a built prior (e.g. `build_prior('0.5*dense + 0.5*sparse(k=2)', dim=5)`)",
            )
        for name in (
            "n_points",
            "batch_size",
            "steps",
            "steps_per_call",
            "eval_every",
            "eval_prompts",
            "checkpoint_every",
        ):
            check_positive_int("TrainConfig", name, getattr(self, name))
        seed_is_int = isinstance(self.seed, int) and not isinstance(self.seed, bool)
        if not (seed_is_int and 0 <= self.seed < 2**32):
            raise invalid("TrainConfig", "seed", self.seed, "must be an integer in [0, 2**32)")
        check_positive("TrainConfig", "learning_rate", self.learning_rate)
        check_nonnegative("TrainConfig", "weight_decay", self.weight_decay)
        check_positive("TrainConfig", "clip_norm", self.clip_norm)
        if not isinstance(self.warmup_steps, int) or not 0 <= self.warmup_steps <= self.steps:
            raise invalid(
                "TrainConfig",
                "warmup_steps",
                self.warmup_steps,
                f"must lie in [0, steps={self.steps}]",
            )
        if not 0.0 <= self.final_learning_rate_fraction <= 1.0:
            raise invalid(
                "TrainConfig",
                "final_learning_rate_fraction",
                self.final_learning_rate_fraction,
                "must lie in [0, 1]",
            )
        if self.schedule not in ("cosine", "linear", "constant", "wsd"):
            raise invalid(
                "TrainConfig",
                "schedule",
                self.schedule,
                "is 'cosine', 'linear', 'constant' or 'wsd'",
            )
        if not isinstance(self.decay_steps, int) or self.decay_steps < 0:
            raise invalid("TrainConfig", "decay_steps", self.decay_steps, "must be >= 0")
        if self.schedule == "wsd" and not (1 <= self.decay_steps <= self.steps - self.warmup_steps):
            raise invalid(
                "TrainConfig",
                "decay_steps",
                self.decay_steps,
                f"must lie in [1, steps - warmup_steps = {self.steps - self.warmup_steps}] with "
                "schedule='wsd' (the decay follows the warm-up and ends at the last step)",
            )
        if self.precision not in ("float32", "bfloat16"):
            raise invalid("TrainConfig", "precision", self.precision, "is 'float32' or 'bfloat16'")
        if self.layout not in ("interleaved", "paired"):
            raise invalid("TrainConfig", "layout", self.layout, "is 'interleaved' or 'paired'")
        if self.model not in PRESETS:
            raise invalid(
                "TrainConfig",
                "model",
                self.model,
                f"is one of {sorted(PRESETS)}{did_you_mean(self.model, PRESETS)}",
            )
        for name in ("eval_every", "checkpoint_every"):
            if getattr(self, name) % self.steps_per_call:
                raise invalid(
                    "TrainConfig",
                    name,
                    getattr(self, name),
                    f"must be a multiple of steps_per_call={self.steps_per_call}",
                )
        for step in self.snapshot_steps:
            if (
                not isinstance(step, int)
                or not 1 <= step <= self.steps
                or step % self.steps_per_call
            ):
                raise invalid(
                    "TrainConfig",
                    "snapshot_steps",
                    self.snapshot_steps,
                    f"are steps in [1, steps={self.steps}] and multiples of "
                    f"steps_per_call={self.steps_per_call} (a later one would never be taken)",
                )
        if self.model in PRESETS:
            shape = PRESETS[self.model]
            estimated = training_bytes(self.batch_size, self.n_points, self.dim, **shape)
            sizes = (self.batch_size, self.n_points, self.dim)
            check_fits("TrainConfig", "(batch_size, n_points, dim)", sizes, estimated)
        check_composition(self.batch_composition, self.prior.class_weights, self.batch_size)
        if self.init_from is not None and (
            not isinstance(self.init_from, str) or not self.init_from
        ):
            raise invalid(
                "TrainConfig", "init_from", self.init_from, "is a run folder's path, or None"
            )
        if self.curriculum is not None:
            self.curriculum.check_compatible(self.dim, self.n_points)
            needed = self.prior.min_active_dims()
            if self.curriculum.dims_start < needed:
                raise invalid(
                    "TrainConfig",
                    "curriculum.dims_start",
                    self.curriculum.dims_start,
                    f"prior={describe_prior(self.prior)!r} draws its functions on {needed} active "
                    "coordinates, "
                    f"so the curriculum must start at {needed} or more (raise "
                    "curriculum.dims_start, or lower k in prior)",
                )

    @property
    def dim(self) -> int:
        """Input dimension d (the prior's)."""
        return self.prior.dim

    def model_config(self) -> ModelConfig:
        return preset(
            self.model,
            dim=self.dim,
            max_points=self.n_points,
            positional=self.positional,
            precision=self.precision,
            layout=self.layout,
        )

    def to_json(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["prior"] = prior_to_data(self.prior)
        if self.curriculum is not None:
            data["curriculum"] = dataclasses.asdict(self.curriculum)
        data["snapshot_steps"] = list(self.snapshot_steps)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "TrainConfig":
        """The config `to_json` wrote; also a run folder's config from before the prior was
        recorded whole (a spec string with `dim`, `noise_std` and `output_scale` beside it)."""
        data = dict(data)
        if isinstance(data.get("prior"), str):
            # 5, 0.0 and "raw": the defaults of the fields such a config may leave out.
            data["prior"] = build_prior(
                data["prior"],
                dim=data.pop("dim", 5),
                noise_std=data.pop("noise_std", 0.0),
                output_scale=data.pop("output_scale", "raw"),
            )
        elif "prior" in data:
            data["prior"] = prior_from_data(data["prior"])
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise invalid("TrainConfig", "fields", unknown, f"are unknown; known: {sorted(known)}")
        if data.get("curriculum") is not None:
            data["curriculum"] = Curriculum(**data["curriculum"])
        if "snapshot_steps" in data:  # a JSON list
            data["snapshot_steps"] = tuple(data["snapshot_steps"])
        return cls(**data)

    @classmethod
    def loads(cls, text: str) -> "TrainConfig":
        return cls.from_json(json.loads(text))

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, sort_keys=True)
