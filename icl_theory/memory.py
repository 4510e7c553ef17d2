"""Sizes checked against the machine's memory before anything is allocated: a size typed with
a few zeros too many gets one line with the estimated bytes, not XLA's out-of-memory error
(or a run folder that cannot be resumed). The estimates are deliberately rough (within a small
factor): they stop nonsense, they do not budget a run."""

import os

from icl_theory._validation import InvalidField

FLOAT32 = 4


def physical_memory() -> int:
    """Bytes of memory this machine has (a large stand-in where the OS does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 2**40


def check_fits(owner: str, fields: str, value: object, estimated: int) -> None:
    """Refuse `estimated` bytes beyond the machine's memory, naming the fields that set them."""
    available = physical_memory()
    if estimated > available:
        raise InvalidField(
            owner,
            fields,
            value,
            f"needs about {_gib(estimated)} of memory and this machine has {_gib(available)}: "
            "lower them",
        )


def training_bytes(batch: int, n_points: int, dim: int, width: int, layers: int, heads: int) -> int:
    """Parameters with AdamW's two moments, the batch, and the activations one step keeps for
    the backward pass (residual stream, MLP, attention scores) of the interleaved layout (an
    upper bound for the paired one, which has half the tokens)."""
    tokens = 2 * n_points
    parameters = 12 * layers * width**2 + (dim + 1 + tokens) * width
    activations = batch * layers * (16 * tokens * width + 2 * heads * tokens**2)
    return FLOAT32 * (3 * parameters + batch * tokens * (dim + 1) + activations)


def prompts_bytes(batch: int, n_points: int, dim: int, itemsize: int = 8) -> int:
    """A batch of prompts (inputs, outputs and noise-free values) and a few arrays of its size."""
    return 4 * itemsize * batch * n_points * (dim + 2)


def _gib(nbytes: int) -> str:
    return f"{nbytes / 2**30:,.1f} GiB"
