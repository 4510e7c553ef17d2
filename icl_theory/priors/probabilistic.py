"""Priors as NumPyro models: an independent implementation of each prior, used to check the
samplers in distribution and, by MCMC, the closed-form Bayes predictors."""

import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist
from jaxtyping import Array, Bool

from icl_theory._types import Xs, Ys
from icl_theory.priors._sites import iid_normal
from icl_theory.priors.base import AbstractPrior


def prior_model(
    prior: AbstractPrior,
    xs: Xs,
    ys: Ys | None = None,
    *,
    noise_floor: float = 0.0,
    observed: Bool[Array, " n_points"] | None = None,
) -> None:
    """The prior's generative model for one prompt's outputs at inputs `xs`.

    With `ys=None` it draws outputs (sites `"f"` and `"y"`), exactly as the prior's sampler does,
    noise-free priors included. With `ys` given it conditions on them with a Gaussian likelihood of
    standard deviation `sqrt(noise_std^2 + noise_floor^2)`; a noise-free prior needs
    `noise_floor > 0` there, since its likelihood is degenerate. `observed` masks the
    likelihood to the points that are seen (e.g. a prefix `y_<i`); the rest contribute nothing.
    """
    f, noise_std = prior.numpyro_function(xs)
    f = jnp.asarray(numpyro.deterministic("f", f))
    if ys is None:
        noise = iid_normal("noise", 1.0, f.shape)
        numpyro.deterministic("y", f + noise_std * noise)
        return
    scale = jnp.sqrt(noise_std**2 + noise_floor**2)
    likelihood = dist.Normal(f, scale)
    if observed is not None:
        likelihood = likelihood.mask(observed)
    numpyro.sample("y", likelihood.to_event(1), obs=ys)
