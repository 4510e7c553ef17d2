"""Model-steps per second of an ensemble (several seeds in one vmapped step) against single runs
scheduled one per core, for `small-deep` (d = 8, 17 points) and `medium` (d = 10, 21 points),
batch 64, on the 2-core machine.

    python benchmarks/ensemble_speed.py            # all arrangements, both configs (~4 min)

Arrangements, each timed for `--seconds` after compiling, all training `--members` models:
- `singles`: one model per process, two processes at a time, each pinned to one core and one
  XLA thread (how the experiments train today);
- `ensemble`: all the models in one process on both cores;
- `ensembles per core`: half the models in each of two one-thread processes, one per core.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

CONFIGS = {"small-deep": (8, 17), "medium": (10, 21)}
HERE = Path(__file__).resolve().parent


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--configs", default="small-deep,medium")
    parser.add_argument("--out", default=str(HERE / "results" / "ensemble_speed.json"))
    parser.add_argument("--worker", nargs=2, metavar=("CONFIG", "MEMBERS"), help=argparse.SUPPRESS)
    return parser.parse_args()


def worker(name: str, members: int, seconds: float) -> None:
    """Time `members` models of `name` in this process; print model-steps/s as JSON."""
    import jax

    from icl_theory.priors import DenseLinear
    from icl_theory.training import TrainConfig, Trainer
    from icl_theory.training.ensemble import _stack
    from icl_theory.training.loop import Members

    dim, n_points = CONFIGS[name]
    base = dict(prior=DenseLinear(dim=dim), n_points=n_points, model=name, batch_size=64)
    calls = dict(steps=10**9, warmup_steps=0, steps_per_call=20, eval_every=20)
    configs = [TrainConfig(**base, **calls, checkpoint_every=20, seed=s) for s in range(members)]
    trainers = [Trainer(config, jax.devices()[:1]) for config in configs]
    runner = Members(trainers)  # what train / train_ensemble run, without the run folders
    state = _stack([t.init_state() for t in trainers]) if members > 1 else trainers[0].init_state()
    state, _ = runner.chunk(state, 20)  # compile
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        state, _ = runner.chunk(state, 20)
        steps += 20
    print(json.dumps({"model_steps_per_s": members * steps / (time.perf_counter() - start)}))


def run_workers(name: str, layout: list[tuple[str, int]], seconds: float) -> float:
    """Start one worker per (cores, members) at once; the sum of their model-steps/s."""
    processes = []
    for cores, members in layout:
        env = os.environ.copy()
        if "," not in cores:  # one core: one XLA thread
            env["XLA_FLAGS"] = f"{env.get('XLA_FLAGS', '')} --xla_cpu_multi_thread_eigen=false"
        command = ["taskset", "-c", cores, sys.executable, __file__, "--seconds", str(seconds)]
        command += ["--worker", name, str(members)]
        processes.append(subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True))
    rates = [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in processes]
    return sum(r["model_steps_per_s"] for r in rates)


def main() -> None:
    args = parse()
    if args.worker:
        worker(args.worker[0], int(args.worker[1]), args.seconds)
        return
    results = {}
    for name in args.configs.split(","):
        half = args.members // 2
        singles = run_workers(name, [("0", 1), ("1", 1)], args.seconds)
        rows = {
            # Two single runs at a time: the members' total model-steps/s is the pair's.
            "singles, two at a time": singles,
            "ensemble, one process on both cores": run_workers(
                name, [("0,1", args.members)], args.seconds
            ),
            f"ensembles of {half}, one per core": run_workers(
                name, [("0", half), ("1", args.members - half)], args.seconds
            ),
        }
        results[name] = {
            row: {"model_steps_per_s": rate, "vs_singles": rate / singles}
            for row, rate in rows.items()
        }
        for row, value in results[name].items():
            print(
                f"{name:10s} {row:40s} {value['model_steps_per_s']:8.2f} model-steps/s "
                f"({value['vs_singles']:.2f}x)",
                flush=True,
            )
    sys.path.insert(0, str(HERE.parent))
    from icl_theory.records import provenance, write_json_atomic

    write_json_atomic(
        args.out,
        {
            "members": args.members,
            "seconds": args.seconds,
            "results": results,
            "provenance": provenance(),
            "time": time.strftime("%Y-%m-%d %H:%M"),
        },
    )
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
