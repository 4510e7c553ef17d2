"""k-sparse linear regression: a uniformly random k-subset of coordinates carries `N(0, tau^2)`
weights, the rest are exactly zero (Garg et al.'s prior; k = 2 of d = 20 in Yadlowsky et al.)."""

import itertools
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array, Int

from icl_theory._types import Count, Key, Point, Scalar, Xs, Ys
from icl_theory._validation import check_nonnegative, check_positive, check_positive_int, invalid
from icl_theory.priors._sites import iid_normal, uniform_choice
from icl_theory.priors.base import AbstractPrior, dim_mask
from icl_theory.priors.linear import AbstractLinearPrior, LinearTask

# Above this many supports the NumPyro model would need a table too large to hold; the exact
# Bayes predictor enumerates the same table, so such priors are out of reach for both anyway.
MAX_ENUMERATED_SUPPORTS = 200_000


class SparseLinear(AbstractLinearPrior):
    """Exactly `k` nonzero weights, support uniform over the `C(dim, k)` subsets.

    Attributes:
        dim: input dimension.
        k: number of nonzero weights, `1 <= k <= dim`.
        tau: standard deviation of each nonzero weight (Garg et al. use 1, no rescaling).
        noise_std: observation noise `sigma` (0 allowed).

    Under a curriculum the support is drawn among the `active_dims` first coordinates, which
    must then be at least `k` (`min_active_dims`; `TrainConfig` refuses a curriculum that starts
    below it).
    """

    dim: int = eqx.field(static=True)
    k: int = eqx.field(static=True)
    tau: float = 1.0
    noise_std: float = 0.0

    def __check_init__(self) -> None:
        check_positive_int("SparseLinear", "dim", self.dim)
        check_positive_int("SparseLinear", "k", self.k)
        if self.k > self.dim:
            raise invalid("SparseLinear", "k", self.k, f"must satisfy 1 <= k <= dim={self.dim}")
        check_positive("SparseLinear", "tau", self.tau)
        check_nonnegative("SparseLinear", "noise_std", self.noise_std)

    def sample_task(self, key: Key, active_dims: Count) -> LinearTask:
        support_key, weight_key = jr.split(key)
        # The k smallest of i.i.d. uniform scores form a uniformly random k-subset; pushing the
        # inactive coordinates' scores above 1 restricts the subset to the active coordinates.
        scores = jr.uniform(support_key, (self.dim,))
        scores = jnp.where(jnp.arange(self.dim) < active_dims, scores, 2.0)
        _, support = jax.lax.top_k(-scores, self.k)
        weights = self.tau * jr.normal(weight_key, (self.k,))
        return LinearTask(jnp.zeros((self.dim,)).at[support].set(weights))

    def output_variance(self, x: Point, active_dims: Count | None = None) -> Scalar:
        # Each active coordinate is in the support with probability k / active_dims.
        mask = dim_mask(self.dim, active_dims)
        n_active = jnp.sum(mask)
        return self.tau**2 * (self.k / n_active) * jnp.sum((x * mask) ** 2)

    def min_active_dims(self) -> int:
        return self.k

    @property
    def label(self) -> str:
        return f"SparseLinear(k={self.k})"

    def with_unit_output_variance(self) -> "AbstractPrior":
        return eqx.tree_at(lambda p: p.tau, self, 1.0 / math.sqrt(self.k))

    def supports(self) -> Int[Array, "n_supports k"]:
        """All `C(dim, k)` supports in lexicographic order, one row each."""
        n_supports = math.comb(self.dim, self.k)
        if n_supports > MAX_ENUMERATED_SUPPORTS:
            raise invalid(
                "SparseLinear",
                "k",
                self.k,
                f"C(dim={self.dim}, k={self.k}) = {n_supports} supports is more than "
                f"{MAX_ENUMERATED_SUPPORTS} that can be enumerated; use a smaller k or dim",
            )
        table = np.array(list(itertools.combinations(range(self.dim), self.k)), dtype=np.int32)
        return jnp.asarray(table)

    def numpyro_function(self, xs: Xs) -> tuple[Ys, Scalar]:
        table = self.supports()
        n_supports = table.shape[0]
        support = uniform_choice("support", n_supports)
        w_support = iid_normal("w_support", self.tau, (self.k,))
        f = jnp.sum(xs[..., table[support]] * w_support[..., None, :], axis=-1)
        return f, jnp.asarray(self.noise_std)
