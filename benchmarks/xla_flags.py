"""Training steps/s under XLA:CPU's optional code paths, against the default, on one pinned thread.

    taskset -c 0 python benchmarks/xla_flags.py

For each set of `XLA_FLAGS` below, `training_speed.py --threads 1` times `small-deep` and `medium`
in a fresh process (flags are read once, when XLA starts). This virtual machine's speed drifts
by several percent within minutes, so every flag set runs once per round, the order reversed
from one round to the next, and a row reports the median of its rounds; the spread of the
default's own rounds is the noise floor a flag has to beat. Results:
`benchmarks/results/xla_flags.json` and a Markdown table on standard output.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

from side_by_side import timed

HERE = Path(__file__).resolve().parent
FLAG_SETS = [
    "",
    "--xla_cpu_use_xnnpack=true",
    "--xla_cpu_experimental_xnn_fusion_type=dot",
    "--xla_cpu_experimental_xnn_fusion_type=dot,eltwise,reduce",
    "--xla_cpu_experimental_ynn_fusion_type=dot",
    "--xla_cpu_experimental_ynn_fusion_type=dot,eltwise,reduce",
    "--xla_cpu_experimental_onednn_fusion_type=dot",
    "--xla_cpu_use_onednn=true",
    "--xla_cpu_prefer_vector_width=512",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--configs", default="small-deep,medium")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", default=str(HERE / "results" / "xla_flags.json"))
    args = parser.parse_args()
    runs: dict[str, list[dict[str, float]]] = {flags: [] for flags in FLAG_SETS}
    for round_ in range(args.rounds):
        for flags in FLAG_SETS if round_ % 2 == 0 else FLAG_SETS[::-1]:
            speeds = time_flags(flags, args)
            runs[flags].append(speeds)
            shown = "  ".join(f"{c} {v:.2f}" for c, v in speeds.items())
            print(f"round {round_ + 1} {flags or '(default)':60s} {shown}", flush=True)
    rows = [
        {
            "flags": flags,
            "rounds": rounds,
            "steps_per_s": {c: statistics.median(r[c] for r in rounds) for c in rounds[0]},
        }
        for flags, rounds in runs.items()
    ]
    sys.path.insert(0, str(HERE.parent))
    from icl_theory.records import provenance, write_json_atomic

    write_json_atomic(
        args.out,
        {
            "command": " ".join(sys.argv),
            "rows": rows,
            "provenance": provenance(),
            "time": time.strftime("%Y-%m-%d %H:%M"),
        },
    )
    print("\n" + markdown(rows, args.configs.split(",")) + f"\n\nwritten to {args.out}")


def time_flags(flags: str, args: argparse.Namespace) -> dict[str, float]:
    """Steps/s per configuration with these `XLA_FLAGS`, in a fresh process."""
    command = [sys.executable, str(HERE / "training_speed.py"), "--threads", "1"]
    command += ["--configs", args.configs, "--seconds", str(args.seconds)]
    result = timed(command, {**os.environ, "XLA_FLAGS": flags})
    return {r["config"]: r["steps_per_s"] for r in result["results"]}


def markdown(rows: list[dict], configs: list[str]) -> str:
    from icl_theory.tables import Table

    columns = ["`XLA_FLAGS`", *(f"`{c}` steps/s (rounds)" for c in configs)]
    cells = []
    for row in rows:
        label = f"`{row['flags']}`" if row["flags"] else "(default)"
        cells.append(
            [label]
            + [
                f"{row['steps_per_s'][c]:.2f} ("
                + ", ".join(f"{r[c]:.2f}" for r in row["rounds"])
                + ")"
                for c in configs
            ]
        )
    return Table(columns, cells, align_numbers=True).to_markdown().rstrip("\n")


if __name__ == "__main__":
    main()
