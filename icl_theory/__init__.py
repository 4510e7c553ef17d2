"""icl_theory: in-context learning of function classes, measured against the exact Bayes-optimal
predictor of the same prior.

The names below load on first use, so that `import icl_theory` (and the command line's start)
does not wait for JAX until something needs it.
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from icl_theory import priors
    from icl_theory.curriculum import Curriculum
    from icl_theory.priors import build_prior
    from icl_theory.prompts import Prompts, sample_prompts

__version__ = "0.1.0"

_LAZY = {
    "priors": ("icl_theory.priors", None),
    "Curriculum": ("icl_theory.curriculum", "Curriculum"),
    "build_prior": ("icl_theory.priors", "build_prior"),
    "Prompts": ("icl_theory.prompts", "Prompts"),
    "sample_prompts": ("icl_theory.prompts", "sample_prompts"),
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'icl_theory' has no attribute {name!r}")
    module, attribute = _LAZY[name]
    loaded = importlib.import_module(module)
    return loaded if attribute is None else getattr(loaded, attribute)


__all__ = ["Curriculum", "Prompts", "__version__", "build_prior", "priors", "sample_prompts"]
