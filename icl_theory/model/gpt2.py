"""A GPT-2-style decoder that reads a prompt and predicts every `y_i` (Garg et al. 2022).

Tokens (`layout`):
- `interleaved` (Garg et al.'s, the default): `x_1, (y_1, 0, ..., 0), x_2, (y_2, 0, ..., 0), ...`,
  each of width `dim`, `2n - 1` tokens; the prediction for `y_i` is read at the token of `x_i`.
- `paired`: one token per example, token `i` = `(x_{i-1}, y_{i-1}, x_i)` (the previous pair,
  complete, and the current query; zeros in place of the pair for `i = 1`), of width
  `2 dim + 1`, `n` tokens; the prediction for `y_i` is read at token `i`. It carries the same
  information to each prediction in half the tokens.

Either way the token a prediction is read at sees `x_<=i` and `y_<i` only, so the model is a
predictor in the sense of `icl_theory.predictors` (one prompt in, `(n,)` out). Then: a linear
read-in to width `E`, learned positional embeddings (or none), pre-LayerNorm blocks of causal
multi-head self-attention and a 4x GELU MLP, a final LayerNorm and a linear read-out to a
scalar.

Layout for speed (its measurements: `docs/performance.md`): the model is written on a batch
(`batched`; `__call__` is the one-prompt view), so each weight gradient is one matmul over batch
and tokens; the blocks' parameters are stacked along a leading layer axis and applied by a fully
unrolled `lax.scan`; the three attention projections are one `(E, 3E)` matmul; attention runs on
all heads at once.
"""

import math
from dataclasses import dataclass
from typing import Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Float

from icl_theory._types import Key, Preds, Xs, Ys
from icl_theory._validation import check_positive_int, did_you_mean, invalid
from icl_theory.predictors.base import AbstractPredictor

Positional = Literal["learned", "none"]
Layout = Literal["interleaved", "paired"]
# "bfloat16": the matrix products read bfloat16 copies of their operands and accumulate in
# float32; parameters, layer norms, softmax, residuals and the optimiser stay float32.
Precision = Literal["float32", "bfloat16"]
LAYER_NORM_EPS = 1e-5
INIT_STD = 0.02  # GPT-2's initialisation scale


@dataclass(frozen=True)
class ModelConfig:
    """The architecture. `max_points` sizes the positional table (`tokens(max_points)` rows:
    for the interleaved layout `2 * max_points - 1`, the last `y` is never read)."""

    dim: int
    width: int = 64
    layers: int = 3
    heads: int = 2
    max_points: int = 41
    positional: Positional = "learned"
    precision: Precision = "float32"
    layout: Layout = "interleaved"

    @property
    def token_width(self) -> int:
        """The width of a token before the read-in."""
        return self.dim if self.layout == "interleaved" else 2 * self.dim + 1

    def tokens(self, n_points: int) -> int:
        """Tokens of a prompt of `n_points` examples."""
        return 2 * n_points - 1 if self.layout == "interleaved" else n_points

    def __post_init__(self) -> None:
        for field in ("dim", "width", "layers", "heads", "max_points"):
            check_positive_int("ModelConfig", field, getattr(self, field))
        if self.width % self.heads:
            raise invalid("ModelConfig", "heads", self.heads, f"must divide width={self.width}")
        if self.positional not in ("learned", "none"):
            raise invalid("ModelConfig", "positional", self.positional, "is 'learned' or 'none'")
        if self.precision not in ("float32", "bfloat16"):
            raise invalid("ModelConfig", "precision", self.precision, "is 'float32' or 'bfloat16'")
        if self.layout not in ("interleaved", "paired"):
            raise invalid("ModelConfig", "layout", self.layout, "is 'interleaved' or 'paired'")


PRESETS: dict[str, dict[str, int]] = {
    "tiny": {"width": 32, "layers": 2, "heads": 2},
    "small": {"width": 64, "layers": 3, "heads": 2},
    # Twice the depth of `small` at the same width: on dense d = 8 regression (17 points) the
    # 3-layer model's normalised training loss crept from 0.376 (steps 5-6k) to 0.326 (23-24k),
    # 0.229 at 8 examples; this one was at 0.305 by steps 5-6k and 0.278 by 17-18k (0.071 at 8).
    "small-deep": {"width": 64, "layers": 6, "heads": 2},
    "medium": {"width": 128, "layers": 6, "heads": 4},
    "paper": {"width": 256, "layers": 12, "heads": 8},
}
"""Named architectures: width, layers and attention heads (`preset`)."""


def preset(
    name: str,
    *,
    dim: int,
    max_points: int,
    positional: Positional = "learned",
    precision: Precision = "float32",
    layout: Layout = "interleaved",
) -> ModelConfig:
    """A named architecture (`tiny`, `small`, `small-deep`, `medium`, `paper`) for inputs of
    size `dim`."""
    if name not in PRESETS:
        raise invalid(
            "model", "preset", name, f"is one of {sorted(PRESETS)}{did_you_mean(name, PRESETS)}"
        )
    return ModelConfig(
        dim=dim,
        max_points=max_points,
        positional=positional,
        precision=precision,
        layout=layout,
        **PRESETS[name],
    )


