"""Training runs that experiments share: train a run if it is missing, continue it if it was cut
short, reuse it if it is finished; train the seeds of one config together as an ensemble, and
several runs in parallel, one process per core."""

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from icl_theory.training.checkpoint import CHECKPOINT_NAME, read_header
from icl_theory.training.config import TrainConfig
from icl_theory.training.ensemble import resume_ensemble, train_ensemble
from icl_theory.training.run import load_model, resume, train
from icl_theory.training.run_folder import PARAMETERS_ONLY


def run_state(config: TrainConfig, folder: Path) -> str:
    """`"missing"`, `"partial"` (a checkpoint before `config.steps`) or `"finished"` (at its
    budget, or finalised: `finalise(..., stop_early=True)` ends a run where it stands).

    A folder holding a run with a different config is an error: reusing it would silently mix
    results from two settings.
    """
    checkpoint = folder / CHECKPOINT_NAME
    if not checkpoint.exists():
        return "missing"
    header = read_header(checkpoint)
    saved = TrainConfig.from_json(header["config"])
    if saved != config:
        raise ValueError(
            f"{folder} holds a run with a different config than this experiment asks for; "
            f"delete the folder to retrain, or restore the experiment's settings.\n"
            f"saved:     {saved}\nrequested: {config}"
        )
    # A finalised run (parameters only) is final, also one stopped before its budget.
    finalised = header.get("contents") == PARAMETERS_ONLY
    return "finished" if finalised or int(header["step"]) >= config.steps else "partial"


def ensure_trained(config: TrainConfig, folder: Path, *, progress: bool = True) -> bool:
    """Train, continue or reuse the run in `folder` (see `run_state`); False if it was
    interrupted (Ctrl-C) before its final step."""
    state = run_state(config, folder)
    if state == "missing":
        _clear_leftovers(folder)
        return not train(config, folder, progress=progress).interrupted
    if state == "partial":
        return not resume(folder, progress=progress).interrupted
    return True


def train_all(
    configs: Mapping[str, TrainConfig],
    root: Path,
    *,
    jobs: int = 1,
    progress: bool = True,
    ensembles: bool = True,
) -> None:
    """Bring every run `root/NAME` to its final step.

    Runs whose configs differ only in their seed, and that are at the same point (all missing,
    or all cut short at the same step), train together as one ensemble (`train_ensemble`): one
    compiled step for several models is more model-steps per second on a CPU core than one
    model at a time. `ensembles=False` trains every run alone.

    With `jobs > 1`, the groups train in that many worker processes, each pinned to one XLA
    thread (on 2 cores two one-thread processes train more steps per second in total than one
    process using both), the longest first, each on the least loaded worker; a group is split
    where there are fewer groups than workers. Workers are this module run as a script, so a
    crash in one run is reported with its name and the others keep going. Ctrl-C stops every
    run at a checkpoint, starts no further group and raises `KeyboardInterrupt`; the same call
    continues them.
    """
    states = {name: run_step(config, root / name) for name, config in configs.items()}
    pending = {name: configs[name] for name, step in states.items() if step != FINISHED}
    if ensembles:
        groups = ensemble_groups(pending, {name: states[name] for name in pending}, jobs)
    else:
        groups = [[name] for name in pending]
    if jobs <= 1:
        for group in groups:
            finished = ensure_trained_together(
                [configs[name] for name in group], [root / name for name in group], progress
            )
            if not finished:
                raise KeyboardInterrupt  # stopped with checkpoints: no further group starts
        return
    queues = _balanced(groups, configs, jobs)
    env = os.environ | {
        "XLA_FLAGS": (
            os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false"
        ).strip()
    }
    workers = []
    for queue in queues:
        if not queue:
            continue
        work = [[[str(root / name), configs[name].dumps()] for name in group] for group in queue]
        workers.append(
            (
                queue,
                subprocess.Popen(
                    [sys.executable, "-m", "icl_theory.training.reuse", json.dumps(work)], env=env
                ),
            )
        )
    try:
        failed = [queue for queue, worker in workers if worker.wait() != 0]
    except KeyboardInterrupt:  # Ctrl-C reached the workers too: let them write their checkpoints
        for _, worker in workers:
            worker.wait()
        raise
    if failed:
        raise RuntimeError(f"training failed for runs among {failed}; see the output above")


