"""Training steps/s and achieved GFLOP/s of the GPT-2 learner, next to the machine's matmul peak.

    taskset -c 0 python benchmarks/training_speed.py --threads 1
    taskset -c 0,1 python benchmarks/training_speed.py

(also `nox -s benchmark_training`). Configurations: `small` at d = 5, 11 points; `small-deep` at
d = 8, 17 points; `medium` at d = 10, 21 points; `paper` at d = 20, 41 points; batch 64, float32,
dense linear prompts sampled inside the step (as in training), the interleaved token layout
(`--layout paired`: one token per example). Each is compiled, warmed up for one
call, then timed over `--seconds` of calls of `--steps-per-call` steps. FLOPs are counted
analytically (matmuls and attention, forward x 3 for forward + backward; LayerNorm, softmax and
the optimiser are not counted), so GFLOP/s is a lower bound on the work done.
"""

import argparse
import os
import sys
import time

from threads import pin_xla_threads


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=0, help="1 pins XLA to one thread")
    parser.add_argument("--seconds", type=float, default=20.0, help="timing budget per config")
    parser.add_argument("--steps-per-call", type=int, default=0, help="0: per-config default")
    parser.add_argument("--configs", default="small,small-deep,medium,paper")
    parser.add_argument("--precision", default="float32", choices=["float32", "bfloat16"])
    parser.add_argument("--layout", default="interleaved", choices=["interleaved", "paired"])
    parser.add_argument("--out", default="")
    return parser.parse_args()


ARGS = parse()
THREADS = pin_xla_threads(ARGS.threads)  # before jax is imported

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

from icl_theory.model.gpt2 import PRESETS, ModelConfig  # noqa: E402
from icl_theory.priors import build_prior  # noqa: E402
from icl_theory.records import provenance, write_json_atomic  # noqa: E402
from icl_theory.training import TrainConfig, Trainer  # noqa: E402

CONFIGS = {
    "small": {"dim": 5, "n_points": 11, "steps_per_call": 50},
    # What the linear experiments train.
    "small-deep": {"dim": 8, "n_points": 17, "steps_per_call": 20},
    "medium": {"dim": 10, "n_points": 21, "steps_per_call": 10},
    "paper": {"dim": 20, "n_points": 41, "steps_per_call": 2},
}
BATCH = 64


def step_flops(
    name: str, dim: int, n_points: int, batch: int = BATCH, layout: str = "interleaved"
) -> float:
    """Analytic FLOPs of one training step (forward x 3)."""
    width, layers = PRESETS[name]["width"], PRESETS[name]["layers"]
    model = ModelConfig(dim=dim, width=width, layers=layers, layout=layout)  # type: ignore[arg-type]
    tokens = model.tokens(n_points)
    per_layer = 24 * width**2 * tokens + 4 * tokens**2 * width
    forward = layers * per_layer + 2 * model.token_width * width * tokens + 2 * width * n_points
    return 3.0 * batch * forward


def matmul_peak(size: int = 2048, seconds: float = 3.0) -> float:
    a = jnp.ones((size, size), jnp.float32)
    dot = jax.jit(lambda a, b: a @ b)
    dot(a, a).block_until_ready()
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        dot(a, a).block_until_ready()
        count += 1
    return 2 * size**3 * count / (time.perf_counter() - start) / 1e9


def time_config(name: str, settings: dict) -> dict:
    steps_per_call = ARGS.steps_per_call or settings["steps_per_call"]
    config = TrainConfig(
        prior=build_prior("dense", dim=settings["dim"]),
        n_points=settings["n_points"],
        model=name,
        batch_size=BATCH,
        steps=10**9,
        steps_per_call=steps_per_call,
        eval_every=steps_per_call,
        checkpoint_every=steps_per_call,
        warmup_steps=0,
        precision=ARGS.precision,
        layout=ARGS.layout,
    )
    trainer = Trainer(config, jax.devices()[:1])
    state = trainer.init_state()
    start = time.perf_counter()
    state, losses = trainer.run_chunk(state, steps_per_call)
    losses.block_until_ready()
    compile_s = time.perf_counter() - start
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < ARGS.seconds or steps < 2 * steps_per_call:
        state, losses = trainer.run_chunk(state, steps_per_call)
        losses.block_until_ready()
        steps += steps_per_call
    rate = steps / (time.perf_counter() - start)
    flops = step_flops(name, settings["dim"], settings["n_points"], layout=ARGS.layout)
    return {
        "config": name,
        "layout": ARGS.layout,
        "dim": settings["dim"],
        "n_points": settings["n_points"],
        "batch": BATCH,
        "steps_per_call": steps_per_call,
        "compile_and_first_call_s": compile_s,
        "steps_per_s": rate,
        "gflop_per_step": flops / 1e9,
        "gflop_per_s": rate * flops / 1e9,
    }


def main() -> None:
    threads = THREADS
    affinity = sorted(os.sched_getaffinity(0))
    peak = matmul_peak()
    print(f"threads={threads}, cores {affinity}, {jax.devices()[0].platform}")
    print(f"matmul peak (2048^2 float32): {peak:.1f} GFLOP/s")
    rows = []
    for name in ARGS.configs.split(","):
        row = time_config(name, CONFIGS[name])
        row["fraction_of_peak"] = row["gflop_per_s"] / peak
        rows.append(row)
        print(
            f"{name:7s} d={row['dim']:2d} n={row['n_points']:2d}: {row['steps_per_s']:8.2f} "
            f"steps/s  {row['gflop_per_s']:6.1f} GFLOP/s ({100 * row['fraction_of_peak']:.0f}% "
            f"of peak), compile {row['compile_and_first_call_s']:.1f} s"
        )
    layout = "" if ARGS.layout == "interleaved" else f"_{ARGS.layout}"
    out = ARGS.out or f"benchmarks/results/training_speed_threads-{threads}{layout}.json"
    write_json_atomic(
        out,
        {
            "command": " ".join([os.path.basename(sys.executable), *sys.argv]),
            "threads": threads,
            "cores": affinity,
            "matmul_peak_gflop_per_s": peak,
            "results": rows,
            "provenance": provenance(),
        },
    )
    print(f"saved {out}")


if __name__ == "__main__":
    main()
