"""The `icl-theory` command line."""

import shutil
import subprocess

import pytest

from icl_theory.cli import main


def test_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "sample" in out and "priors" in out


def test_sample_prints_a_per_class_summary(capsys):
    code = main(
        [
            "sample",
            "--prior",
            "0.3*dense + 0.7*sparse(k=2)",
            "--dim",
            "6",
            "--n-points",
            "5",
            "--batch",
            "256",
            "--noise-std",
            "0.1",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "DenseLinear" in out and "SparseLinear" in out and "0.300" in out
    assert "observed noise std 0.1" in out


def test_unknown_prior_is_a_clear_error_not_a_traceback(capsys):
    code = main(["sample", "--prior", "cubic", "--batch", "4"])
    assert code == 2
    err = capsys.readouterr().err
    assert "cubic" in err and "unknown prior name" in err and "dense" in err


def test_console_script_is_installed():
    executable = shutil.which("icl-theory")
    assert executable is not None, "pip install the package to get the icl-theory command"
    result = subprocess.run([executable, "priors"], capture_output=True, text=True, check=True)
    assert "sparse" in result.stdout and "sinusoid" in result.stdout
