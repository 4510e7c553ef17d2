"""A built prior as JSON data and back: every constructor argument, nested priors included.

Runs and evaluation results record the prior they used in this form, so what was sampled is
known exactly from the saved files (not re-derived from a spec string and defaults):

    {"class": "Mixture", "args": {"components": [{"class": "DenseLinear", "args": {...}}, ...],
                                  "weights": [0.5, 0.5]}}

A class is found by name among the registered priors (`register_prior`) and the combinators,
so a prior defined outside the package loads once its module has registered it.
"""

import inspect
from typing import Any

from icl_theory._validation import invalid
from icl_theory.priors.base import AbstractPrior
from icl_theory.priors.convex import ConvexCombination
from icl_theory.priors.mixture import Mixture
from icl_theory.priors.pool import FinitePool
from icl_theory.priors.registry import PRIORS, load_plugins

COMBINATORS: tuple[type[AbstractPrior], ...] = (Mixture, ConvexCombination, FinitePool)


def prior_to_data(prior: AbstractPrior) -> dict[str, Any]:
    """The prior's class name and constructor arguments, as JSON-ready data."""
    return {
        "class": type(prior).__name__,
        "args": {name: _to_data(getattr(prior, name)) for name in _arguments(type(prior))},
    }


def prior_from_data(data: dict[str, Any]) -> AbstractPrior:
    """The prior `prior_to_data` wrote (equal to the original: `eqx.tree_equal`)."""
    if not isinstance(data, dict) or set(data) != {"class", "args"}:
        raise invalid("prior_from_data", "data", data, "needs the keys 'class' and 'args'")
    name = data["class"]
    if name not in {cls.__name__ for cls in PRIORS.values()}:
        load_plugins()
    classes = {cls.__name__: cls for cls in (*PRIORS.values(), *COMBINATORS)}
    if name not in classes:
        raise invalid(
            "prior_from_data",
            "class",
            name,
            f"is not a registered prior (known: {', '.join(sorted(classes))}); import the module "
            "that registers it first",
        )
    cls = classes[name]
    return cls(**{key: _from_data(value) for key, value in data["args"].items()})


def _arguments(cls: type[AbstractPrior]) -> list[str]:
    """The constructor's parameters (dataclass fields, or a custom `__init__`'s arguments)."""
    parameters = inspect.signature(cls.__init__).parameters
    return [name for name in parameters if name != "self"]


def _to_data(value: Any) -> Any:
    if isinstance(value, AbstractPrior):
        return prior_to_data(value)
    if isinstance(value, tuple | list):
        return [_to_data(item) for item in value]
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    raise invalid("prior_to_data", "field", value, "must be a prior, a number, text or a tuple")


def _from_data(value: Any) -> Any:
    if isinstance(value, dict):
        return prior_from_data(value)
    if isinstance(value, list):
        return tuple(_from_data(item) for item in value)
    return value
