"""The `icl-theory` command line."""

import dataclasses
import inspect
import os
import shlex
import shutil
import subprocess
import sys

import docstring_parser
import pytest

from icl_theory.cli import COMMANDS, EXAMPLES, TrainOptions, help_pages, main
from icl_theory.curriculum import Curriculum
from icl_theory.training.curves import last_monitoring_error
from icl_theory.training.run_folder import RunFolder


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
            "0.3*dense + 0.35*sparse(k=2) + 0.35*sparse(k=3)",
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
    # Each class by its spec, so that two of one type are told apart.
    for label in ("dense", "sparse(k=2)", "sparse(k=3)"):
        assert f"\n{label} " in out
    assert "0.300" in out and "observed noise std 0.1" in out
    assert "(x[:4], ...; y)" in out  # 6 coordinates: the first 4 shown


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


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_help_explains_every_option_and_ends_with_examples(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.rstrip().splitlines()[-len(EXAMPLES[command]) :] == [
        f"  {example}" for example in EXAMPLES[command]
    ]
    for leaked in ("{None}", "__tyro", "STR [STR"):  # parser internals, not options
        assert leaked not in out
    # Every option has a sentence of help: each argument of the command is documented, and so
    # is each field of the configs `train` takes.
    documented = {p.arg_name for p in docstring_parser.parse(COMMANDS[command].__doc__).params}
    assert documented == set(inspect.signature(COMMANDS[command]).parameters)
    if command == "train":
        for config in (TrainOptions, Curriculum):
            fields = {field.name for field in dataclasses.fields(config)}
            described = {
                p.arg_name
                for cls in config.__mro__[:-1]  # the config and its bases, not `object`
                for p in docstring_parser.parse_from_object(cls).params
                if p.description
            }
            assert fields <= described, config
    # Each example parses: the same command line with --help added is accepted.
    for example in EXAMPLES[command]:
        arguments = shlex.split(example.split("#")[0])[1:]
        with pytest.raises(SystemExit) as parsed:
            main([*arguments, "--help"])
        assert parsed.value.code == 0, example


def test_a_mistyped_option_value_is_named_by_its_option_with_a_suggestion(capsys):
    assert main(["train", "--model", "smal"]) == 2
    assert "--model='smal' is invalid" in (err := capsys.readouterr().err)
    assert "did you mean 'small'?" in err and "TrainConfig" not in err
    assert main(["train", "--prior", "sparce(k=2)"]) == 2
    err = capsys.readouterr().err
    assert "--prior='sparce' is invalid" in err and "did you mean 'sparse'?" in err
    assert main(["train", "--n-points", "0"]) == 2
    assert "--n-points=0 is invalid: must be an integer >= 1" in capsys.readouterr().err


def test_train_takes_a_batch_composition_and_a_warm_start(tmp_path, capsys):
    common = ["--dim", "3", "--n-points", "4", "--model", "tiny", "--batch-size", "4"]
    common += ["--steps", "20", "--steps-per-call", "10", "--eval-every", "10"]
    common += ["--checkpoint-every", "10", "--eval-prompts", "8", "--warmup-steps", "2"]
    source = tmp_path / "source"
    assert main(["train", "--prior", "sparse(k=1)", *common, "--out", str(source)]) == 0
    mixture = ["--prior", "0.5*dense + 0.5*sparse(k=1)", "--batch-composition", "round-robin"]
    warm = tmp_path / "warm"
    assert main(["train", *mixture, *common, "--init-from", str(source), "--out", str(warm)]) == 0
    assert (warm / "checkpoint.eqx").is_file()
    # The run's last monitoring error is printed, as its metrics record it.
    out = " ".join(capsys.readouterr().out.split())
    error = last_monitoring_error(RunFolder(warm).metrics())
    assert error is not None and len(error) == 4
    assert f"{error[3]:.3f} at 3 examples" in out and f"{error[1]:.3f} at 1 example," in out
    # A warm start from nothing is one line naming the folder, exit 2.
    missing = ["--init-from", str(tmp_path / "nowhere"), "--out", str(tmp_path / "bad")]
    assert main(["train", *mixture, *common, *missing]) == 2
    err = capsys.readouterr().err
    assert "nowhere" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_the_kept_help_pages_are_the_live_ones_and_print_without_the_libraries():
    """`icl-theory --help` prints a page kept in the package (no JAX import); each must be what
    the parser prints now: rerun `python -m icl_theory.cli.help_pages` after changing a command."""
    # In a process of its own: the test run's import hooks change how docstrings wrap.
    check = [sys.executable, "-m", "icl_theory.cli.help_pages", "--check"]
    done = subprocess.run(check, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    for words in (("train",), ()):
        done = subprocess.run(
            [sys.executable, "-c", PROGRAM_WITHOUT_JAX, *words, "-h"],
            capture_output=True,
            encoding="utf-8",
            env=os.environ | {"PYTHONIOENCODING": "utf-8"},
            check=True,
        )
        assert done.stdout == help_pages.kept_page([*words, "-h"])
    # Anything more than command words and a help flag goes to the parser.
    assert help_pages.kept_page(["train", "--steps", "5", "--help"]) is None
    assert help_pages.kept_page(["train"]) is None


# The console script's entry point, failing if anything imported JAX on the way.
PROGRAM_WITHOUT_JAX = (
    "import sys; from icl_theory.interrupt import entry_point; code = entry_point(); "
    "assert 'jax' not in sys.modules, 'jax was imported'; sys.exit(code)"
)


def test_a_mistyped_command_is_named_with_the_closest_one(capsys):
    assert main(["trian", "--steps", "5"]) == 2
    err = capsys.readouterr().err
    assert "unknown command 'trian' (did you mean 'train'?)" in err
    assert main(["zzz"]) == 2
    assert "did you mean" not in capsys.readouterr().err  # nothing close: the list only
