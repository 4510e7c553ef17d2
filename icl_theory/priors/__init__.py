"""Priors over functions (the function classes) and input distributions."""

from icl_theory.priors.base import AbstractPrior, Task, dim_mask
from icl_theory.priors.convex import ConvexCombination, PairTask
from icl_theory.priors.inputs import (
    AbstractInputDistribution,
    IsotropicGaussian,
    RandomOrthant,
    ScaledInputs,
    SkewedGaussian,
    SubspaceGaussian,
)
from icl_theory.priors.linear import AbstractLinearPrior, DenseLinear, LinearTask
from icl_theory.priors.mixture import Mixture, MixtureTask, drawn_class_variance
from icl_theory.priors.noise import shared_noise_std, with_noise_std
from icl_theory.priors.pool import FinitePool
from icl_theory.priors.probabilistic import prior_model
from icl_theory.priors.registry import PRIORS, build_prior, load_plugins, register_prior
from icl_theory.priors.relu import ReluNetwork, ReluTask
from icl_theory.priors.serialise import prior_from_data, prior_to_data
from icl_theory.priors.sinusoid import Sinusoid, SinusoidTask
from icl_theory.priors.sparse import SparseLinear
from icl_theory.priors.spec import describe_prior, prior_spec

__all__ = [
    "PRIORS",
    "AbstractInputDistribution",
    "AbstractLinearPrior",
    "AbstractPrior",
    "ConvexCombination",
    "DenseLinear",
    "FinitePool",
    "IsotropicGaussian",
    "LinearTask",
    "Mixture",
    "MixtureTask",
    "PairTask",
    "RandomOrthant",
    "ReluNetwork",
    "ReluTask",
    "ScaledInputs",
    "Sinusoid",
    "SinusoidTask",
    "SkewedGaussian",
    "SparseLinear",
    "SubspaceGaussian",
    "Task",
    "build_prior",
    "describe_prior",
    "dim_mask",
    "drawn_class_variance",
    "load_plugins",
    "prior_from_data",
    "prior_model",
    "prior_spec",
    "prior_to_data",
    "register_prior",
    "shared_noise_std",
    "with_noise_std",
]
