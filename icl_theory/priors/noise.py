"""The observation noise of a built prior across its nested classes: the noise they share, and
the same prior with another noise. Both walk the prior's recorded data (`prior_to_data`), where
every class of every combinator appears with its `noise_std`."""

from typing import Any

from icl_theory.priors.base import AbstractPrior
from icl_theory.priors.serialise import prior_from_data, prior_to_data


def shared_noise_std(prior: AbstractPrior) -> float:
    """The observation noise every part of `prior` has, or 0.0 where they differ: the
    `noise_std` to show beside `prior_spec(prior, noise_std=...)`."""
    found = set(_noise_stds(prior_to_data(prior)))
    return found.pop() if len(found) == 1 else 0.0


def with_noise_std(prior: AbstractPrior, noise_std: float) -> AbstractPrior:
    """`prior` with every part's observation noise set to `noise_std`."""
    return prior_from_data(_replaced(prior_to_data(prior), noise_std))


def _noise_stds(data: Any) -> list[float]:
    if isinstance(data, dict):
        own = [data["noise_std"]] if "noise_std" in data else []
        return own + [found for value in data.values() for found in _noise_stds(value)]
    if isinstance(data, list):
        return [found for value in data for found in _noise_stds(value)]
    return []


def _replaced(data: Any, noise_std: float) -> Any:
    if isinstance(data, dict):
        return {
            key: noise_std if key == "noise_std" else _replaced(value, noise_std)
            for key, value in data.items()
        }
    if isinstance(data, list):
        return [_replaced(value, noise_std) for value in data]
    return data
