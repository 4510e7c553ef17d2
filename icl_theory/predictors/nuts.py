"""A Bayes predictor for any prior, by MCMC on its NumPyro model: the fallback where no closed form
exists (ReLU networks) and the independent check of the closed forms.

For each prompt and each position `i` it runs `chains` NUTS chains on the posterior of the prior's
latents given `y_<i` (later observations are masked out of the likelihood, so the predictor is
prefix-causal by construction) and reports the posterior predictive mean of `f(x_i)`.

Discrete latents (a mixture's class, a sparse support, a sinusoid's axis, a pool member) are
marginalised exactly: the potential is `-log sum_c p(u, c, y_<i)` over every configuration `c` of
the discrete sites, and each draw of the continuous latents `u` contributes the Rao-Blackwellised
`sum_c p(c | u, y_<i) f_c(u; x_i)`. So a mixture is one NumPyro model with its class indicator
marginalised, and the sampler never has to jump between classes. This needs the continuous sites
not to depend on the discrete values (true of every model here: a mixture samples every
component's latents).

Everything (init, warm-up, sampling) runs inside one `jit`, vmapped over chains, positions and
prompts, through NumPyro's functional `hmc` API; `numpyro.infer.MCMC` would recompile per run.
"""

import functools
import itertools
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Float
from numpyro import handlers
from numpyro.distributions.transforms import biject_to
from numpyro.infer.hmc import hmc
from numpyro.infer.util import log_density

from icl_theory._types import Preds, Xs, Ys
from icl_theory._validation import check_nonnegative, check_positive_int, invalid
from icl_theory.predictors.base import AbstractPredictor, require_float64
from icl_theory.priors import AbstractPrior
from icl_theory.priors.probabilistic import prior_model

# Enumerating more discrete configurations than this per gradient is too slow to be useful.
MAX_CONFIGURATIONS = 4096


