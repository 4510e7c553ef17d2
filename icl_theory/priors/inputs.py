"""Input distributions: the default isotropic Gaussian and Garg et al.'s (2022) shifts.

Every distribution samples one prompt's inputs, `(n_points, dim)`. The shifts with a fixed random
geometry (skewed covariance, subspace) draw it once at construction from an integer seed, as
Garg et al.'s evaluation does, and are rescaled so that `E|x|^2 = dim`, as theirs are
(`normalize=True`), so only the shape of the distribution changes, not the scale.
"""

import abc

import equinox as eqx
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array, Float

from icl_theory._types import Key, Xs
from icl_theory._validation import check_positive, check_positive_int, invalid


class AbstractInputDistribution(eqx.Module):
    @abc.abstractmethod
    def sample(self, key: Key, n_points: int, dim: int) -> Xs:
        """Inputs of one prompt."""


class IsotropicGaussian(AbstractInputDistribution):
    """`x ~ N(0, I_dim)`: the pretraining distribution of Garg et al. and Yadlowsky et al."""

    def sample(self, key: Key, n_points: int, dim: int) -> Xs:
        return jr.normal(key, (n_points, dim))


class _FixedLinearMap(AbstractInputDistribution):
    """`x = z @ transform` with `z ~ N(0, I)`; shared by the shifts with a fixed geometry."""

    transform: eqx.AbstractVar[Float[Array, "dim dim"]]

    def sample(self, key: Key, n_points: int, dim: int) -> Xs:
        if dim != self.transform.shape[0]:
            raise invalid(
                type(self).__name__,
                "dim",
                self.transform.shape[0],
                f"must equal the prior's dim={dim}; build the shift with dim={dim}",
            )
        return jr.normal(key, (n_points, dim)) @ self.transform


def _random_basis(seed: int, dim: int) -> np.ndarray:
    gaussian = np.asarray(jr.normal(jr.key(seed), (dim, dim)))
    basis, _, _ = np.linalg.svd(gaussian)
    return basis


def _scaled_transform(basis: np.ndarray, scales: np.ndarray) -> Float[Array, "dim dim"]:
    # E|z @ U diag(s) U^T|^2 = sum s_i^2; rescale it to dim.
    scales = scales * np.sqrt(len(scales) / np.sum(scales**2))
    return jnp.asarray((basis * scales) @ basis.T)


class SkewedGaussian(_FixedLinearMap):
    """`x ~ N(0, Sigma)`, covariance eigenvalues proportional to `1 / i^2` in a random basis."""

    dim: int = eqx.field(static=True)
    seed: int = eqx.field(static=True)
    transform: Float[Array, "dim dim"]

    def __init__(self, dim: int, seed: int = 0):
        check_positive_int("SkewedGaussian", "dim", dim)
        self.dim, self.seed = dim, seed
        scales = 1.0 / np.arange(1, dim + 1)  # transform eigenvalues 1/i: covariance 1/i^2
        self.transform = _scaled_transform(_random_basis(seed, dim), scales)


class SubspaceGaussian(_FixedLinearMap):
    """Inputs confined to a random `dim // 2`-dimensional subspace (Gaussian within it)."""

    dim: int = eqx.field(static=True)
    seed: int = eqx.field(static=True)
    transform: Float[Array, "dim dim"]

    def __init__(self, dim: int, seed: int = 0):
        if dim < 2:
            raise invalid(
                "SubspaceGaussian", "dim", dim, "must be >= 2 (the subspace has dim // 2)"
            )
        self.dim, self.seed = dim, seed
        scales = (np.arange(dim) < dim // 2).astype(np.float64)
        self.transform = _scaled_transform(_random_basis(seed, dim), scales)


class RandomOrthant(AbstractInputDistribution):
    """All points of a prompt in one random orthant: `x = |z| * s`, `s` a random sign pattern
    drawn per prompt (Garg et al.'s "different orthants" shift). Garg et al. draw the *query*
    from the unshifted distribution; evaluation code that needs that draws queries separately."""

    def sample(self, key: Key, n_points: int, dim: int) -> Xs:
        sign_key, point_key = jr.split(key)
        signs = jnp.where(jr.bernoulli(sign_key, 0.5, (dim,)), 1.0, -1.0)
        return jnp.abs(jr.normal(point_key, (n_points, dim))) * signs[None, :]


class ScaledInputs(AbstractInputDistribution):
    """`factor * x` with `x` from `base` (Garg et al. scale inputs by 1/3, 1/2, 2, 3)."""

    base: AbstractInputDistribution
    factor: float

    def __check_init__(self) -> None:
        check_positive("ScaledInputs", "factor", self.factor)

    def sample(self, key: Key, n_points: int, dim: int) -> Xs:
        return self.factor * self.base.sample(key, n_points, dim)
