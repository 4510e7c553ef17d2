"""A built prior written back as a prior spec: the text a person reads in a table or a title.

`build_prior(prior_spec(p, noise_std=n), dim=p.dim, noise_std=n)` rebuilds `p` exactly (tested):
a class appears by its registered name with the constructor arguments that differ from their
defaults (`dim` and the classes' shared noise are `build_prior`'s arguments), floats as their
shortest exact decimal (`repr`), a top-level mixture as a weighted sum and a nested one as
`mixture(..., weights=[...])`. Runs record their prior as data (`prior_to_data`); this is only
how it is shown.
"""

import inspect

from icl_theory._validation import invalid
from icl_theory.priors.base import AbstractPrior
from icl_theory.priors.convex import ConvexCombination
from icl_theory.priors.mixture import Mixture
from icl_theory.priors.noise import shared_noise_std
from icl_theory.priors.pool import FinitePool
from icl_theory.priors.registry import PRIORS


def prior_spec(prior: AbstractPrior, noise_std: float = 0.0) -> str:
    """The spec of a built prior, e.g. `"0.5*dense + 0.5*sparse(k=1)"`.

    Args:
        prior: the prior to write.
        noise_std: the noise every class is taken to have unless it says otherwise (as in
            `build_prior`); a class with another noise shows its own `noise_std=...`.

    Raises:
        ValueError: a class in `prior` that is not registered (`register_prior`), so it has no
            name in the spec language.
    """
    if isinstance(prior, Mixture):
        return " + ".join(
            f"{weight!r}*{_term(component, noise_std)}"
            for weight, component in zip(prior.weights, prior.components, strict=True)
        )
    return _term(prior, noise_std)


def _term(prior: AbstractPrior, noise_std: float) -> str:
    """A prior as one term of a sum: anything but a mixture, which is written as a call."""
    if isinstance(prior, Mixture):
        components = ", ".join(_term(component, noise_std) for component in prior.components)
        return f"mixture({components}, weights={list(prior.weights)!r})"
    if isinstance(prior, ConvexCombination):
        keywords = _keywords(prior, ("alpha", "noise_std"))
        first, second = _term(prior.first, noise_std), _term(prior.second, noise_std)
        return f"convex({first}, {second}{keywords})"
    if isinstance(prior, FinitePool):
        return f"pool({_term(prior.base, noise_std)}{_keywords(prior, ('size', 'seed'))})"
    names = [name for name, cls in PRIORS.items() if cls is type(prior)]
    if not names:
        raise invalid(
            "prior_spec",
            "prior",
            type(prior).__name__,
            "is not a registered prior, so it has no name in a spec; register it with "
            "`register_prior(NAME, CLASS)`",
        )
    arguments = [name for name in _parameters(type(prior)) if name != "dim"]
    # `build_prior` gives every class its `noise_std` argument, not the constructor's default.
    keywords = _keywords(prior, arguments, {"noise_std": noise_std})
    return f"{names[0]}({keywords.removeprefix(', ')})" if keywords else names[0]


def _keywords(
    prior: AbstractPrior, names: tuple[str, ...] | list[str], implied: dict | None = None
) -> str:
    """`, name=value` for each argument whose value is not its default (the constructor's, or
    the one `implied` by the spec's builder)."""
    defaults = _parameters(type(prior)) | (implied or {})
    shown = []
    for name in names:
        value = getattr(prior, name)
        if defaults[name] is inspect.Parameter.empty or value != defaults[name]:
            shown.append(f", {name}={value!r}")
    return "".join(shown)


def _parameters(cls: type[AbstractPrior]) -> dict[str, object]:
    parameters = inspect.signature(cls.__init__).parameters
    return {name: p.default for name, p in parameters.items() if name != "self"}


def describe_prior(prior: AbstractPrior, noise_std: float | None = None) -> str:
    """One line for a person: the spec with the shared noise beside it (`0.5*dense +
    0.5*sparse(k=1), noise_std=0.1`), or the class name of a prior with no spec. With
    `noise_std` (a noise shown elsewhere, e.g. the whole prior's beside one class), only noise
    that differs from it appears, in the spec."""
    noise = shared_noise_std(prior) if noise_std is None else noise_std
    try:
        spec = prior_spec(prior, noise_std=noise)
    except ValueError:
        return type(prior).__name__
    return f"{spec}, noise_std={noise!r}" if noise and noise_std is None else spec
