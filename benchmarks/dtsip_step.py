"""Garg et al.'s own training step, timed: the real dtsip/in-context-learning code (its
`build_model`, data and task samplers and `train_step`, unmodified), on the CPU.

Run it in a venv with torch, transformers, tqdm and pyyaml, from a clone of that repository:

    git clone https://github.com/dtsip/in-context-learning /tmp/dtsip
    python3.11 -m venv /tmp/refvenv && /tmp/refvenv/bin/pip install torch transformers tqdm pyyaml
    taskset -c 0 /tmp/refvenv/bin/python benchmarks/dtsip_step.py --dtsip /tmp/dtsip \
        --config small-deep --threads 1

`benchmarks/side_by_side.py` runs it alternately with this project's step. Only the parts of
the repository that a training step needs are used; the modules it imports for evaluation, logging,
configuration and baselines (wandb, quinine, funcy, scikit-learn, xgboost, pandas, munch) are
replaced by empty stand-ins, since a step never calls them. The loop is dtsip's `train` loop
without the curriculum (all dimensions and points from the first step, as after the curriculum
ends) and without logging: sample xs, sample a task, evaluate ys, `train_step`.
"""

import argparse
import importlib.abc
import importlib.machinery
import json
import platform
import sys
import time
import types
from pathlib import Path

CONFIGS = {  # name: (width, layers, heads, dim, n_points), as benchmarks/training_speed.py
    "small": (64, 3, 2, 5, 11),
    "small-deep": (64, 6, 2, 8, 17),
    "medium": (128, 6, 4, 10, 21),
    "paper": (256, 12, 8, 20, 41),
}
STUBBED = ("wandb", "quinine", "funcy", "sklearn", "xgboost", "pandas", "munch")


class _Anything(types.ModuleType):
    """A module whose every attribute is a harmless stand-in (a class, callable, subclassable)."""

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return type(name, (), {"__init__": lambda self, *a, **k: None})


class _StubFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path, target=None):
        if fullname.split(".")[0] in STUBBED:
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec):
        module = _Anything(spec.name)
        module.__path__ = []
        return module

    def exec_module(self, module):
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dtsip", required=True, help="a clone of dtsip/in-context-learning")
    parser.add_argument("--config", default="small", choices=list(CONFIGS))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--out", default="")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    sys.meta_path.insert(0, _StubFinder())
    sys.path.insert(0, str(Path(args.dtsip) / "src"))
    from models import build_model
    from samplers import get_data_sampler
    from tasks import get_task_sampler
    from train import train_step

    width, layers, heads, dim, n_points = CONFIGS[args.config]
    conf = types.SimpleNamespace(
        family="gpt2", n_dims=dim, n_positions=n_points, n_embd=width, n_layer=layers, n_head=heads
    )
    torch.manual_seed(0)
    model = build_model(conf)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)  # dtsip's default learning rate
    data_sampler = get_data_sampler("gaussian", n_dims=dim)
    task_sampler = get_task_sampler("linear_regression", dim, args.batch)

    def step() -> float:
        xs = data_sampler.sample_xs(n_points, args.batch)
        task = task_sampler()
        ys = task.evaluate(xs)
        loss, _ = train_step(model, xs, ys, optimizer, task.get_training_metric())
        return loss

    for _ in range(3):  # warm-up: allocator and threads
        step()
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < args.seconds or steps < 3:
        step()
        steps += 1
    rate = steps / (time.perf_counter() - start)
    result = {
        "code": "dtsip/in-context-learning",
        "config": args.config,
        "threads": args.threads,
        "batch": args.batch,
        "steps_per_s": rate,
        "torch": torch.__version__,
        "python": platform.python_version(),
    }
    print(json.dumps(result))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
