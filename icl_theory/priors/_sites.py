"""Typed access to NumPyro sample sites (numpyro's own annotations return `ArrayLike`)."""

from typing import Any

import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist
from jaxtyping import Array


def sample_site(name: str, distribution: Any) -> Array:
    return jnp.asarray(numpyro.sample(name, distribution))


def uniform_choice(name: str, n: int) -> Array:
    """A discrete site uniform over `0 .. n - 1` (enumerable by NumPyro's discrete inference)."""
    return sample_site(name, dist.Categorical(logits=jnp.zeros(n)))


def iid_normal(name: str, scale: float, shape: tuple[int, ...]) -> Array:
    """A site of i.i.d. `N(0, scale^2)` entries, one event of the given shape."""
    return sample_site(name, dist.Normal(0.0, scale).expand(list(shape)).to_event(len(shape)))
