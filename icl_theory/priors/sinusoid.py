"""Sinusoids along one random axis with a random frequency.

    f(x) = a * sin(omega * x_j) + b * cos(omega * x_j)
    j ~ Uniform{0, ..., dim - 1}   (among the active axes under a curriculum)
    omega ~ Uniform[freq_low, freq_high]
    (a, b) ~ N(0, amplitude_std^2 I_2)

Why this parameterisation: `(a, b)` Gaussian is the same as `A sin(omega x_j + phi)` with the
amplitude `A ~ Rayleigh(amplitude_std)` and the phase `phi ~ Uniform[0, 2 pi)`, so the class is
the usual "random amplitude, phase and frequency" sinusoid; and given `(j, omega)` it is Bayesian
linear regression on the two features `(sin, cos)`, so the coefficients integrate out in closed
form and the exact Bayes predictor only needs a sum over `j` and a 1-D quadrature over `omega`.
Its output variance is `amplitude_std^2` at every `x`, for every frequency range, so frequency
extrapolation tests do not change the output scale. `freq_low == freq_high` is allowed: a single
frequency, e.g. to probe one test frequency outside the pretraining range.
"""

import equinox as eqx
import jax.numpy as jnp
import jax.random as jr
import numpyro
import numpyro.distributions as dist
from jaxtyping import Array, Bool, Float, Int

from icl_theory._types import Count, IntScalar, Key, Point, Scalar, Xs, Ys
from icl_theory._validation import check_nonnegative, check_positive, check_positive_int, invalid
from icl_theory.priors._sites import iid_normal, sample_site, uniform_choice
from icl_theory.priors.base import AbstractPrior, zero_class


class SinusoidTask(eqx.Module):
    """A sinusoid's draw: the input coordinate it reads, its frequency, and the coefficients of
    its cosine and sine."""

    axis: Int[Array, ""]
    frequency: Float[Array, ""]
    coefficients: Float[Array, " 2"]


class Sinusoid(AbstractPrior):
    """Random sinusoid along a random input axis; see the module docstring for the exact law.

    Attributes:
        dim: input dimension (1 for a 1-D input).
        freq_low: the frequency prior `omega ~ Uniform[freq_low, freq_high]`.
        freq_high: the frequency prior `omega ~ Uniform[freq_low, freq_high]`.
        amplitude_std: standard deviation of `a` and `b`; the output variance is its square.
        noise_std: observation noise `sigma` (0 allowed).
    """

    dim: int = eqx.field(static=True)
    freq_low: float = 0.5
    freq_high: float = 2.0
    amplitude_std: float = 1.0
    noise_std: float = 0.0

    def __check_init__(self) -> None:
        check_positive_int("Sinusoid", "dim", self.dim)
        check_positive("Sinusoid", "freq_low", self.freq_low)
        check_positive("Sinusoid", "freq_high", self.freq_high)
        if self.freq_high < self.freq_low:
            raise invalid(
                "Sinusoid", "freq_high", self.freq_high, f"must be >= freq_low={self.freq_low}"
            )
        check_positive("Sinusoid", "amplitude_std", self.amplitude_std)
        check_nonnegative("Sinusoid", "noise_std", self.noise_std)

    def sample_task(self, key: Key, active_dims: Count) -> SinusoidTask:
        axis_key, freq_key, coef_key = jr.split(key, 3)
        axis = jr.randint(axis_key, (), 0, active_dims)
        frequency = jr.uniform(freq_key, (), minval=self.freq_low, maxval=self.freq_high)
        coefficients = self.amplitude_std * jr.normal(coef_key, (2,))
        return SinusoidTask(axis, frequency, coefficients)

    def evaluate(self, task: SinusoidTask, xs: Xs) -> Ys:
        return sinusoid_features(xs[:, task.axis], task.frequency) @ task.coefficients

    def observation_std(self, task: SinusoidTask) -> Scalar:
        return jnp.asarray(self.noise_std, dtype=task.frequency.dtype)

    def class_index(self, task: SinusoidTask) -> IntScalar:
        return zero_class()

    def relevant_inputs(self, task: SinusoidTask) -> Bool[Array, " dim"]:
        return jnp.arange(self.dim) == task.axis

    def output_variance(self, x: Point, active_dims: Count | None = None) -> Scalar:
        # a^2 sin^2 + b^2 cos^2 in expectation: amplitude_std^2 whatever x, omega and j are.
        return jnp.asarray(self.amplitude_std**2, dtype=x.dtype)

    def with_unit_output_variance(self) -> "AbstractPrior":
        return eqx.tree_at(lambda p: p.amplitude_std, self, 1.0)

    def numpyro_function(self, xs: Xs) -> tuple[Ys, Scalar]:
        axis = uniform_choice("axis", self.dim)
        if self.freq_high > self.freq_low:
            frequency = sample_site("frequency", dist.Uniform(self.freq_low, self.freq_high))
        else:
            frequency = jnp.asarray(numpyro.deterministic("frequency", self.freq_low))
        coefficients = iid_normal("coefficients", self.amplitude_std, (2,))
        features = sinusoid_features(xs[:, axis], frequency)
        return features @ coefficients, jnp.asarray(self.noise_std)


def sinusoid_features(
    coordinate: Float[Array, " n_points"], frequency: Float[Array, ""]
) -> Float[Array, "n_points 2"]:
    """The two features `(sin(omega t), cos(omega t))` on which the class is linear."""
    phase = frequency * coordinate
    return jnp.stack([jnp.sin(phase), jnp.cos(phase)], axis=-1)
