"""Adaptive Gauss-Legendre quadrature over one parameter of a family of hypotheses, for every
prefix of a prompt at once, with an error estimate that drives the refinement.

The integral is `p(y_<i) = int p(omega) p(y_<i | omega) d omega` and the posterior mean
`int p(omega) p(y_<i | omega) m_i(omega) d omega / p(y_<i)` at every position `i`, for a
uniform `p(omega)` on `[low, high]`. Each panel `[a, b]` of the interval is integrated twice:
coarsely (`NODES` Gauss-Legendre nodes on the panel) and finely (`NODES` nodes on each half).
The difference is an estimate of the coarse rule's error; the fine one, which is kept, is far
more accurate where the integrand is smooth on the panel (Gauss-Legendre's error falls as the
panel's width to the power `2 NODES`). Each round splits the `SPLITS` panels of largest
estimated error, until the summed estimate is below `tolerance` (in units of the output scale,
for the mean; relative, for the evidence) at every position, or the panel budget is spent.

Why adaptive: the posterior over a frequency narrows as data arrive and, when the data prefer a
frequency outside the prior's range, piles up against the range's edge within a fraction of a
percent of it. A fixed rule would need that spacing everywhere; refinement spends the nodes
where the integrand concentrates.

Hypotheses are combined with `evidence.combine`, so the noise-free `order` of each node is
respected as in every other exact predictor. Shapes are fixed (a budget of
`INITIAL_PANELS + ROUNDS * SPLITS` panels), so the whole refinement runs under `jit` and `vmap`
(a `while_loop` that stops when every prompt in a batch has converged); the final estimate is
returned, so a caller can check that the budget sufficed (the tests do, on prompts whose
posterior sits at the band's edge).
"""

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float

from icl_theory.predictors.evidence import PrefixPosterior, combine

NODES = 8
INITIAL_PANELS = 16
SPLITS = 8  # panels split per round: 2 * SPLITS = INITIAL_PANELS panels evaluated per round
ROUNDS = 80
TOLERANCE = 1e-10

PerNode = Callable[[Float[Array, ""]], PrefixPosterior]

_UNIT_NODES, _UNIT_WEIGHTS = np.polynomial.legendre.leggauss(NODES)


def _rule_nodes(a, b, dtype):
    """The `NODES` Gauss-Legendre nodes on `[a, b]`."""
    return 0.5 * (a + b) + 0.5 * (b - a) * jnp.asarray(_UNIT_NODES, dtype)


def _panel(per_node: PerNode, a, b, dtype):
    """The fine estimate of one panel (Gauss-Legendre on each half) and the coarse one (on the
    whole), each the posterior given that the parameter lies in the panel (uniform there). The
    three rules' nodes go through `per_node` in one `vmap`, so it is traced once."""
    mid = 0.5 * (a + b)
    nodes = jnp.concatenate(
        [_rule_nodes(a, mid, dtype), _rule_nodes(mid, b, dtype), _rule_nodes(a, b, dtype)]
    )
    values = jax.vmap(per_node)(nodes)
    log_weights = jnp.log(0.5 * jnp.asarray(_UNIT_WEIGHTS, dtype))

    def rule(index: int) -> PrefixPosterior:
        part = jax.tree.map(lambda x: x[index * NODES : (index + 1) * NODES], values)
        return combine(log_weights, part.mean, part.order, part.log_density).posterior

    left, right, coarse = rule(0), rule(1), rule(2)
    fine = combine(
        jnp.full((2,), jnp.log(0.5), dtype),
        jnp.stack([left.mean, right.mean]),
        jnp.stack([left.order, right.order]),
        jnp.stack([left.log_density, right.log_density]),
    ).posterior
    return fine, coarse


def _errors(
    fine: PrefixPosterior,
    coarse: PrefixPosterior,
    log_mass: Float[Array, " panels"],
    scale,
    checked: Bool[Array, " n_points"],
) -> tuple[Float[Array, " panels"], Float[Array, ""]]:
    """Each panel's estimated error (the largest over positions) and the total's, against the
    current whole-interval posterior: the change of the posterior mean (over `scale`) and of
    the evidence (relative) if the panel's coarse estimate replaced its fine one. `log_mass`:
    each panel's prior probability (`-inf` for unused slots)."""
    active = jnp.isfinite(log_mass)
    total = _union(log_mass, fine)
    top_order = total.posterior.order[None, :]
    log_total = total.posterior.log_density[None, :]
    fitted = jnp.isfinite(log_total)

    def share(part: PrefixPosterior) -> Float[Array, "panels n_points"]:
        usable = active[:, None] & (part.order == top_order) & fitted
        relative = log_mass[:, None] + part.log_density - jnp.where(fitted, log_total, 0.0)
        exponent = jnp.where(usable, relative, -jnp.inf)
        return jnp.exp(exponent)

    # Orders that differ between the two estimates of a panel mean the coarse rule missed (or
    # invented) an exactly fitting node: that panel is refined first.
    order_mismatch = active[:, None] & (fine.order != coarse.order) & fitted
    fine_share, coarse_share = share(fine), share(coarse)
    mean = total.posterior.mean[None, :]
    mean_error = jnp.abs(
        fine_share * jnp.nan_to_num(fine.mean - mean)
        - coarse_share * jnp.nan_to_num(coarse.mean - mean)
    )
    evidence_error = jnp.abs(fine_share - coarse_share)
    per_position = mean_error / scale + evidence_error + jnp.where(order_mismatch, jnp.inf, 0.0)
    per_position = jnp.where(checked[None, :], per_position, 0.0)
    per_panel = jnp.where(active, jnp.max(per_position, axis=1), 0.0)
    total_error = jnp.max(jnp.sum(jnp.where(active[:, None], per_position, 0.0), axis=0))
    return per_panel, total_error