class Blocks(eqx.Module):
    """The transformer blocks' parameters, each stacked along a leading `layers` axis."""

    ln1_scale: Float[Array, "layers width"]
    ln1_bias: Float[Array, "layers width"]
    qkv_weight: Float[Array, "layers width 3*width"]
    qkv_bias: Float[Array, "layers 3*width"]
    out_weight: Float[Array, "layers width width"]
    out_bias: Float[Array, "layers width"]
    ln2_scale: Float[Array, "layers width"]
    ln2_bias: Float[Array, "layers width"]
    up_weight: Float[Array, "layers width 4*width"]
    up_bias: Float[Array, "layers 4*width"]
    down_weight: Float[Array, "layers 4*width width"]
    down_bias: Float[Array, "layers width"]


class GPT2(AbstractPredictor):
    """The in-context learner; see the module docstring. Build with `GPT2(config, key)`."""

    read_in_weight: Float[Array, "token_width width"]
    read_in_bias: Float[Array, " width"]
    positions: Float[Array, "tokens width"] | None
    blocks: Blocks
    final_scale: Float[Array, " width"]
    final_bias: Float[Array, " width"]
    read_out_weight: Float[Array, " width"]
    read_out_bias: Float[Array, ""]
    config: ModelConfig = eqx.field(static=True)

    def __init__(self, config: ModelConfig, key: Key):
        e, n_layers = config.width, config.layers
        keys = jr.split(key, 6)

        def normal(k, shape, std=INIT_STD):
            return std * jr.normal(k, shape)

        def torch_linear(k, fan_in, shape):
            # Garg et al.'s read-in and read-out are plain `torch.nn.Linear` layers outside the
            # HuggingFace backbone, so they keep PyTorch's default U(+-1/sqrt(fan_in)) init, not
            # GPT-2's N(0, 0.02). It matters: with 0.02 the `small` model sat on the
            # zero-prediction plateau for all 5,000 steps of dense d = 5 regression.
            bound = 1.0 / math.sqrt(fan_in)
            return jr.uniform(k, shape, minval=-bound, maxval=bound)

        # GPT-2 scales the projections that write into the residual stream by 1/sqrt(2 layers).
        residual_std = INIT_STD / math.sqrt(2 * n_layers)
        token_width = config.token_width
        self.read_in_weight = torch_linear(keys[0], token_width, (token_width, e))
        self.read_in_bias = torch_linear(keys[4], token_width, (e,))
        self.positions = (
            normal(keys[1], (config.tokens(config.max_points), e))
            if config.positional == "learned"
            else None
        )
        block_keys = jr.split(keys[2], 4)
        self.blocks = Blocks(
            ln1_scale=jnp.ones((n_layers, e)),
            ln1_bias=jnp.zeros((n_layers, e)),
            qkv_weight=normal(block_keys[0], (n_layers, e, 3 * e)),
            qkv_bias=jnp.zeros((n_layers, 3 * e)),
            out_weight=normal(block_keys[1], (n_layers, e, e), residual_std),
            out_bias=jnp.zeros((n_layers, e)),
            ln2_scale=jnp.ones((n_layers, e)),
            ln2_bias=jnp.zeros((n_layers, e)),
            up_weight=normal(block_keys[2], (n_layers, e, 4 * e)),
            up_bias=jnp.zeros((n_layers, 4 * e)),
            down_weight=normal(block_keys[3], (n_layers, 4 * e, e), residual_std),
            down_bias=jnp.zeros((n_layers, e)),
        )
        self.final_scale = jnp.ones((e,))
        self.final_bias = jnp.zeros((e,))
        self.read_out_weight = torch_linear(keys[3], e, (e,))
        self.read_out_bias = torch_linear(keys[5], e, ())
        self.config = config

    def __call__(self, xs: Xs, ys: Ys) -> Preds:
        return self.batched(xs[None], ys[None])[0]

    def batched(
        self, xs: Float[Array, "batch n_points dim"], ys: Float[Array, "batch n_points"]
    ) -> Float[Array, "batch n_points"]:
        """Predictions for a batch of prompts: equal to `jax.vmap(self)`, and what training
        differentiates (see the module docstring for why)."""
        _, n_points, dim = xs.shape
        if dim != self.config.dim:
            raise invalid("GPT2", "xs", f"dim {dim}", f"the model reads dim={self.config.dim}")
        if n_points > self.config.max_points:
            raise invalid(
                "GPT2",
                "xs",
                f"{n_points} points",
                f"the positional table holds max_points={self.config.max_points}; build the "
                "model with a larger max_points or positional='none'",
            )
        interleaved = self.config.layout == "interleaved"
        # The last y token would only inform predictions after the prompt ends: dropped, so that
        # no parameter (its positional row) goes untrained and no compute is wasted.
        tokens = jax.vmap(interleave)(xs, ys)[:, :-1] if interleaved else jax.vmap(pair)(xs, ys)
        low = self.config.precision == "bfloat16"
        hidden = _affine(tokens, self.read_in_weight, self.read_in_bias, low)
        if self.positions is not None:
            hidden = hidden + self.positions[None, : self.config.tokens(n_points)]
        hidden, _ = jax.lax.scan(
            lambda h, block: (_block(h, block, self.config.heads, low), None),
            hidden,
            self.blocks,
            unroll=True,
        )
        read = hidden[:, ::2] if interleaved else hidden  # the tokens of the queries
        hidden = _layer_norm(read, self.final_scale, self.final_bias)
        return hidden @ self.read_out_weight + self.read_out_bias


