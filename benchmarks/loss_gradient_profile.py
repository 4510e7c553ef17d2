"""Forward and gradient time of the training loss, per model layout, on one pinned thread.

    taskset -c 0 python benchmarks/loss_gradient_profile.py --model small --dim 5 --n-points 11
    taskset -c 0 python benchmarks/loss_gradient_profile.py --model paper --dim 20 --n-points 41

`--layout batched` (what training uses: the model written on the batch) or `--layout vmap`
(`jax.vmap` of the one-prompt model), `--no-attention` drops the attention sublayer to show its
share. Batch 64, float32, milliseconds per call after compilation.
"""

import argparse
import time

from threads import pin_xla_threads

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--model", default="small")
parser.add_argument("--dim", type=int, default=5)
parser.add_argument("--n-points", type=int, default=11)
parser.add_argument("--layout", choices=["batched", "vmap"], default="batched")
parser.add_argument("--no-attention", action="store_true")
parser.add_argument("--repeats", type=int, default=10)
ARGS = parser.parse_args()
pin_xla_threads(1)  # before jax is imported

import equinox as eqx  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import jax.random as jr  # noqa: E402

from icl_theory.model import gpt2  # noqa: E402

if ARGS.no_attention:

    def mlp_only(hidden, block, heads, low=False):
        normed = gpt2._layer_norm(hidden, block.ln2_scale, block.ln2_bias)
        up = gpt2._affine(normed, block.up_weight, block.up_bias, low)
        return hidden + gpt2._affine(
            jax.nn.gelu(up, approximate=True), block.down_weight, block.down_bias, low
        )

    gpt2._block = mlp_only


def milliseconds(function, model):
    jax.block_until_ready(function(model))
    start = time.perf_counter()
    for _ in range(ARGS.repeats):
        jax.block_until_ready(function(model))
    return (time.perf_counter() - start) / ARGS.repeats * 1e3


def main():
    model = gpt2.GPT2(gpt2.preset(ARGS.model, dim=ARGS.dim, max_points=ARGS.n_points), jr.key(0))
    xs = jr.normal(jr.key(1), (64, ARGS.n_points, ARGS.dim))
    ys = jr.normal(jr.key(2), (64, ARGS.n_points))

    def loss(model):
        preds = model.batched(xs, ys) if ARGS.layout == "batched" else jax.vmap(model)(xs, ys)
        return jnp.mean((preds - ys) ** 2)

    forward = milliseconds(eqx.filter_jit(loss), model)
    gradient = milliseconds(eqx.filter_jit(eqx.filter_grad(loss)), model)
    print(
        f"{ARGS.model} d={ARGS.dim} n={ARGS.n_points} layout={ARGS.layout}"
        f"{' no-attention' if ARGS.no_attention else ''}: forward {forward:.1f} ms, "
        f"forward+backward {gradient:.1f} ms"
    )


if __name__ == "__main__":
    main()
