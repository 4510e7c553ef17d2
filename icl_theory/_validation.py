"""Uniform `ValueError`s for bad hyperparameters: each names the field, the value and the fix."""

import difflib
import math
from collections.abc import Iterable, Sequence


class InvalidField(ValueError):
    """A bad value of a named field: `owner.field=value is invalid: allowed.`"""

    def __init__(self, owner: str, field: str, value: object, allowed: str):
        self.owner, self.field, self.value, self.allowed = owner, field, value, allowed
        name = field if field.startswith("--") else f"{owner}.{field}"
        super().__init__(f"{name}={value!r} is invalid: {allowed}.")


def invalid(owner: str, field: str, value: object, allowed: str) -> InvalidField:
    return InvalidField(owner, field, value, allowed)


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """` (did you mean 'x'?)` for the closest choice to a mistyped `name`, or nothing."""
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def check_positive_int(owner: str, field: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise invalid(owner, field, value, "must be an integer >= 1")


def check_nonnegative(owner: str, field: str, value: float) -> None:
    if not math.isfinite(value) or value < 0:
        raise invalid(owner, field, value, "must be a finite number >= 0")


def check_positive(owner: str, field: str, value: float) -> None:
    if not math.isfinite(value) or value <= 0:
        raise invalid(owner, field, value, "must be a finite number > 0")


def check_probabilities(owner: str, field: str, values: Sequence[float]) -> None:
    if any((not math.isfinite(v)) or v < 0 for v in values):
        raise invalid(owner, field, tuple(values), "weights must be finite and >= 0")
    if abs(math.fsum(values) - 1.0) > 1e-6:
        raise invalid(
            owner, field, tuple(values), f"weights must sum to 1 (they sum to {math.fsum(values)})"
        )