def adaptive_posterior(
    per_node: PerNode,
    low: float,
    high: float,
    scale: Float[Array, ""],
    checked: Bool[Array, " n_points"],
    tolerance: float = TOLERANCE,
) -> tuple[PrefixPosterior, Float[Array, ""]]:
    """The posterior with the parameter integrated out over `[low, high]` (uniform prior), and
    the final estimated error (below `tolerance` unless the panel budget ran out).

    Args:
        per_node: `omega -> PrefixPosterior` given that value of the parameter.
        low: the uniform prior's range (`low < high`).
        high: the uniform prior's range (`low < high`).
        scale: the output scale against which the mean's error is measured (its dtype is the
            computation's).
        checked: the positions whose error drives the refinement (positions decided by other
            means, e.g. noise-free roots, are left out).
        tolerance: target for the summed error estimate.
    """
    dtype = scale.dtype
    capacity = INITIAL_PANELS + ROUNDS * SPLITS
    edges = jnp.linspace(low, high, INITIAL_PANELS + 1, dtype=dtype)
    # One evaluation of `2 * SPLITS` panels per round, the first round's being the initial
    # panels: the per-node computation is traced once, which halves the compilation.
    evaluate = jax.vmap(lambda a, b: _panel(per_node, a, b, dtype))
    shapes = jax.eval_shape(evaluate, edges[:-1], edges[1:])
    empty = jax.tree.map(lambda x: jnp.zeros((capacity, *x.shape[1:]), x.dtype), shapes)
    nowhere = jnp.full((capacity,), low, dtype)
    inactive = jnp.zeros((capacity,), bool)
    errors = jnp.zeros((capacity,), dtype)
    state = (
        nowhere,
        nowhere,
        inactive,
        *empty,
        errors,
        jnp.asarray(jnp.inf, dtype),
        jnp.asarray(0),
    )

    def masses(left, right, active):
        return jnp.where(active, jnp.log((right - left) / (high - low)), -jnp.inf)

    def unfinished(state) -> Bool[Array, ""]:
        *_, total_error, rounds = state
        return (rounds == 0) | ((total_error > tolerance) & (rounds <= ROUNDS))

    def refine(state):
        left, right, active, fine, coarse, errors, _, rounds = state
        _, chosen = jax.lax.top_k(errors, SPLITS)
        a, b = left[chosen], right[chosen]
        mid = 0.5 * (a + b)
        slots = INITIAL_PANELS + (rounds - 1) * SPLITS + jnp.arange(SPLITS)
        first = rounds == 0
        lows = jnp.where(first, edges[:-1], jnp.concatenate([a, mid]))
        highs = jnp.where(first, edges[1:], jnp.concatenate([mid, b]))
        targets = jnp.where(first, jnp.arange(INITIAL_PANELS), jnp.concatenate([chosen, slots]))
        new_fine, new_coarse = evaluate(lows, highs)
        left, right = left.at[targets].set(lows), right.at[targets].set(highs)
        active = active.at[targets].set(True)
        fine = jax.tree.map(lambda old, new: old.at[targets].set(new), fine, new_fine)
        coarse = jax.tree.map(lambda old, new: old.at[targets].set(new), coarse, new_coarse)
        errors, total_error = _errors(fine, coarse, masses(left, right, active), scale, checked)
        return left, right, active, fine, coarse, errors, total_error, rounds + 1

    left, right, active, fine, _, _, total_error, _ = jax.lax.while_loop(unfinished, refine, state)
    return _union(masses(left, right, active), fine).posterior, total_error


def _union(log_mass: Float[Array, " panels"], panels: PrefixPosterior):
    """The posterior over the whole range from the panels' (unused slots hold no evidence: a
    zero there would count as a fitting hypothesis of zero prior mass)."""
    log_density = jnp.where(jnp.isfinite(log_mass)[:, None], panels.log_density, -jnp.inf)
    return combine(log_mass, panels.mean, panels.order, log_density)


__all__ = ["adaptive_posterior"]
