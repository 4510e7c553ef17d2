"""The compiled part of training: state, optimiser, loss, and `steps_per_call` optimiser steps per
host call (`lax.scan`), with fresh prompts drawn from the prior inside the step.

Determinism: step `t` uses the prompts of `fold_in(data_key, t)` and nothing else random, so a run
resumed from a checkpoint at step `t` (parameters, optimiser state and data key restored exactly)
replays the same computation as the uninterrupted run: identical parameters bit for bit on CPU.

Data parallelism: with several devices the batch axis of each step's prompts is sharded over a
one-axis mesh (`jax.sharding`), parameters and optimiser state are replicated, and XLA inserts
the gradient all-reduce. The same code runs on one CPU, on forced host devices
(`XLA_FLAGS=--xla_force_host_platform_device_count=N`) and on GPUs; across hosts, call
`jax.distributed.initialize()` first and the mesh spans every process's devices.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P
from jaxtyping import Array, Float, Int

from icl_theory._validation import invalid
from icl_theory.model.gpt2 import GPT2
from icl_theory.priors import AbstractPrior, drawn_class_variance
from icl_theory.prompts import Prompts, sample_prompts
from icl_theory.training.composition import batch_classes
from icl_theory.training.config import TrainConfig


class TrainState(eqx.Module):
    """Everything that changes during training (arrays only, so it can be donated and saved)."""

    params: GPT2
    opt_state: optax.OptState
    step: Int[Array, ""]
    data_key: Array  # raw key data (uint32), so it serialises like any array


def learning_rate_schedule(config: TrainConfig) -> optax.Schedule:
    peak, warmup = config.learning_rate, config.warmup_steps
    final = config.final_learning_rate_fraction * peak
    decay_steps = max(config.steps - warmup, 1)
    if config.schedule == "cosine":
        decay = optax.cosine_decay_schedule(peak, decay_steps, alpha=final / peak)
    elif config.schedule == "linear":
        decay = optax.linear_schedule(peak, final, decay_steps)
    elif config.schedule == "wsd":
        # The stable phase does not depend on `steps`, so a run can be extended (or its decay
        # started from any stable checkpoint) and match a run planned that long from the start.
        stable = config.steps - warmup - config.decay_steps
        decay = optax.join_schedules(
            [
                optax.constant_schedule(peak),
                optax.linear_schedule(peak, final, config.decay_steps),
            ],
            [stable],
        )
    else:
        decay = optax.constant_schedule(peak)
    if warmup == 0:
        return decay
    return optax.join_schedules([optax.linear_schedule(0.0, peak, warmup), decay], [warmup])


def make_optimiser(config: TrainConfig) -> optax.GradientTransformation:
    return optax.chain(
        optax.clip_by_global_norm(config.clip_norm),
        optax.adamw(learning_rate_schedule(config), weight_decay=config.weight_decay),
    )


class Trainer:
    """Builds the model, optimiser and compiled step for one `TrainConfig`."""

    def __init__(self, config: TrainConfig, devices: list | None = None):
        self.config = config
        self.prior = config.prior
        self.optimiser = make_optimiser(config)
        self.schedule = learning_rate_schedule(config)
        root = jr.key(config.seed)
        self.init_key, self.data_key, self.eval_key = (jr.fold_in(root, i) for i in range(3))
        self.devices = list(devices if devices is not None else jax.devices())
        if config.batch_size % len(self.devices):
            raise invalid(
                "TrainConfig",
                "batch_size",
                config.batch_size,
                f"must be a multiple of the {len(self.devices)} devices the batch is sharded over",
            )
        self.mesh = jax.sharding.Mesh(np.asarray(self.devices), ("batch",))
        self.replicated = NamedSharding(self.mesh, P())
        self.batch_sharded = NamedSharding(self.mesh, P("batch"))
        self.run_chunk = jax.jit(self.chunk, static_argnums=1, donate_argnums=0)

    def init_state(self) -> TrainState:
        model = GPT2(self.config.model_config(), self.init_key)
        state = TrainState(
            params=model,
            opt_state=self.optimiser.init(eqx.filter(model, eqx.is_array)),
            step=jnp.zeros((), jnp.int32),
            data_key=jr.key_data(self.data_key),
        )
        return self.place(state)

    def place(self, state: TrainState) -> TrainState:
        """Replicate the state over the mesh."""
        arrays, static = eqx.partition(state, eqx.is_array)
        return eqx.combine(jax.device_put(arrays, self.replicated), static)

    def prompts_at(self, data_key: Array, step: Array) -> Prompts:
        config = self.config
        step_key = jr.fold_in(jr.wrap_key_data(data_key), step)
        classes = batch_classes(
            config.batch_composition,
            self.prior.class_weights,
            config.batch_size,
            step_key,
            step,
        )
        curriculum = config.curriculum
        return sample_prompts(
            self.prior,
            step_key,
            config.batch_size,
            config.n_points,
            active_dims=None if curriculum is None else curriculum.active_dims(step),
            active_points=None if curriculum is None else curriculum.active_points(step),
            classes=classes,
        )

    def loss(self, params: GPT2, prompts: Prompts, step: Array) -> Float[Array, ""]:
        """Mean squared error over the active `y` positions of the batch (optionally each prompt
        divided by its class's output variance)."""
        preds = params.batched(prompts.xs, prompts.ys)
        mask = prompts.point_mask.astype(preds.dtype)
        squared = (preds - prompts.ys) ** 2
        if self.config.normalise_loss:
            squared = squared / self._class_variance(prompts, step)[:, None]
        return jnp.sum(squared * mask) / jnp.sum(mask)

    def _class_variance(self, prompts: Prompts, step: Array) -> Float[Array, " batch"]:
        """Each prompt's class output variance, averaged over its active points."""
        curriculum = self.config.curriculum
        active_dims = None if curriculum is None else curriculum.active_dims(step)
        per_point = drawn_class_variance(self.prior, prompts.xs, prompts.class_index, active_dims)
        mask = prompts.point_mask.astype(prompts.xs.dtype)
        return jnp.sum(per_point * mask, axis=1) / jnp.maximum(jnp.sum(mask, axis=1), 1)

    def chunk(self, state: TrainState, length: int) -> tuple[TrainState, Float[Array, " length"]]:
        """`length` training steps from `state`, traced (`run_chunk` is its compiled form; an
        ensemble vmaps this over stacked states)."""

        def one_step(state: TrainState, _):
            prompts = self.prompts_at(state.data_key, state.step)
            prompts = jax.lax.with_sharding_constraint(prompts, self.batch_sharded)
            loss, grads = eqx.filter_value_and_grad(self.loss)(state.params, prompts, state.step)
            arrays = eqx.filter(state.params, eqx.is_array)
            updates, opt_state = self.optimiser.update(grads, state.opt_state, arrays)
            params = eqx.apply_updates(state.params, updates)
            return TrainState(params, opt_state, state.step + 1, state.data_key), loss

        return jax.lax.scan(one_step, state, None, length)

    def learning_rate(self, step: int) -> float:
        return float(np.asarray(self.schedule(step)))


def evaluation_set(trainer: Trainer) -> Prompts:
    """The fixed evaluation prompts (full dimension and length, no curriculum)."""
    config = trainer.config
    return sample_prompts(trainer.prior, trainer.eval_key, config.eval_prompts, config.n_points)


@eqx.filter_jit
def normalised_error(
    model: GPT2, prior: AbstractPrior, prompts: Prompts
) -> Float[Array, " n_points"]:
    """Per-position squared error against the noise-free `f`, divided by the output variance of
    the class that drew each prompt (the zero predictor scores 1 on every class), averaged over
    prompts: the normalisation `evaluate` uses, so monitoring and evaluation curves agree."""
    preds = model.batched(prompts.xs, prompts.ys)
    variance = drawn_class_variance(prior, prompts.xs, prompts.class_index)
    return jnp.mean((preds - prompts.fs) ** 2 / variance, axis=0)
