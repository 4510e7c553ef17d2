"""Time the exact Bayes predictors that integrate over a frequency (sinusoid, convex oracle), in
and out of the band: compile + first run, then the median of 3 runs, float64.

    python benchmarks/frequency_quadrature.py [--prompts 256] [--out FILE]

Uses only the public API, so the same file times an older checkout (`PYTHONPATH=OLD python
benchmarks/frequency_quadrature.py --out OLD.json`) for a before/after comparison in one
sitting. Results are printed and saved as JSON with provenance.
"""

import argparse
import json
import time

import jax
import jax.random as jr
import numpy as np

from icl_theory import sample_prompts
from icl_theory.predictors import bayes_predictor, predict
from icl_theory.priors import ConvexCombination, DenseLinear, Sinusoid
from icl_theory.records import provenance

N_POINTS = 41


def cases() -> dict:
    band = Sinusoid(dim=1, noise_std=0.1)
    return {
        "sinusoid d=1, noise 0.1, in band": (band, band),
        "sinusoid d=1, noise 0.1, data at frequency 3-6": (
            band,
            Sinusoid(dim=1, noise_std=0.1, freq_low=3.0, freq_high=6.0),
        ),
        "sinusoid d=1, noise-free": (Sinusoid(dim=1), Sinusoid(dim=1)),
        "convex 0.5 linear + 0.5 sinusoid, d=1, noise 0.1": (
            ConvexCombination(DenseLinear(dim=1), Sinusoid(dim=1), alpha=0.5, noise_std=0.1),
        )
        * 2,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prompts", type=int, default=256)
    parser.add_argument("--out", default="benchmarks/results/frequency_quadrature.json")
    arguments = parser.parse_args()
    rows = []
    for name, (prior, data) in cases().items():
        with jax.enable_x64(True):
            drawn = sample_prompts(data, jr.key(0), arguments.prompts, N_POINTS)
            xs, ys = np.asarray(drawn.xs), np.asarray(drawn.ys)
        predictor = bayes_predictor(prior)
        start = time.perf_counter()
        jax.block_until_ready(predict(predictor, xs, ys))
        first = time.perf_counter() - start
        times = []
        for _ in range(3):
            start = time.perf_counter()
            jax.block_until_ready(predict(predictor, xs, ys))
            times.append(time.perf_counter() - start)
        rows.append({"name": name, "first_s": first, "run_s": float(np.median(times))})
        print(f"{name:52s} compile+run {first:7.2f} s   run {rows[-1]['run_s']:7.3f} s")
    record = {"prompts": arguments.prompts, "n_points": N_POINTS, "rows": rows}
    with open(arguments.out, "w") as file:
        json.dump(record | {"provenance": provenance()}, file, indent=2)


if __name__ == "__main__":
    main()