def interleave(xs: Xs, ys: Ys) -> Float[Array, "tokens dim"]:
    """Garg et al.'s token sequence: `x_1, (y_1, 0, ..., 0), x_2, ...`."""
    y_tokens = jnp.zeros_like(xs).at[:, 0].set(ys)
    return jnp.stack([xs, y_tokens], axis=1).reshape(2 * xs.shape[0], xs.shape[1])


def pair(xs: Xs, ys: Ys) -> Float[Array, "n_points 2*dim+1"]:
    """The paired layout's tokens: token `i` is `(x_{i-1}, y_{i-1}, x_i)`, zeros for the pair
    before the first query."""
    previous_xs = jnp.concatenate([jnp.zeros_like(xs[:1]), xs[:-1]])
    previous_ys = jnp.concatenate([jnp.zeros_like(ys[:1]), ys[:-1]])
    return jnp.concatenate([previous_xs, previous_ys[:, None], xs], axis=1)


def parameter_count(model: GPT2) -> int:
    """The number of trained parameters (array entries) of a model."""
    return sum(leaf.size for leaf in jax.tree.leaves(eqx.filter(model, eqx.is_array)))


def _affine(x: Array, weight: Array, bias: Array, low: bool = False) -> Array:
    """`x @ weight + bias` over the last axis of a `(batch, tokens, features)` array, as one
    2-D matmul (`low`: bfloat16 operands, float32 accumulation)."""
    batch, tokens, features = x.shape
    flat = _matmul(x.reshape(batch * tokens, features), weight, low) + bias[None]
    return flat.reshape(batch, tokens, weight.shape[1])


def _layer_norm(x: Array, scale: Array, bias: Array) -> Array:
    mean = jnp.mean(x, axis=-1, keepdims=True)
    variance = jnp.mean((x - mean) ** 2, axis=-1, keepdims=True)
    return (x - mean) * jax.lax.rsqrt(variance + LAYER_NORM_EPS) * scale[None, None] + bias[
        None, None
    ]


def _matmul(a: Array, b: Array, low: bool) -> Array:
    if not low:
        return a @ b
    bf16 = jnp.bfloat16
    return jnp.matmul(a.astype(bf16), b.astype(bf16), preferred_element_type=jnp.float32)


def _einsum(spec: str, a: Array, b: Array, low: bool) -> Array:
    if not low:
        return jnp.einsum(spec, a, b)
    bf16 = jnp.bfloat16
    return jnp.einsum(spec, a.astype(bf16), b.astype(bf16), preferred_element_type=jnp.float32)


def _block(hidden: Array, block: Blocks, heads: int, low: bool = False) -> Array:
    """One pre-LayerNorm block on a `(batch, tokens, width)` array."""
    batch, tokens, width = hidden.shape
    head_dim = width // heads
    normed = _layer_norm(hidden, block.ln1_scale, block.ln1_bias)
    qkv = _affine(normed, block.qkv_weight, block.qkv_bias, low)
    qkv = qkv.reshape(batch, tokens, 3, heads, head_dim)
    query, key, value = qkv[:, :, 0], qkv[:, :, 1], qkv[:, :, 2]
    scores = _einsum("bthd,bshd->bhts", query, key, low) / math.sqrt(head_dim)
    causal = jnp.tril(jnp.ones((tokens, tokens), dtype=bool))
    scores = jnp.where(causal[None, None], scores, jnp.finfo(scores.dtype).min)
    attention = jax.nn.softmax(scores, axis=-1)
    mixed = _einsum("bhts,bshd->bthd", attention, value, low).reshape(batch, tokens, width)
    hidden = hidden + _affine(mixed, block.out_weight, block.out_bias, low)
    normed = _layer_norm(hidden, block.ln2_scale, block.ln2_bias)
    up = jax.nn.gelu(_affine(normed, block.up_weight, block.up_bias, low), approximate=True)
    return hidden + _affine(up, block.down_weight, block.down_bias, low)
