"""How a mixture prior fills a training batch: the class of every prompt of every step.

The prior fixes each class's law and weight; the batch composition only decides which class each
prompt of a step is drawn from, so it changes the optimisation (the gradient's variance, the
order in which the classes are seen), never the objective in expectation:

- `per-prompt`: each prompt's class drawn independently with the mixture weights (the default:
  every step's expected loss is exactly the mixture-prior objective);
- `balanced`: every batch holds each class's share exactly (largest-remainder rounding of
  `weight * batch_size`), e.g. 32 + 32 for a 50/50 mixture of 64 prompts;
- `one-class`: all prompts of a step come from one class, drawn per step with the weights
  (Panwar et al.'s one class per batch);
- `round-robin`: one class per step, the classes in turn, each for its share of a cycle (Bai et
  al.'s one optimiser step per class); the weights must be multiples of `1 / cycle` for a cycle
  of at most `MAX_CYCLE` steps.

Deterministic: the class draw of `one-class` uses the step's data key folded with `CLASS_SALT`
(the prompts use indices below the batch size), so a resumed run draws the same classes.
"""

import math
from fractions import Fraction
from typing import Literal, get_args

import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array, Int

from icl_theory._validation import invalid

BatchComposition = Literal["per-prompt", "balanced", "one-class", "round-robin"]
COMPOSITIONS: tuple[str, ...] = get_args(BatchComposition)
MAX_CYCLE = 1000
CLASS_SALT = 2**31 - 1


def check_composition(composition: str, weights: tuple[float, ...], batch_size: int) -> None:
    """A clear error for a composition that cannot fill batches of this prior."""
    if composition not in COMPOSITIONS:
        raise invalid("TrainConfig", "batch_composition", composition, f"is one of {COMPOSITIONS}")
    if composition != "per-prompt" and len(weights) < 2:
        raise invalid(
            "TrainConfig",
            "batch_composition",
            composition,
            "needs a mixture prior (two or more classes, e.g. '0.5*dense + 0.5*sparse(k=1)'); "
            "a single class fills every batch alike: use 'per-prompt'",
        )
    if composition == "round-robin":
        round_robin_cycle(weights)


def balanced_counts(weights: tuple[float, ...], batch_size: int) -> np.ndarray:
    """Prompts of each class in every batch: `weight * batch_size` rounded by largest remainder
    (the counts sum to `batch_size`; ties go to the earlier class)."""
    exact = np.asarray(weights, dtype=np.float64) * batch_size
    counts = np.floor(exact).astype(np.int64)
    remainders = exact - counts
    order = np.argsort(-remainders, kind="stable")
    counts[order[: batch_size - int(counts.sum())]] += 1
    return counts


def round_robin_cycle(weights: tuple[float, ...]) -> np.ndarray:
    """The classes of one round-robin cycle: class `c` for `weight_c * cycle` consecutive
    steps, in class order, with the shortest cycle that makes every share whole."""
    fractions = [Fraction(w).limit_denominator(MAX_CYCLE) for w in weights]
    if any(abs(float(f) - w) > 1e-9 for f, w in zip(fractions, weights, strict=True)):
        raise invalid(
            "TrainConfig",
            "batch_composition",
            "round-robin",
            f"needs mixture weights that are multiples of 1/cycle for a cycle of at most "
            f"{MAX_CYCLE} steps; {weights} are not (use 'one-class' to draw the class per step)",
        )
    cycle = math.lcm(*(f.denominator for f in fractions))
    shares = [int(f * cycle) for f in fractions]
    return np.repeat(np.arange(len(weights)), shares)


def batch_classes(
    composition: str,
    weights: tuple[float, ...],
    batch_size: int,
    step_key: Array,
    step: Int[Array, ""],
) -> Int[Array, " batch"] | None:
    """The class of each prompt of the step whose prompts come from `step_key`; `None` for
    `per-prompt` (the prior draws each prompt's class itself). Traceable in `step`."""
    if composition == "per-prompt":
        return None
    if composition == "balanced":
        counts = balanced_counts(weights, batch_size)
        return jnp.asarray(np.repeat(np.arange(len(weights)), counts), jnp.int32)
    if composition == "one-class":
        key = jr.fold_in(step_key, CLASS_SALT)
        drawn = jr.categorical(key, jnp.log(jnp.asarray(weights)))
    else:
        cycle = jnp.asarray(round_robin_cycle(weights), jnp.int32)
        drawn = cycle[step % cycle.shape[0]]
    return jnp.full((batch_size,), drawn, jnp.int32)
