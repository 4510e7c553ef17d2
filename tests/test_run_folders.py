"""Run folders under faults: every interrupted run can be continued to the uninterrupted result,
damaged files are refused with their path, and the command line answers bad input, bad files and
full or read-only disks with one line and exit status 2 (130 after Ctrl-C), never a traceback."""

import errno
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import equinox as eqx
import jax
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tiny_runs import TINY, TINY_ARGS, run_cli

from icl_theory import records
from icl_theory.training import (
    RunFolderError,
    Trainer,
    TrainingDivergedError,
    load_model,
    resume,
    train,
)
from icl_theory.training import run as run_module
from icl_theory.training.checkpoint import CHECKPOINT_NAME, load_checkpoint, save_checkpoint
from icl_theory.training.run_folder import RunFolder


def leaves(model):
    return [np.asarray(x) for x in jax.tree.leaves(eqx.filter(model, eqx.is_array))]


def metrics_without_timing(run: Path) -> list[dict]:
    lines = (run / "metrics.jsonl").read_text().splitlines()
    timing = ("steps_per_s", "check")  # the check covers the timing
    return [{k: v for k, v in json.loads(x).items() if k not in timing} for x in lines]


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """An uninterrupted run of TINY."""
    out = tmp_path_factory.mktemp("reference") / "run"
    train(TINY, out, progress=False)
    return out


def assert_same_run(run: Path, reference: Path) -> None:
    for a, b in zip(leaves(load_model(run)), leaves(load_model(reference)), strict=True):
        np.testing.assert_array_equal(a, b)
    assert metrics_without_timing(run) == metrics_without_timing(reference)


# A folder that stopped before its first checkpoint ---------------------------------------------


def test_ctrl_c_before_the_loop_leaves_a_folder_that_resumes_to_the_same_run(
    tmp_path, monkeypatch, reference
):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt  # Ctrl-C between writing config.json and the first step

    with monkeypatch.context() as patch:
        patch.setattr(run_module, "run_loop", interrupted)
        code, err = run_cli("train", "--out", str(tmp_path / "run"), *TINY_ARGS)
    assert code == 130 and "--resume" in err
    assert not (tmp_path / "run" / CHECKPOINT_NAME).exists()
    # A new run into the same folder is refused and sent to --resume, which now works.
    code, err = run_cli("train", "--out", str(tmp_path / "run"), *TINY_ARGS)
    assert code == 2 and "--resume" in err
    code, _ = run_cli("train", "--resume", str(tmp_path / "run"), "--no-progress")
    assert code == 0
    assert_same_run(tmp_path / "run", reference)


def test_a_nan_loss_before_any_checkpoint_says_there_is_none(tmp_path, monkeypatch):
    original = Trainer.loss

    def poisoned(self, params, prompts, step):
        return jax.numpy.where(step >= 3, jax.numpy.nan, original(self, params, prompts, step))

    monkeypatch.setattr(Trainer, "loss", poisoned)
    with pytest.raises(TrainingDivergedError, match="no checkpoint had been written yet"):
        train(TINY, tmp_path / "run", progress=False)


# Exit status after Ctrl-C ---------------------------------------------------------------------


def test_a_clean_ctrl_c_stop_exits_130(tmp_path, monkeypatch, reference):
    original = run_module.Trainer.__init__

    def patched_init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        compiled = self.run_chunk

        def run_chunk(state, length):
            if int(state.step) == 10:
                signal.raise_signal(signal.SIGINT)
            return compiled(state, length)

        self.run_chunk = run_chunk

    with monkeypatch.context() as patch:
        patch.setattr(run_module.Trainer, "__init__", patched_init)
        code, printed = run_cli("train", "--out", str(tmp_path / "run"), *TINY_ARGS)
    assert code == 130 and "--resume" in printed
    code, _ = run_cli("train", "--resume", str(tmp_path / "run"), "--no-progress")
    assert code == 0
    assert_same_run(tmp_path / "run", reference)


def test_finalise_refuses_a_live_run_unless_told_to_stop_it_early(tmp_path):
    train(TINY, tmp_path / "run", progress=False, stop_at=10)
    code, err = run_cli("finalise", str(tmp_path / "run"))
    assert code == 2 and "is live (step 10 of 30)" in err and "--stop-early" in err
    code, _ = run_cli("finalise", "--stop-early", str(tmp_path / "run"))
    assert code == 0 and RunFolder(tmp_path / "run").stopped_early()


# Full and read-only disks ---------------------------------------------------------------------


