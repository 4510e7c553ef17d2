"""Every file of a run folder is checked before it is used: one flipped bit anywhere (config,
prior, provenance, manifest, checkpoint, any metrics line) is refused with one line naming the
file (and the line), never read as a different run. And every entry point refuses sizes, seeds
and combinations outside their range with one line naming the option or path."""

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
from tiny_runs import TINY, TINY_ARGS, run_cli

from icl_theory.training import load_model, train
from icl_theory.training.manifest import MANIFEST_NAME

FLIPS_PER_FILE = 3


@pytest.fixture(scope="module")
def live_run(tmp_path_factory) -> Path:
    """TINY stopped at step 10 of 30: every file a resume reads exists."""
    out = tmp_path_factory.mktemp("live") / "run"
    train(TINY, out, progress=False, stop_at=10)
    return out


def leaves(model):
    return [np.asarray(x) for x in jax.tree.leaves(eqx.filter(model, eqx.is_array))]


def flipped(data: bytes, rng: random.Random, start: int = 0, end: int | None = None) -> bytes:
    index = rng.randrange(start, len(data) if end is None else end)
    return data[:index] + bytes([data[index] ^ (1 << rng.randrange(8))]) + data[index + 1 :]


def one_line_error(code: int, printed: str) -> str:
    assert code == 2, printed
    lines = [line for line in printed.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("icl-theory: error:"), printed
    return lines[0]


@pytest.mark.parametrize(
    "name", ["config.json", "prior.json", "provenance.json", MANIFEST_NAME, "checkpoint.eqx"]
)
def test_one_flipped_bit_in_any_file_is_refused_naming_it(live_run, tmp_path, name):
    rng = random.Random(name)
    for flip in range(FLIPS_PER_FILE):
        run = tmp_path / f"flip{flip}"
        shutil.copytree(live_run, run)
        path = run / name
        path.write_bytes(flipped(path.read_bytes(), rng))
        error = one_line_error(*run_cli("train", "--resume", str(run), "--no-progress"))
        assert str(path) in error


def test_one_flipped_bit_in_any_metrics_line_is_refused_naming_the_line(live_run, tmp_path):
    rng = random.Random(0)
    lines = (live_run / "metrics.jsonl").read_bytes().splitlines(keepends=True)
    assert len(lines) >= 3
    for number, line in enumerate(lines, start=1):
        run = tmp_path / f"line{number}"
        shutil.copytree(live_run, run)
        # Not the newline: a last line without one is what a crash mid-write leaves (dropped
        # on resume, with a note, and written again).
        damaged = flipped(line, rng, end=len(line) - 1)
        text = b"".join([*lines[: number - 1], damaged, *lines[number:]])
        (run / "metrics.jsonl").write_bytes(text)
        error = one_line_error(*run_cli("train", "--resume", str(run), "--no-progress"))
        assert f"metrics.jsonl line {number} is damaged" in error


def test_a_run_folder_without_a_manifest_loads_with_a_note(live_run, tmp_path, capsys):
    from icl_theory.training import load_prior

    run = tmp_path / "old"
    shutil.copytree(live_run, run)
    (run / MANIFEST_NAME).unlink()
    assert load_prior(run) == TINY.prior
    assert f"{run} has no {MANIFEST_NAME}" in capsys.readouterr().err


def test_the_device_count_is_recorded_from_the_start(live_run):
    import json

    data = json.loads((live_run / "provenance.json").read_text())
    assert data["devices"] == {"count": 1, "platform": "cpu"}


def test_resuming_a_finished_run_writes_nothing(tmp_path):
    run = tmp_path / "run"
    train(TINY, run, progress=False)
    before = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()}
    for path in run.iterdir():
        path.chmod(0o444)
    run.chmod(0o555)
    try:
        code, printed = run_cli("train", "--resume", str(run), "--no-progress")
    finally:
        run.chmod(0o755)
    assert code == 0, printed
    assert {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()} == before


def test_replacing_a_file_keeps_its_mode(tmp_path):
    from icl_theory.records import write_atomic

    path = tmp_path / "private.json"
    path.write_text("{}")
    path.chmod(0o600)
    write_atomic(path, b"{}")
    assert path.stat().st_mode & 0o777 == 0o600


# Bad input at every entry point ---------------------------------------------------------------

HUGE = str(10**12)