FINISHED = -2
MISSING = -1


def run_step(config: TrainConfig, folder: Path) -> int:
    """Where the run in `folder` stands: `MISSING`, `FINISHED`, or the step of its checkpoint
    (a partial run); see `run_state`."""
    state = run_state(config, folder)
    if state == "missing":
        return MISSING
    if state == "finished":
        return FINISHED
    return int(read_header(folder / CHECKPOINT_NAME)["step"])


def ensemble_groups(
    configs: Mapping[str, TrainConfig], steps: Mapping[str, int], jobs: int = 1
) -> list[list[str]]:
    """The runs of `configs` grouped into ensembles: the same config but for the seed, at the
    same `steps` (see `run_step`), in the order of `configs`. While there are fewer groups than
    `jobs`, the largest is halved, so that no worker is left idle."""
    groups: dict[tuple[str, int], list[str]] = {}
    for name, config in configs.items():
        key = (dataclasses.replace(config, seed=0, init_from=None).dumps(), steps[name])
        groups.setdefault(key, []).append(name)
    result = list(groups.values())
    while len(result) < jobs and any(len(group) > 1 for group in result):
        largest = max(result, key=len)
        index = result.index(largest)
        half = (len(largest) + 1) // 2
        result[index : index + 1] = [largest[:half], largest[half:]]
    return result


def ensure_trained_together(
    configs: Sequence[TrainConfig], folders: Sequence[Path], progress: bool = True
) -> bool:
    """`ensure_trained` for one group of `ensemble_groups` (all missing, or all at one step);
    False if interrupted."""
    if len(configs) == 1:
        return ensure_trained(configs[0], folders[0], progress=progress)
    if all(run_state(c, f) == "missing" for c, f in zip(configs, folders, strict=True)):
        for folder in folders:
            _clear_leftovers(folder)
        results = train_ensemble(configs, folders, progress=progress)
    else:
        results = resume_ensemble(folders, progress=progress)
    return not any(result.interrupted for result in results)


def _clear_leftovers(folder: Path) -> None:
    """A run folder with files but no checkpoint was killed before its first checkpoint: it
    starts over."""
    if folder.exists():
        for leftover in folder.iterdir():
            if leftover.is_dir():
                shutil.rmtree(leftover)
            else:
                leftover.unlink()


def _balanced(
    groups: list[list[str]], configs: Mapping[str, TrainConfig], jobs: int
) -> list[list[list[str]]]:
    """The groups spread over `jobs` queues, longest first onto the least loaded (in model-steps;
    an ensemble's members are not quite free, but a group is costed as its members' steps)."""
    queues: list[list[list[str]]] = [[] for _ in range(jobs)]
    loads = [0] * jobs
    for group in sorted(groups, key=lambda g: -sum(configs[n].steps for n in g)):
        worker = loads.index(min(loads))
        queues[worker].append(group)
        loads[worker] += sum(configs[name].steps for name in group)
    return queues


def models(configs: Mapping[str, TrainConfig], root: Path) -> dict:
    """The trained model of every run."""
    return {name: load_model(root / name) for name in configs}


def _worker(work: str) -> None:
    for group in json.loads(work):
        finished = ensure_trained_together(
            [TrainConfig.loads(config) for _, config in group],
            [Path(folder) for folder, _ in group],
            progress=False,
        )
        if not finished:  # Ctrl-C reaches every worker: each stops after its checkpoint
            sys.exit(130)


if __name__ == "__main__":
    _worker(sys.argv[1])