@pytest.mark.parametrize("failing_write", [1, 3])
def test_a_full_disk_is_one_line_and_the_folder_resumes(
    tmp_path, monkeypatch, reference, failing_write
):
    """ENOSPC at the first checkpoint, or a later one: exit 2 naming the file and the fix, the
    earlier files intact, and --resume (once there is space) reaches the uninterrupted run."""
    checkpoint_writes = []
    real_write = records.write_atomic

    def write(path, data):
        if Path(path).name == CHECKPOINT_NAME:
            checkpoint_writes.append(path)
            if len(checkpoint_writes) == failing_write:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        real_write(path, data)

    with monkeypatch.context() as patch:
        patch.setattr("icl_theory.training.checkpoint.write_atomic", write)
        code, err = run_cli("train", "--out", str(tmp_path / "run"), *TINY_ARGS)
    assert code == 2
    assert "checkpoint.eqx" in err and "disk is full" in err and "--resume" in err
    assert not [p for p in (tmp_path / "run").iterdir() if p.name.endswith(".tmp")]
    code, _ = run_cli("train", "--resume", str(tmp_path / "run"), "--no-progress")
    assert code == 0
    assert_same_run(tmp_path / "run", reference)


def test_a_read_only_disk_is_one_line(tmp_path, monkeypatch):
    def read_only(path, data):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))

    monkeypatch.setattr("icl_theory.training.run_folder.write_json_atomic", read_only)
    code, err = run_cli("train", "--out", str(tmp_path / "run"), *TINY_ARGS)
    assert code == 2 and "config.json" in err and "read-only" in err


@pytest.mark.parametrize("where", ["below a file", "is a file"])
def test_an_out_path_that_cannot_be_a_folder_is_one_line(tmp_path, where):
    (tmp_path / "afile").write_text("x")
    out = tmp_path / "afile" / "run" if where == "below a file" else tmp_path / "afile"
    code, err = run_cli("train", "--out", str(out), *TINY_ARGS)
    assert code == 2 and "afile" in err
    assert "not a folder" in err or "is a file" in err


# Damaged files --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"step": 10, "loss": 1.0}\n5\n{"step": 20, "loss": 1.0}\n', "line 2 is damaged"),
        (b'{"step": "ten", "loss": 1.0}\n', "line 1 is damaged"),
        (bytes(range(256)), "line 1 is damaged"),
        (None, "is not a file"),
    ],
)
def test_damaged_metrics_are_refused_naming_the_file(tmp_path, content, message):
    train(TINY, tmp_path / "run", progress=False, stop_at=10)
    metrics = tmp_path / "run" / "metrics.jsonl"
    metrics.unlink()
    if content is None:
        metrics.mkdir()
    else:
        metrics.write_bytes(content)
    code, err = run_cli("train", "--resume", str(tmp_path / "run"), "--no-progress")
    assert code == 2 and str(metrics) in err and message in err


def test_a_corrupt_checkpoint_is_refused_by_evaluate_without_mentioning_resume(tmp_path):
    train(TINY, tmp_path / "run", progress=False, stop_at=10)
    path = tmp_path / "run" / CHECKPOINT_NAME
    data = bytearray(path.read_bytes())
    data[-7] ^= 0x10  # one bit in the last array
    path.write_bytes(bytes(data))
    code, err = run_cli("evaluate", str(tmp_path / "run"), "--n-prompts", "4")
    assert code == 2 and str(path) in err and "checksum" in err and "--resume" not in err


# Devices, file modes, seeds -------------------------------------------------------------------


def test_resuming_on_another_device_count_is_refused_unless_allowed(tmp_path, reference):
    train(TINY, tmp_path / "run", progress=False, stop_at=10)
    path = tmp_path / "run" / CHECKPOINT_NAME
    header, state = load_checkpoint(path, Trainer(TINY).init_state())
    assert header["devices"] == 1
    # As written by a run sharded over 4 devices.
    fields = {k: v for k, v in header.items() if k not in ("format", "sha256")}
    save_checkpoint(path, {**fields, "devices": 4}, state)
    with pytest.raises(RunFolderError, match="4 device"):
        resume(tmp_path / "run", progress=False)
    resume(tmp_path / "run", progress=False, allow_device_change=True)


def test_files_get_the_users_umask(tmp_path):
    previous = os.umask(0o022)
    try:
        train(TINY, tmp_path / "run", progress=False, stop_at=10)
        resume(tmp_path / "run", progress=False, stop_at=20)
    finally:
        os.umask(previous)
    for name in ("config.json", "provenance.json", "metrics.jsonl", CHECKPOINT_NAME):
        assert (tmp_path / "run" / name).stat().st_mode & 0o777 == 0o644, name


