"""Train some of the study's runs, in the order given, in this process:
`python -m experiments.selection_conditions.train --preset sparse-regime NAME [NAME ...]`
(names as in `settings.all_runs`, e.g. `balanced_seed0`; seeds of one recipe listed together
train as one ensemble). Meant for one process per core, each pinned to one XLA thread; the same
command continues runs cut short."""

import argparse
import sys

from experiments.selection_conditions.settings import all_runs, study_runs_dir
from icl_theory.training.reuse import train_all


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m experiments.selection_conditions.train")
    parser.add_argument("--preset", default="sparse-regime")
    parser.add_argument("names", nargs="+")
    arguments = parser.parse_args(argv)
    runs = all_runs(arguments.preset)
    unknown = [name for name in arguments.names if name not in runs]
    if unknown:
        parser.error(f"unknown runs {unknown}; known: {sorted(runs)}")
    selected = {name: runs[name] for name in arguments.names}
    try:
        train_all(selected, study_runs_dir(arguments.preset), jobs=1, progress=False)
    except KeyboardInterrupt:
        sys.exit("interrupted: the runs stopped at a checkpoint; the same command continues them")


if __name__ == "__main__":
    main()
