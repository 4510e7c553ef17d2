"""Training runs that experiments share: train a run if it is missing, continue it if it was cut
short, reuse it if it is finished; and train several in parallel, one process per core."""

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from icl_theory.training.checkpoint import CHECKPOINT_NAME, read_header
from icl_theory.training.config import TrainConfig
from icl_theory.training.run import load_model, resume, train


def run_state(config: TrainConfig, folder: Path) -> str:
    """`"missing"`, `"partial"` (a checkpoint before `config.steps`) or `"finished"`.

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
    return "finished" if int(header["step"]) >= config.steps else "partial"


def ensure_trained(config: TrainConfig, folder: Path, *, progress: bool = True) -> None:
    """Train, continue or reuse the run in `folder` (see `run_state`)."""
    state = run_state(config, folder)
    if state == "missing":
        if folder.exists() and any(folder.iterdir()):
            # config.json without a checkpoint: killed before the first checkpoint; start over.
            for leftover in folder.iterdir():
                leftover.unlink()
        train(config, folder, progress=progress)
    elif state == "partial":
        resume(folder, progress=progress)


def train_all(
    configs: Mapping[str, TrainConfig], root: Path, *, jobs: int = 1, progress: bool = True
) -> None:
    """Bring every run `root/NAME` to its final step.

    With `jobs > 1`, runs train in that many worker processes, each pinned to one XLA thread
    (on 2 cores two one-thread processes train more steps per second in total than one process
    using both). Workers are this module run as a script, so a crash in one run is reported with
    its name and the others keep going.
    """
    pending = [
        name for name, config in configs.items() if run_state(config, root / name) != "finished"
    ]
    if jobs <= 1:
        for name in pending:
            ensure_trained(configs[name], root / name, progress=progress)
        return
    queues = [pending[worker::jobs] for worker in range(jobs)]
    env = os.environ | {
        "XLA_FLAGS": (
            os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false"
        ).strip()
    }
    workers = []
    for queue in queues:
        if not queue:
            continue
        arguments = []
        for name in queue:
            arguments += [str(root / name), configs[name].dumps()]
        workers.append(
            (
                queue,
                subprocess.Popen(
                    [sys.executable, "-m", "icl_theory.training.reuse", *arguments], env=env
                ),
            )
        )
    failed = [queue for queue, worker in workers if worker.wait() != 0]
    if failed:
        raise RuntimeError(f"training failed for runs among {failed}; see the output above")


def models(configs: Mapping[str, TrainConfig], root: Path) -> dict:
    """The trained model of every run."""
    return {name: load_model(root / name) for name in configs}


def _worker(arguments: list[str]) -> None:
    for folder, config in zip(arguments[::2], arguments[1::2], strict=True):
        ensure_trained(TrainConfig.loads(config), Path(folder), progress=False)


if __name__ == "__main__":
    _worker(sys.argv[1:])