@pytest.mark.parametrize("seed", ["-1", str(2**70), str(2**32)])
def test_seeds_outside_their_range_are_refused(tmp_path, seed):
    code, err = run_cli("train", "--out", str(tmp_path / "run"), "--seed", seed, *TINY_ARGS)
    assert code == 2 and "seed" in err and "2**32" in err


# Fuzzing the command line ---------------------------------------------------------------------

BAD_OPTIONS = {
    "--dim": st.sampled_from(["0", "-3", "1.5", "x"]),
    "--n-points": st.sampled_from(["0", "-1", "two"]),
    "--noise-std": st.sampled_from(["-0.1", "nan", "inf", "noise"]),
    "--prior": st.text(min_size=1, max_size=12).filter(lambda s: not s.startswith("-")),
    "--model": st.sampled_from(["huge", "", "tinyy"]),
    "--learning-rate": st.sampled_from(["0", "-1e-3", "nan"]),
    "--steps": st.sampled_from(["0", "-10"]),
    "--eval-every": st.sampled_from(["7", "0"]),
    "--seed": st.sampled_from(["-5", str(2**40), "0.5"]),
    "--batch-size": st.sampled_from(["0", "-64"]),
}


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(option=st.sampled_from(sorted(BAD_OPTIONS)), data=st.data())
def test_bad_training_options_exit_2_naming_the_option(tmp_path_factory, option, data):
    value = data.draw(BAD_OPTIONS[option])
    out = tmp_path_factory.mktemp("fuzz") / "run"
    code, err = run_cli("train", "--out", str(out), *TINY_ARGS, option, value)
    if option == "--prior" and code == 0:
        return  # Hypothesis found a valid spec: nothing to refuse
    assert code == 2, err
    field = option.removeprefix("--").replace("-", "_")
    assert field in err or option in err, err


GOOD_CURRICULUM = {
    "--dims-start": "1",
    "--dims-end": "2",
    "--points-start": "2",
    "--points-end": "3",
}
BAD_CURRICULUM = {
    "--dims-start": st.sampled_from(["0", "-1", "3", "x"]),  # 3 > dims-end 2
    "--dims-end": st.sampled_from(["0", "4", "1.5"]),  # 4 > the prior's dim 3
    "--points-start": st.sampled_from(["0", "9"]),  # 9 > points-end 3
    "--points-end": st.sampled_from(["1", "6"]),  # 6 > n_points 5; 1 < points-start 2
    "--interval": st.sampled_from(["0", "-100"]),
    "--dims-increment": st.sampled_from(["0", "-1"]),
    "--points-increment": st.sampled_from(["0", "-2"]),
}


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(option=st.sampled_from(sorted(BAD_CURRICULUM)), data=st.data())
def test_bad_curriculum_options_exit_2_naming_the_option(tmp_path_factory, option, data):
    options = GOOD_CURRICULUM | {option: data.draw(BAD_CURRICULUM[option])}
    out = tmp_path_factory.mktemp("fuzz") / "run"
    arguments = [item for pair in options.items() for item in pair]
    code, err = run_cli("train", "--out", str(out), *TINY_ARGS, "curriculum", *arguments)
    assert code == 2, err
    assert option in err, err  # by its option name, not the parser's internal one
    assert "tyro" not in err, err


DAMAGE = {
    "truncate": lambda data, rng: data[: rng.randrange(len(data))],
    "flip a bit": lambda data, rng: _flip(data, rng),
    "random bytes": lambda data, rng: rng.randbytes(rng.randrange(1, 200)),
    "empty": lambda data, rng: b"",
}


def _flip(data: bytes, rng: random.Random) -> bytes:
    if not data:
        return b"\x01"
    index = rng.randrange(len(data))
    return data[:index] + bytes([data[index] ^ (1 << rng.randrange(8))]) + data[index + 1 :]


