"""What an evaluation's errors were measured on, as saved with them (standard library only,
so saved results load without JAX)."""

from dataclasses import dataclass, fields
from typing import Any


@dataclass(frozen=True)
class EvalSetup:
    """What the errors were measured on, as `evaluate` recorded it.

    Attributes:
        n_points: points per evaluation prompt (positions `0 .. n_points - 1`).
        n_prompts: prompts in the evaluation set (`EvalResults.n_prompts` is the number held,
            fewer after `for_class`).
        seed: the seed of the evaluation prompts (the same seed, prior and count give the same
            prompts).
        prior: the evaluation prior as data (`icl_theory.priors.prior_from_data` rebuilds it);
            `None` in results saved before it was recorded.
        dim: its input dimension.
        inputs: the input distribution, as its repr.
        normalise: the errors' denominator (`"pointwise"` or `"class_mean"`).
        bayes: what the `"Bayes"` entry is (`"exact"`, or why there is none).
        selection_prompts: prompts probed by the selection diagnostics (`None`: no probe).
        selection_queries: query points per probed prompt.
    """

    n_points: int
    n_prompts: int
    seed: int = 0
    prior: dict[str, Any] | None = None
    dim: int | None = None
    inputs: str = "IsotropicGaussian()"
    normalise: str = "pointwise"
    bayes: str | None = None
    selection_prompts: int | None = None
    selection_queries: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def split(cls, config: dict[str, Any]) -> tuple["EvalSetup", dict[str, Any]]:
        """A saved `config` mapping (format versions 1 and 2) as the setup and the rest."""
        names = {f.name for f in fields(cls)}
        if not isinstance(config.get("prior"), dict):  # early results: the prior's repr
            names.remove("prior")
        setup = cls(**{k: v for k, v in config.items() if k in names})
        return setup, {k: v for k, v in config.items() if k not in names}