def bad_commands(run: Path, tmp: Path) -> list[tuple[list[str], str]]:
    """`(arguments, what the one-line error must name)` for each refused input."""
    (tmp / "afile").write_text("x")
    (tmp / "empty.npz").write_bytes(b"")
    (tmp / "text.npz").write_text("not results\n")
    train_out = ["train", "--out", str(tmp / "new")]
    curriculum = ["curriculum", "--points-start", "2", "--points-end", "3"]
    return [
        (
            [*train_out, *TINY_ARGS, *curriculum, "--dims-start", "3", "--dims-end", "2"],
            "--dims-start",
        ),
        (
            [*train_out, *TINY_ARGS, *curriculum, "--dims-start", "1", "--dims-end", "99"],
            "--dims-end",
        ),
        (
            [
                *train_out,
                *TINY_ARGS,
                *curriculum,
                "--dims-start",
                "1",
                "--dims-end",
                "2",
                "--interval",
                "0",
            ],
            "--interval",
        ),
        ([*train_out, *TINY_ARGS, "--warmup-steps", "1000"], "--warmup-steps"),
        ([*train_out, *TINY_ARGS, "--snapshot-steps", "1000"], "--snapshot-steps"),
        (["train", "--resume", str(run), "--dim", "3"], "--dim"),
        (["train", "--resume", str(run), "--seed", "0"], "--seed"),
        (["train", "--out", "", *TINY_ARGS], "--out"),
        (["train", "--out", str(tmp / "afile" / "run"), *TINY_ARGS], "afile"),
        ([*train_out, *TINY_ARGS, "--dim", HUGE], "GiB"),
        ([*train_out, *TINY_ARGS, "--n-points", HUGE], "GiB"),
        ([*train_out, *TINY_ARGS, "--batch-size", str(10**14)], "GiB"),
        (["finalise"], "finalise"),
        (["sample", "--seed", "-1"], "--seed"),
        (["sample", "--seed", str(2**32)], "--seed"),
        (["sample", "--seed", str(2**70)], "--seed"),
        (["sample", "--dim", HUGE], "GiB"),
        (["sample", "--batch", str(10**14)], "GiB"),
        (["sample", "--prior", "+".join(["dense"] * 15_000)], "2,000 characters"),
        (["evaluate", str(run), "--seed", "-1"], "--seed"),
        (["evaluate", str(run), "--seed", str(2**70)], "--seed"),
        (["evaluate", str(run), "--n-prompts", str(10**11)], "GiB"),
        (["evaluate", str(run), "--out", str(tmp / "afile" / "r.npz")], "afile"),
        (["plot", str(tmp / "empty.npz")], "empty.npz"),
        (["plot", str(tmp / "text.npz")], "text.npz"),
    ]


def test_bad_input_at_every_entry_point_is_one_line(live_run, tmp_path):
    for arguments, named in bad_commands(live_run, tmp_path):
        code, printed = run_cli(*arguments)
        assert code == 2, (arguments[:4], printed)
        assert named in printed, (arguments[:4], printed)
        assert "Traceback" not in printed
        assert "tyro" not in printed  # the parser's internal names stay inside it
    # A size refused before anything was written leaves no folder behind.
    assert not (tmp_path / "new").exists()


# Ctrl-C from the first instant ----------------------------------------------------------------


def _program(*arguments: str) -> list[str]:
    """The `icl-theory` program as its console script starts it."""
    code = "import sys; from icl_theory.interrupt import entry_point; sys.exit(entry_point())"
    return [sys.executable, "-c", code, *arguments]


def _interrupted(arguments: list[str], when) -> tuple[int, str]:
    process = subprocess.Popen(
        _program(*arguments), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    when(process)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=300)
    return process.returncode, err + out


@pytest.mark.slow  # starts the program three times (CI runs -m slow)
def test_ctrl_c_while_loading_or_compiling_exits_130_with_one_line(tmp_path):
    run = tmp_path / "run"
    train_args = ["train", "--out", str(run), *TINY_ARGS]

    def while_importing(process):
        time.sleep(0.3)

    code, err = _interrupted(train_args, while_importing)
    assert code == 130 and "Traceback" not in err and "Exception ignored" not in err, err
    assert len(err.strip().splitlines()) == 1 and not run.exists()

    def once_the_folder_is_written(process):  # the run is then preparing or compiling
        while not (run / "config.json").exists() and process.poll() is None:
            time.sleep(0.01)

    code, err = _interrupted(train_args, once_the_folder_is_written)
    assert code == 130 and "Traceback" not in err and "Exception ignored" not in err, err
    assert "--resume" in err
    code, err = run_cli("train", "--resume", str(run), "--no-progress")
    assert code == 0, err
    reference = tmp_path / "reference"
    train(TINY, reference, progress=False)
    for a, b in zip(leaves(load_model(run)), leaves(load_model(reference)), strict=True):
        np.testing.assert_array_equal(a, b)