class NutsPredictor(AbstractPredictor):
    """Posterior predictive mean by NUTS on `prior_model(prior, ...)`; see the module docstring.

    Attributes:
        prior: any prior with a NumPyro model.
        num_warmup: per chain (adaptation of step size and diagonal mass matrix
            during warm-up).
        num_samples: per chain (adaptation of step size and diagonal mass matrix
            during warm-up).
        chains: independent chains per position; their spread gives the Monte Carlo error.
        noise_floor: added in quadrature to the prior's noise in the likelihood; required
            (positive) when a class of the prior is noise-free, whose likelihood is degenerate.
        seed: chains at position `i` use `fold_in(key(seed), i)`.
    """

    needs_float64 = True

    prior: AbstractPrior
    num_warmup: int = eqx.field(static=True, default=500)
    num_samples: int = eqx.field(static=True, default=1000)
    chains: int = eqx.field(static=True, default=4)
    noise_floor: float = eqx.field(static=True, default=0.0)
    seed: int = eqx.field(static=True, default=0)

    def __check_init__(self) -> None:
        check_positive_int("NutsPredictor", "num_warmup", self.num_warmup)
        check_positive_int("NutsPredictor", "num_samples", self.num_samples)
        check_positive_int("NutsPredictor", "chains", self.chains)
        check_nonnegative("NutsPredictor", "noise_floor", self.noise_floor)
        if self.chains < 2:
            raise invalid("NutsPredictor", "chains", self.chains, "needs >= 2 for an error bar")
        if self.noise_floor == 0.0 and _has_noise_free_class(self.prior):
            raise invalid(
                "NutsPredictor",
                "noise_floor",
                self.noise_floor,
                f"{type(self.prior).__name__} has a noise-free class, whose likelihood is "
                "degenerate: set noise_floor > 0 (e.g. 1e-2 of the output scale); the result is "
                "then the Bayes predictor of the prior observed with that noise",
            )

    def __call__(self, xs: Xs, ys: Ys) -> Preds:
        return self.estimate(xs, ys)[0]

    def estimate(
        self, xs: Xs, ys: Ys
    ) -> tuple[Float[Array, " n_points"], Float[Array, " n_points"]]:
        """Posterior predictive mean at each position and its Monte Carlo standard error (the
        spread of the per-chain means over `sqrt(chains)`)."""
        require_float64(xs)
        n_points = xs.shape[0]

        def at_position(position):
            observed = jnp.arange(n_points) < position
            keys = jr.split(jr.fold_in(jr.key(self.seed), position), self.chains)
            means = jax.vmap(lambda key: self._chain_mean(key, xs, ys, observed, position))(keys)
            return jnp.mean(means), jnp.std(means, ddof=1) / math.sqrt(self.chains)

        return jax.vmap(at_position)(jnp.arange(n_points))

    def _chain_mean(
        self,
        key: Array,
        xs: Xs,
        ys: Ys,
        observed: Bool[Array, " n_points"],
        position: Array,
    ) -> Float[Array, ""]:
        model = functools.partial(
            prior_model, self.prior, xs, ys, noise_floor=self.noise_floor, observed=observed
        )
        init_key, run_key = jr.split(key)
        trace = handlers.trace(handlers.seed(model, init_key)).get_trace()
        latent = {
            name: site
            for name, site in trace.items()
            if site["type"] == "sample" and not site["is_observed"]
        }
        discrete = [name for name, site in latent.items() if site["fn"].has_enumerate_support]
        transforms = {
            name: biject_to(site["fn"].support)
            for name, site in latent.items()
            if name not in discrete
        }
        configurations = _configurations({name: latent[name]["fn"] for name in discrete})

        def marginal(unconstrained):
            """`log sum_c p(u, c, y_<i)` (with the change-of-variables term) and the
            Rao-Blackwellised prediction `E[f(x_i) | u, y_<i]`."""
            constrained = {name: t(unconstrained[name]) for name, t in transforms.items()}
            log_det = sum(
                jnp.sum(t.log_abs_det_jacobian(unconstrained[name], constrained[name]))
                for name, t in transforms.items()
            )

            def one_configuration(configuration):
                log_joint, model_trace = log_density(
                    model, (), {}, {**constrained, **configuration}
                )
                return log_joint, model_trace["f"]["value"][position]

            if configurations:
                log_joints, predictions = jax.vmap(one_configuration)(configurations)
            else:  # no discrete sites
                log_joint, prediction = one_configuration({})
                log_joints = jnp.reshape(log_joint, (1,))
                predictions = jnp.reshape(prediction, (1,))
            return (
                jax.nn.logsumexp(log_joints) + log_det,
                jax.nn.softmax(log_joints) @ predictions,
            )

        init_kernel, sample_kernel = hmc(potential_fn=lambda u: -marginal(u)[0], algo="NUTS")
        init_params = {name: t.inv(latent[name]["value"]) for name, t in transforms.items()}
        state = init_kernel(init_params, self.num_warmup, rng_key=run_key)

        def step(state, _):
            state = sample_kernel(state)
            return state, marginal(state.z)[1]

        _, predictions = jax.lax.scan(step, state, None, self.num_warmup + self.num_samples)
        return jnp.mean(predictions[self.num_warmup :])


def _configurations(discrete: dict) -> dict[str, Array]:
    """Every joint value of the discrete sites, as one array of length `C` per site."""
    supports = {
        name: np.arange(fn.enumerate_support(expand=False).shape[0])
        for name, fn in discrete.items()
    }
    count = math.prod(len(values) for values in supports.values())
    if count > MAX_CONFIGURATIONS:
        raise invalid(
            "NutsPredictor",
            "prior",
            f"{count} discrete configurations",
            f"at most {MAX_CONFIGURATIONS} can be enumerated per gradient; use a smaller prior",
        )
    grid = list(itertools.product(*supports.values())) or [()]
    table = np.array(grid, dtype=np.int32).reshape(len(grid), len(supports))
    return {name: jnp.asarray(table[:, column]) for column, name in enumerate(supports)}


def _has_noise_free_class(prior: AbstractPrior) -> bool:
    """Whether any discrete configuration of the prior's model has zero noise (checked
    concretely, on one dummy point)."""
    xs = jnp.zeros((1, prior.dim))

    def noise_std():
        return prior.numpyro_function(xs)[1]

    trace = handlers.trace(handlers.seed(noise_std, 0)).get_trace()
    discrete = {
        name: site["fn"]
        for name, site in trace.items()
        if site["type"] == "sample" and site["fn"].has_enumerate_support
    }
    configurations = _configurations(discrete)
    count = next(iter(configurations.values())).shape[0] if configurations else 1
    for index in range(count):
        values: dict[str, ArrayLike] = {
            name: column[index] for name, column in configurations.items()
        }
        conditioned = handlers.condition(handlers.seed(noise_std, 0), data=values)
        if float(np.asarray(conditioned())) == 0.0:
            return True
    return False