@pytest.mark.slow  # a Hypothesis search over damaged folders, a process each (CI runs -m slow)
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(["checkpoint.eqx", "config.json", "metrics.jsonl", "provenance.json"]),
    damage=st.sampled_from(sorted(DAMAGE)),
    command=st.sampled_from(["resume", "evaluate"]),
    seed=st.integers(0, 2**16),
)
def test_damaged_run_folders_exit_cleanly(reference, tmp_path_factory, name, damage, command, seed):
    """Any damage to any file of a finished run: `train --resume` and `evaluate` either work
    (the file did not matter to them) or exit 2 naming the damaged file; never a traceback."""
    run = tmp_path_factory.mktemp("damaged") / "run"
    shutil.copytree(reference, run)
    path = run / name
    path.write_bytes(DAMAGE[damage](path.read_bytes(), random.Random(seed)))
    if command == "resume":
        arguments = ["train", "--resume", str(run), "--no-progress"]
    else:
        arguments = ["evaluate", str(run), "--n-prompts", "4", "--out", str(run / "r.npz")]
        arguments += ["--baselines", "least-squares", "--no-selection"]
    code, err = run_cli(*arguments)
    assert code in (0, 2), err
    if code == 2:
        assert str(path) in err or name in err, err
    if name == "checkpoint.eqx":
        assert code == 2, "a damaged checkpoint must never load"


# Fault injection: SIGKILL at random moments ---------------------------------------------------

# TINY, with a checkpoint every call (so that kills land inside checkpoint writes too) and more
# steps (so that they land inside the loop, not only in start-up and compilation).
KILL_STEPS = 120
KILL_ARGS = [
    *TINY_ARGS[: TINY_ARGS.index("--steps")],
    "--steps",
    str(KILL_STEPS),
    "--steps-per-call",
    "5",
    "--eval-every",
    "20",
    "--checkpoint-every",
    "5",
    "--eval-prompts",
    "4",
    "--warmup-steps",
    "2",
    "--no-progress",
]


def _command(*arguments: str) -> list[str]:
    return [sys.executable, "-c", "import sys; from icl_theory.cli import main; "
            "sys.exit(main(sys.argv[1:]))", *arguments]  # fmt: skip


def _run_to_completion_with_kills(
    run: Path, kills: int, rng: random.Random, start: list[str] | None = None, longest: float = 8.0
) -> int:
    """Start the run (`train --out RUN` with `start`, KILL_ARGS by default), then SIGKILL it
    and continue it at random moments until it finishes: with `--resume RUN` once it has
    written anything, with the same command before."""
    killed = 0
    while True:
        # A kill before anything was written left no run: start it again.
        started = run.exists() and any(run.iterdir())
        arguments = (
            ["train", "--resume", str(run), "--no-progress"]
            if started
            else ["train", "--out", str(run), *(start or KILL_ARGS)]
        )
        process = subprocess.Popen(_command(*arguments), stderr=subprocess.PIPE, text=True)
        if killed < kills:
            time.sleep(rng.uniform(0.5, longest))
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                killed += 1
        _, err = process.communicate(timeout=300)
        if process.returncode == 0:
            return killed
        assert process.returncode == -signal.SIGKILL, err


def _kill_test(tmp_path: Path, kills: int, seed: int) -> None:
    reference = tmp_path / "reference"
    subprocess.run(_command("train", "--out", str(reference), *KILL_ARGS), check=True)
    run = tmp_path / "killed"
    _run_to_completion_with_kills(run, kills, random.Random(seed))
    assert_same_run(run, reference)
    steps = [r["step"] for r in metrics_without_timing(run) if "loss" in r]
    assert steps == list(range(5, KILL_STEPS + 1, 5)), "each step is recorded exactly once"


@pytest.mark.slow  # kills and resumes a training process many times (CI runs -m slow)
def test_sigkill_at_random_moments_then_resume_gives_the_uninterrupted_run(tmp_path):
    _kill_test(tmp_path, kills=2, seed=0)


@pytest.mark.slow
def test_twenty_sigkills_of_an_ensemble_then_resume_give_its_uninterrupted_members(tmp_path):
    """Two members trained together, killed 20 times at random moments (before any folder is
    written, between the members' folders, inside the members' checkpoint writes): each member
    ends bit for bit as in the uninterrupted ensemble."""
    start = [*KILL_ARGS, "--seeds", "0", "1"]
    reference = tmp_path / "reference"
    subprocess.run(_command("train", "--out", str(reference), *start), check=True)
    run = tmp_path / "killed"
    # Kills within 5 s of each start: after the first few the programs come from the
    # compilation cache, so they land in loading, start-up, training and checkpoint writes alike.
    _run_to_completion_with_kills(run, 20, random.Random(2), start, longest=5.0)
    for member in ("seed0", "seed1"):
        assert_same_run(run / member, reference / member)
        steps = [r["step"] for r in metrics_without_timing(run / member) if "loss" in r]
        assert steps == list(range(5, KILL_STEPS + 1, 5)), "each step is recorded exactly once"
