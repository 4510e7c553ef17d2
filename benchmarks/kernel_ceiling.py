"""The physical limit a training step is judged against: matrix-product GFLOP/s at the shapes a
step runs, for every kernel library within reach, on 1 and 2 threads.

    python benchmarks/kernel_ceiling.py [--torch-python /tmp/refvenv/bin/python]

(also part of `nox -s benchmark_training`). Each kernel runs in its own process, pinned with
`taskset` to one core or to both, because XLA's flags are read once per process:
- `xla`: a jitted `x @ y` in float32, XLA's default CPU kernels;
- `xla-onednn`, `xla-onednn-custom-call`: the same with `--xla_cpu_use_onednn=true` or
  `--xla_cpu_experimental_onednn_custom_call=true` (the oneDNN options this jaxlib has);
- `xla-bf16`: bfloat16 inputs with float32 accumulation (`preferred_element_type`), the
  mixed-precision option (`TrainConfig.precision = "bfloat16"`);
- `numpy`: numpy's BLAS, named by threadpoolctl;
- `torch`, `torch-bf16`: PyTorch's CPU kernels (with `--torch-python`, a Python with torch).

Shapes (rows x inner x columns): the square 2048 x 2048 product, and the largest products of a
`small-deep` and a `paper` step at batch 64 (rows = 64 prompts x (2 n - 1) tokens: the MLP's
up-projection width -> 4 width, and the attention input projection width -> 3 width). Each is
timed for `--seconds` after a warm-up; the table is written to
`benchmarks/results/kernel_ceiling.json` and printed as Markdown.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

SHAPES = {
    "square 2048": (2048, 2048, 2048),
    "small-deep MLP (2112 x 64 x 256)": (64 * 33, 64, 256),
    "paper MLP (5184 x 256 x 1024)": (64 * 81, 256, 1024),
    "paper QKV (5184 x 256 x 768)": (64 * 81, 256, 768),
}
XLA_FLAGS = {
    "xla": "",
    "xla-onednn": "--xla_cpu_use_onednn=true",
    "xla-onednn-custom-call": "--xla_cpu_experimental_onednn_custom_call=true",
    "xla-bf16": "",
}
KERNELS = [*XLA_FLAGS, "numpy", "torch", "torch-bf16"]
CORES = {1: "0", 2: "0,1"}


def time_product(product, a, b, seconds: float) -> float:
    """GFLOP/s of `product(a, b)` (which blocks until done)."""
    rows, inner = a.shape
    columns = b.shape[1]
    for _ in range(2):
        product(a, b)
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds or count < 3:
        product(a, b)
        count += 1
    return 2.0 * rows * inner * columns * count / (time.perf_counter() - start) / 1e9


def worker(kernel: str, threads: int, seconds: float) -> dict:
    """Runs in the kernel's own process: GFLOP/s per shape, and what library did the work."""
    if kernel.startswith("xla"):
        flags = XLA_FLAGS[kernel] + (" --xla_cpu_multi_thread_eigen=false" if threads == 1 else "")
        os.environ["XLA_FLAGS"] = flags.strip()
        import jax
        import jax.numpy as jnp

        dtype = jnp.bfloat16 if kernel == "xla-bf16" else jnp.float32
        dot = jax.jit(lambda x, y: jnp.dot(x, y, preferred_element_type=jnp.float32))

        def product(x, y):
            dot(x, y).block_until_ready()

        def arrays(rows, inner, columns):
            keys = jax.random.split(jax.random.key(0))
            return (
                jax.random.normal(keys[0], (rows, inner)).astype(dtype),
                jax.random.normal(keys[1], (inner, columns)).astype(dtype),
            )

        # The kernel's own option; one-thread runs add XLA's thread-pool flag to it.
        library = f"jax {jax.__version__}, XLA_FLAGS={XLA_FLAGS[kernel]!r}"
    elif kernel == "numpy":
        import numpy as np
        from threadpoolctl import threadpool_info, threadpool_limits

        threadpool_limits(threads)
        blas = [
            f"{i['internal_api']} {i['version']} ({i.get('architecture')})"
            for i in threadpool_info()
        ]
        library = f"numpy {np.__version__}: " + ", ".join(blas)

        def product(x, y):
            x @ y

        def arrays(rows, inner, columns):
            rng = np.random.default_rng(0)
            return (
                rng.standard_normal((rows, inner), dtype=np.float32),
                rng.standard_normal((inner, columns), dtype=np.float32),
            )
    else:
        import torch

        torch.set_num_threads(threads)
        dtype = torch.bfloat16 if kernel == "torch-bf16" else torch.float32
        library = f"torch {torch.__version__}: {torch.backends.cpu.get_cpu_capability()}"

        def product(x, y):
            x @ y

        def arrays(rows, inner, columns):
            generator = torch.Generator().manual_seed(0)
            return (
                torch.randn(rows, inner, generator=generator).to(dtype),
                torch.randn(inner, columns, generator=generator).to(dtype),
            )

    results = {
        name: time_product(product, *arrays(*shape), seconds) for name, shape in SHAPES.items()
    }
    return {"kernel": kernel, "threads": threads, "library": library, "gflop_per_s": results}


def cpu() -> str:
    """The CPU's model and the vector instruction sets a matrix kernel can use."""
    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in info.splitlines()
            if line.startswith("model name")
        ),
        "unknown CPU",
    )
    flags = set(
        next(
            (
                line.split(":", 1)[1].split()
                for line in info.splitlines()
                if line.startswith("flags")
            ),
            [],
        )
    )
    wanted = ["avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_bf16"]
    return f"{model}; " + ", ".join(f for f in wanted if f in flags)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="timing per shape")
    parser.add_argument("--torch-python", default="", help="a Python with torch (skipped if none)")
    parser.add_argument("--out", default="benchmarks/results/kernel_ceiling.json")
    parser.add_argument("--worker", default="", help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.threads, args.seconds)))
        return
    rows = []
    for threads, kernel in ((t, k) for t in CORES for k in KERNELS):
        python = args.torch_python if kernel.startswith("torch") else sys.executable
        if not python:
            continue
        command = ["taskset", "-c", CORES[threads], python, __file__, "--worker", kernel]
        command += ["--threads", str(threads), "--seconds", str(args.seconds)]
        done = subprocess.run(command, capture_output=True, text=True, env=os.environ.copy())
        if done.returncode != 0:
            print(
                f"{kernel} on {threads} thread(s) failed:\n{done.stderr[-2000:]}", file=sys.stderr
            )
            continue
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(markdown(rows) + f"\n- CPU: {cpu()}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    result = {"shapes": SHAPES, "cpu": cpu(), "rows": rows, "time": time.strftime("%Y-%m-%d %H:%M")}
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")


def markdown(rows: list[dict]) -> str:
    from icl_theory.tables import Table

    cells = [
        [row["kernel"], str(row["threads"]), *(f"{row['gflop_per_s'][n]:.0f}" for n in SHAPES)]
        for row in rows
    ]
    table = Table(["kernel", "threads", *SHAPES], cells, align_numbers=True)
    lines = [table.to_markdown()]
    lines += sorted({f"- `{row['kernel']}`: {row['library']}" for row in rows})
    return "\n".join(lines)


if __name__ == "__main__":
    main()
