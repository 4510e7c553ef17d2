"""One factory per prior family, so parametrised tests cover every prior (add new ones here)."""

from collections.abc import Callable

from icl_theory.priors import (
    AbstractPrior,
    ConvexCombination,
    DenseLinear,
    FinitePool,
    Mixture,
    ReluNetwork,
    Sinusoid,
    SparseLinear,
)

PriorFactory = Callable[[int, float], AbstractPrior]

ZOO: dict[str, PriorFactory] = {
    "dense": lambda d, s: DenseLinear(dim=d, tau=0.7, noise_std=s),
    "sparse": lambda d, s: SparseLinear(dim=d, k=min(2, d), tau=1.3, noise_std=s),
    "sinusoid": lambda d, s: Sinusoid(dim=d, freq_low=0.5, freq_high=2.0, noise_std=s),
    "relu": lambda d, s: ReluNetwork(dim=d, hidden=6, noise_std=s),
    "mixture": lambda d, s: Mixture(
        (DenseLinear(dim=d, noise_std=s), SparseLinear(dim=d, k=1, noise_std=s)), (0.3, 0.7)
    ),
    "mixture3": lambda d, s: Mixture(
        (
            DenseLinear(dim=d, noise_std=s),
            Sinusoid(dim=d, noise_std=s),
            ReluNetwork(dim=d, hidden=4, noise_std=s),
        ),
        (0.2, 0.3, 0.5),
    ),
    "convex": lambda d, s: ConvexCombination(
        DenseLinear(dim=d), Sinusoid(dim=d), alpha=0.4, noise_std=s
    ),
    "pool": lambda d, s: FinitePool(DenseLinear(dim=d, noise_std=s), size=4096, seed=3),
}
