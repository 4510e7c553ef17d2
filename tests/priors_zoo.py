"""One factory per prior family, so parametrised tests cover every prior.

The built-in families have hand-picked hyperparameters below. Every module in `examples/` is
imported first, so a prior registered there (`register_prior`) joins the zoo by that one line,
with its default hyperparameters, `dim` and `noise_std`.
"""

import importlib
from collections.abc import Callable
from pathlib import Path

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
from icl_theory.priors.registry import PRIORS

EXAMPLES = sorted(p.stem for p in (Path(__file__).parents[1] / "examples").glob("[!_]*.py"))
for module in EXAMPLES:
    importlib.import_module(f"examples.{module}")

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

BUILT_IN = {type(factory(2, 0.0)) for factory in ZOO.values()}
# Priors registered outside the package (the examples).
EXTERNAL: dict[str, PriorFactory] = {
    name: (lambda d, s, cls=cls: cls(dim=d, noise_std=s))  # pyright: ignore[reportCallIssue]
    for name, cls in PRIORS.items()
    if cls not in BUILT_IN
}
ZOO |= EXTERNAL
