"""Time full ICL curves (every prefix) of the exact Bayes predictors and of NUTS.

    python benchmarks/bayes_predictors.py [--threads 1] [--prompts 1280] [--out FILE]

(also `nox -s benchmark_bayes`). For each predictor: compile time, then the median of 3 timed
runs over `--prompts` prompts, float64, after `block_until_ready`. NUTS is timed on a few prompts
and scaled linearly to `--prompts` (it is vmapped, so this is what a full run costs per prompt);
its accuracy is its Monte Carlo standard error, reported next to its deviation from the exact
predictor, so the speed-up is at matched (in fact, far better) accuracy for the exact one. The
sinusoid's adaptive quadrature is exact to float64 (tested against independent references in
`tests/test_periodic_bayes.py`), so only its time is measured here. Results are printed and
saved as JSON with provenance.
"""

import argparse
import os
import sys
import time

from threads import pin_xla_threads


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=0, help="1 pins XLA to one thread")
    parser.add_argument("--prompts", type=int, default=1280)
    parser.add_argument("--nuts-prompts", type=int, default=1)
    parser.add_argument("--out", default="benchmarks/results/bayes_predictors.json")
    return parser.parse_args()


ARGS = parse()
THREADS = pin_xla_threads(ARGS.threads)  # before jax is imported

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import jax.random as jr  # noqa: E402
import numpy as np  # noqa: E402

from icl_theory import sample_prompts  # noqa: E402
from icl_theory.predictors import (  # noqa: E402
    NutsPredictor,
    bayes_predictor,
    predict,
)
from icl_theory.priors import (  # noqa: E402
    ConvexCombination,
    DenseLinear,
    Mixture,
    Sinusoid,
    SparseLinear,
)
from icl_theory.records import provenance, write_json_atomic  # noqa: E402

N_POINTS = 41


def prompts(prior, count, seed=0):
    with jax.enable_x64(True):
        sampled = sample_prompts(prior, jr.key(seed), count, N_POINTS)
        return np.asarray(sampled.xs), np.asarray(sampled.ys), np.asarray(sampled.fs)


def timed(function, *args, repeats=3):
    start = time.perf_counter()
    result = jax.block_until_ready(function(*args))
    first = time.perf_counter() - start
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(function(*args))
        times.append(time.perf_counter() - start)
    return np.asarray(result), first, float(np.median(times))


def exact_cases():
    dense = DenseLinear(dim=20)
    sparse2 = SparseLinear(dim=20, k=2)
    return {
        "dense ridge, d=20 (noise-free)": dense,
        "dense ridge, d=20, noise 0.1": DenseLinear(dim=20, noise_std=0.1),
        "sparse enumeration, d=20, k=2 (190 supports)": sparse2,
        "sparse enumeration, d=20, k=3 (1140 supports)": SparseLinear(dim=20, k=3),
        "mixture dense + sparse k=2, d=20": Mixture((dense, sparse2)),
        "sinusoid adaptive quadrature, d=1, noise 0.1": Sinusoid(dim=1, noise_std=0.1),
        "sinusoid roots, d=1 (noise-free)": Sinusoid(dim=1),
        "sinusoid quadrature, d=5, noise 0.1": Sinusoid(dim=5, noise_std=0.1),
        "convex oracle 0.5 linear + 0.5 sinusoid, d=1, noise 0.1": ConvexCombination(
            DenseLinear(dim=1), Sinusoid(dim=1), alpha=0.5, noise_std=0.1
        ),
    }


def main() -> None:
    rows = []
    print(
        f"{ARGS.prompts} prompts x {N_POINTS} positions, float64; jax {jax.__version__}, "
        f"{jax.devices()[0].platform}, threads={THREADS}"
    )
    print(f"{'predictor':58s} {'compile+run s':>13s} {'run s':>8s} {'mse':>10s}")
    for name, prior in exact_cases().items():
        xs, ys, fs = prompts(prior, ARGS.prompts)
        predictor = bayes_predictor(prior)
        preds, first, run = timed(predict, predictor, xs, ys)
        mse = float(np.mean((preds[:, 1:] - fs[:, 1:]) ** 2))
        rows.append({"name": name, "first_s": first, "run_s": run, "mse": mse})
        print(f"{name:58s} {first:13.2f} {run:8.3f} {mse:10.4f}")

    nuts_rows = []
    nuts_cases = {
        "dense ridge, d=20, noise 0.1": DenseLinear(dim=20, noise_std=0.1),
        "sinusoid adaptive quadrature, d=1, noise 0.1": Sinusoid(dim=1, noise_std=0.1),
    }
    for name, prior in nuts_cases.items():
        xs, ys, _ = prompts(prior, ARGS.nuts_prompts)
        nuts = NutsPredictor(prior, num_warmup=500, num_samples=1000, chains=4)
        with jax.enable_x64(True):
            args = (jnp.asarray(xs), jnp.asarray(ys))
            start = time.perf_counter()
            estimate = jax.jit(jax.vmap(nuts.estimate)).lower(*args).compile()
            first = time.perf_counter() - start  # compilation only
            start = time.perf_counter()
            mean, stderr = jax.block_until_ready(estimate(*args))
            run = time.perf_counter() - start
        exact = np.asarray(predict(bayes_predictor(prior), xs, ys))
        deviation = float(np.max(np.abs(np.asarray(mean) - exact)))
        scaled = run * ARGS.prompts / ARGS.nuts_prompts
        exact_run = next(r["run_s"] for r in rows if r["name"] == name)
        nuts_rows.append(
            {
                "name": name,
                "prompts_timed": ARGS.nuts_prompts,
                "compile_s": first,
                "run_s": run,
                "scaled_run_s": scaled,
                "median_stderr": float(np.median(stderr)),
                "max_deviation_from_exact": deviation,
                "speedup_of_exact": scaled / exact_run,
            }
        )
        print(
            f"NUTS {name}: {run:.1f} s for {ARGS.nuts_prompts} prompts -> {scaled:.0f} s for "
            f"{ARGS.prompts}; MC stderr (median) {np.median(stderr):.1e}, max |NUTS - exact| "
            f"{deviation:.1e}; exact is {scaled / exact_run:,.0f}x faster"
        )

    write_json_atomic(
        ARGS.out,
        {
            "command": " ".join([os.path.basename(sys.executable), *sys.argv]),
            "prompts": ARGS.prompts,
            "n_points": N_POINTS,
            "threads": THREADS,
            "exact": rows,
            "nuts": nuts_rows,
            "provenance": provenance(),
        },
    )
    print(f"saved {ARGS.out}")


if __name__ == "__main__":
    main()
