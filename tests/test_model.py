"""The GPT-2 in-context learner: causality, batching and compilation invariances, parameter
counts against the closed-form count, and that every parameter is used."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from icl_theory.model import GPT2, ModelConfig, parameter_count, preset
from icl_theory.model.gpt2 import interleave, pair
from icl_theory.predictors import predict

CONFIGS = [
    ModelConfig(dim=3, width=16, layers=2, heads=2, max_points=8),
    ModelConfig(dim=1, width=8, layers=1, heads=1, max_points=8, positional="none"),
    ModelConfig(dim=2, width=12, layers=3, heads=3, max_points=8),
    ModelConfig(dim=3, width=16, layers=2, heads=2, max_points=8, layout="paired"),
    ModelConfig(
        dim=1, width=8, layers=1, heads=1, max_points=8, layout="paired", positional="none"
    ),
]
MODELS = [GPT2(config, jr.key(i)) for i, config in enumerate(CONFIGS)]


def prompt(config, seed, n_points=8):
    rng = np.random.default_rng(seed)
    return (
        rng.normal(size=(n_points, config.dim)).astype(np.float32),
        rng.normal(size=(n_points,)).astype(np.float32),
    )


@settings(max_examples=20)
@given(
    index=st.integers(0, len(CONFIGS) - 1), seed=st.integers(0, 10_000), position=st.integers(0, 7)
)
def test_prediction_at_i_ignores_later_tokens(index, seed, position):
    """Both layouts: the prediction for `y_i` depends on `x_<=i` and `y_<i` only (bit for bit),
    and each later prediction on what changed."""
    model, config = MODELS[index], CONFIGS[index]
    xs, ys = prompt(config, seed)
    rng = np.random.default_rng(seed + 1)
    xs2, ys2 = xs.copy(), ys.copy()
    xs2[position + 1 :] += rng.normal(size=xs2[position + 1 :].shape).astype(np.float32)
    ys2[position:] += rng.normal(size=ys2[position:].shape).astype(np.float32)
    before = np.asarray(predict(model, xs[None], ys[None]))[0]
    after = np.asarray(predict(model, xs2[None], ys2[None]))[0]
    np.testing.assert_array_equal(after[: position + 1], before[: position + 1])
    if position < 7:
        assert not np.allclose(after[position + 1 :], before[position + 1 :])


def test_token_layout_is_garg():
    xs = jnp.arange(6.0).reshape(2, 3)
    tokens = interleave(xs, jnp.array([10.0, 20.0]))
    expected = [[0, 1, 2], [10, 0, 0], [3, 4, 5], [20, 0, 0]]
    np.testing.assert_array_equal(tokens, expected)


def test_paired_tokens_carry_the_previous_pair_and_the_query():
    xs = jnp.arange(6.0).reshape(3, 2)
    tokens = pair(xs, jnp.array([10.0, 20.0, 30.0]))
    expected = [[0, 0, 0, 0, 1], [0, 1, 10, 2, 3], [2, 3, 20, 4, 5]]
    np.testing.assert_array_equal(tokens, expected)


def test_the_layouts_see_the_same_information():
    """What the paired model reads at token i is exactly what the interleaved one has seen by
    the token of `x_i`: the same `x_<=i` and `y_<i`, rearranged (no value lost or added)."""
    rng = np.random.default_rng(0)
    xs, ys = jnp.asarray(rng.normal(size=(5, 3))), jnp.asarray(rng.normal(size=5))
    interleaved, paired = interleave(xs, ys), pair(xs, ys)
    for i in range(5):
        seen = np.sort(np.asarray(interleaved[: 2 * i + 1]).ravel())
        read = np.sort(np.asarray(paired[: i + 1]).ravel())
        np.testing.assert_array_equal(np.unique(read[read != 0]), np.unique(seen[seen != 0]))


def test_vmap_equals_loop_and_jit_equals_eager():
    model, config = MODELS[0], CONFIGS[0]
    batch = [prompt(config, seed) for seed in range(4)]
    xs = jnp.stack([b[0] for b in batch])
    ys = jnp.stack([b[1] for b in batch])
    batched = jax.vmap(model)(xs, ys)
    looped = jnp.stack([model(x, y) for x, y in zip(xs, ys, strict=True)])
    np.testing.assert_allclose(batched, looped, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.batched(xs, ys), looped, rtol=1e-5, atol=1e-6)
    jitted = eqx.filter_jit(lambda m, x, y: m(x, y))(model, xs[0], ys[0])
    np.testing.assert_allclose(jitted, model(xs[0], ys[0]), rtol=1e-5, atol=1e-6)


def expected_count(config: ModelConfig) -> int:
    e, layers = config.width, config.layers
    token_width = config.dim if config.layout == "interleaved" else 2 * config.dim + 1
    tokens = 2 * config.max_points - 1 if config.layout == "interleaved" else config.max_points
    read_in = token_width * e + e
    positions = tokens * e if config.positional == "learned" else 0
    # Per block: 2 LayerNorms (4E), qkv (3E^2 + 3E), out (E^2 + E), MLP (8E^2 + 5E).
    blocks = layers * (12 * e * e + 13 * e)
    return read_in + positions + blocks + 2 * e + e + 1


@pytest.mark.parametrize("layout", ["interleaved", "paired"])
@pytest.mark.parametrize("name", ["tiny", "small", "small-deep", "medium", "paper"])
def test_parameter_counts_match_the_closed_form(name, layout):
    config = preset(name, dim=20, max_points=41, layout=layout)
    count = parameter_count(GPT2(config, jr.key(0)))
    assert count == expected_count(config)
    if name == "paper":  # Garg et al. and Yadlowsky et al.: about 9.5M
        assert 9.4e6 < count < 9.6e6


@pytest.mark.parametrize("index", [0, 1, 3, 4])
def test_every_parameter_gets_a_gradient(index):
    """No unused tables: on a full-length prompt every parameter array has a nonzero gradient."""
    model, config = MODELS[index], CONFIGS[index]
    xs, ys = (jnp.asarray(a) for a in prompt(config, 5))

    def loss(model):
        return jnp.sum((model(xs, ys) - ys) ** 2)

    grads = eqx.filter_grad(loss)(model)
    for path, leaf in jax.tree_util.tree_leaves_with_path(eqx.filter(grads, eqx.is_array)):
        if leaf.ndim == 0:
            assert leaf != 0, path
            continue
        rows = leaf.reshape(leaf.shape[0], -1) if leaf.ndim > 1 else leaf[:, None]
        # Every row (every layer of a stacked block, every position of the table) is used.
        assert np.all(np.any(np.asarray(rows) != 0, axis=1)), path


def test_bad_model_configs_name_the_field():
    with pytest.raises(ValueError, match=r"ModelConfig\.heads=3"):
        ModelConfig(dim=2, width=16, heads=3)
    with pytest.raises(ValueError, match=r"model\.preset='huge'"):
        preset("huge", dim=2, max_points=4)
    model = MODELS[0]
    xs, ys = prompt(CONFIGS[0], 0, n_points=9)
    with pytest.raises(ValueError, match="max_points=8"):
        model(jnp.asarray(xs), jnp.asarray(ys))


@pytest.mark.parametrize("name", ["tiny", "small-deep"])
def test_bfloat16_products_change_the_predictions_by_bfloat16_rounding_only(name):
    """The same parameters with bfloat16 matrix products: bfloat16 keeps 8 significant bits, so
    each operand is rounded by at most 2^-9 (0.2%) relative; through the layers, predictions of
    order 0.3-0.4 (the init's spread) move by well under 0.02, and keep float32 and causality."""
    config = preset(name, dim=5, max_points=11)
    low = ModelConfig(**{**config.__dict__, "precision": "bfloat16"})
    xs = jr.normal(jr.key(1), (32, 11, 5))
    ys = jr.normal(jr.key(2), (32, 11))
    full = GPT2(config, jr.key(0)).batched(xs, ys)
    half = GPT2(low, jr.key(0)).batched(xs, ys)
    assert half.dtype == jnp.float32
    assert float(jnp.max(jnp.abs(full - half))) < 0.02
    assert float(jnp.max(jnp.abs(full - half))) > 0  # the products did run in bfloat16
    later = GPT2(low, jr.key(0)).batched(xs, ys.at[:, 5:].set(0.0))
    np.testing.assert_array_equal(half[:, :6], later[:, :6])  # y_5 onwards unseen before x_6
