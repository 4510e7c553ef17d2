"""This project's training step against Garg et al.'s own (dtsip/in-context-learning), measured
alternately on the same cores, with the same threads and the same batch.

    python benchmarks/side_by_side.py --dtsip /tmp/dtsip --torch-python /tmp/refvenv/bin/python

(also part of `nox -s benchmark_training`; `benchmarks/dtsip_step.py` says how to set up the
reference). For every thread count (1: pinned to core 0; 2: cores 0 and 1) and configuration,
`--rounds` rounds each time this project's step (`training_speed.py`) and dtsip's
(`dtsip_step.py`), each in a fresh process, the one that goes first alternating between rounds,
so that a drift of the machine's speed hits both alike. A row reports the median of its rounds
and the ratio of the medians. Results: `benchmarks/results/side_by_side.json` and a Markdown
table on standard output.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORES = {1: "0", 2: "0,1"}


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dtsip", required=True, help="a clone of dtsip/in-context-learning")
    parser.add_argument("--torch-python", required=True, help="a Python with torch, transformers")
    parser.add_argument("--configs", default="small,small-deep,medium,paper")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=10.0, help="timing per process")
    parser.add_argument("--precision", default="float32", choices=["float32", "bfloat16"])
    parser.add_argument("--out", default=str(HERE / "results" / "side_by_side.json"))
    return parser.parse_args()


def timed(command: list[str], environment: dict[str, str] | None = None) -> dict:
    """Run one timing process (in `environment`, else this one's); its JSON result (written to
    a temporary file)."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "result.json"
        done = subprocess.run(
            [*command, "--out", str(out)], capture_output=True, text=True, env=environment
        )
        if done.returncode != 0:
            sys.exit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
        return json.loads(out.read_text())


def project(args: argparse.Namespace, config: str, threads: int) -> dict:
    command = ["taskset", "-c", CORES[threads], sys.executable, str(HERE / "training_speed.py")]
    command += ["--configs", config, "--seconds", str(args.seconds)]
    command += ["--precision", args.precision]
    if threads == 1:
        command += ["--threads", "1"]
    result = timed(command)
    return {**result["results"][0], "matmul_peak_gflop_per_s": result["matmul_peak_gflop_per_s"]}


def dtsip(args: argparse.Namespace, config: str, threads: int) -> dict:
    command = ["taskset", "-c", CORES[threads], args.torch_python, str(HERE / "dtsip_step.py")]
    command += ["--dtsip", args.dtsip, "--config", config, "--threads", str(threads)]
    command += ["--seconds", str(args.seconds)]
    return timed(command)


def main() -> None:
    args = parse()
    rows = []
    for threads in (int(t) for t in args.threads.split(",")):
        for config in args.configs.split(","):
            ours, theirs = [], []
            for round_ in range(args.rounds):
                order = [(ours, project), (theirs, dtsip)]
                for results, measure in order if round_ % 2 == 0 else order[::-1]:
                    results.append(measure(args, config, threads))
            row = {
                "config": config,
                "threads": threads,
                "project_steps_per_s": statistics.median(r["steps_per_s"] for r in ours),
                "dtsip_steps_per_s": statistics.median(r["steps_per_s"] for r in theirs),
                "project_gflop_per_s": statistics.median(r["gflop_per_s"] for r in ours),
                "matmul_peak_gflop_per_s": statistics.median(
                    r["matmul_peak_gflop_per_s"] for r in ours
                ),
                "rounds": {"project": ours, "dtsip": theirs},
            }
            row["ratio"] = row["project_steps_per_s"] / row["dtsip_steps_per_s"]
            rows.append(row)
            print(line(row), flush=True)
    sys.path.insert(0, str(HERE.parent))
    from icl_theory.records import provenance, write_json_atomic

    write_json_atomic(
        args.out,
        {
            "command": " ".join([os.path.basename(sys.executable), *sys.argv]),
            "precision": args.precision,
            "rows": rows,
            "provenance": provenance(),
            "time": time.strftime("%Y-%m-%d %H:%M"),
        },
    )
    print("\n" + markdown(rows) + f"\n\nwritten to {args.out}")


def line(row: dict) -> str:
    return (
        f"{row['config']:10s} {row['threads']} thread(s): project {row['project_steps_per_s']:8.3f}"
        f" steps/s, dtsip {row['dtsip_steps_per_s']:8.3f}, ratio {row['ratio']:.2f}x"
    )


def markdown(rows: list[dict]) -> str:
    from icl_theory.tables import Table

    columns = ["config", "threads", "project steps/s", "dtsip steps/s", "project / dtsip"]
    columns += ["project GFLOP/s", "% of the 2048^2 float32 matmul"]
    cells = []
    for r in rows:
        share = 100 * r["project_gflop_per_s"] / r["matmul_peak_gflop_per_s"]
        cells.append(
            [
                f"`{r['config']}`",
                str(r["threads"]),
                f"{r['project_steps_per_s']:.3g}",
                f"{r['dtsip_steps_per_s']:.3g}",
                f"{r['ratio']:.2f}x",
                f"{r['project_gflop_per_s']:.0f}",
                f"{share:.0f} %",
            ]
        )
    return Table(columns, cells, align_numbers=True).to_markdown().rstrip("\n")


if __name__ == "__main__":
    main()
