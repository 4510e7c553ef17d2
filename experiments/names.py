"""The names predictors carry in the experiments' saved results, in one place: each `run.py`
saves under these names and each `figures.py` looks them up by the same ones, so a renamed
predictor is one change and a typo is an import error rather than a missing table row.

The baselines' and the exact Bayes predictor's names are the library's (`LEAST_SQUARES`,
`lasso_name`, `BAYES` in `icl_theory.evaluation`)."""

from collections.abc import Iterable

from icl_theory.evaluation import BAYES, LEAST_SQUARES, lasso_name


def model(label: str) -> str:
    """A trained transformer, by its training class: `model("mixture")` is `"mixture model"`."""
    return f"{label} model"


def bayes(of: str) -> str:
    """The exact Bayes predictor of a prior other than the evaluation prior's (which is `BAYES`):
    `bayes("dense")` is `"Bayes dense"`."""
    return f"{BAYES} {of}"


def weighted(name: str, dense_weight: float) -> str:
    """A predictor of a mixture with the given dense weight: `"mixture model, dense weight
    0.1"`."""
    return f"{name}, dense weight {dense_weight:g}"


def at_step(name: str, step: int) -> str:
    """A model's parameters at one training step: `"mixture model, step 4000"`."""
    return f"{name}, step {step}"


def seed_of(name: str, seed: int) -> str:
    """One training seed's copy of a multi-seed predictor: `"mixture model (seed 0)"`."""
    return f"{name} (seed {seed})"


def seeds_of(name: str, names: Iterable[str]) -> list[str]:
    """The per-seed copies of `name` among `names`."""
    return [n for n in names if n.startswith(f"{name} (seed ")]


MIXTURE_MODEL = model("mixture")
PRETRAINING_BAYES = bayes("pretraining mixture")
"""The pretraining prior's Bayes predictor, evaluated on prompts of another prior."""
ORACLE_BAYES = f"{BAYES} (oracle)"
"""In a drawing: the Bayes predictor of the prior the drawn function came from."""

__all__ = [
    "BAYES",
    "LEAST_SQUARES",
    "MIXTURE_MODEL",
    "ORACLE_BAYES",
    "PRETRAINING_BAYES",
    "at_step",
    "bayes",
    "lasso_name",
    "model",
    "seed_of",
    "seeds_of",
    "weighted",
]
