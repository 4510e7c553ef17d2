"""icl_theory: in-context learning of function classes, measured against the exact Bayes-optimal
predictor of the same prior."""

from icl_theory import priors
from icl_theory.curriculum import Curriculum
from icl_theory.priors import build_prior
from icl_theory.prompts import Prompts, sample_prompts

__version__ = "0.1.0"

__all__ = ["Curriculum", "Prompts", "__version__", "build_prior", "priors", "sample_prompts"]
