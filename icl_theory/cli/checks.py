"""Checks of command-line input that the library's own checks do not cover: seed ranges,
output paths, and options that `train --resume` would otherwise ignore."""

import importlib
import os
import sys
from collections.abc import Iterable
from pathlib import Path

from icl_theory._validation import InvalidField, did_you_mean

# What `train --resume RUN` takes besides the run: the rest of a run's settings are its own.
RESUME_OPTIONS = ("--resume", "--allow-device-change", "--no-allow-device-change", "--extend-to")
RESUME_OPTIONS += ("--into", "--progress", "--no-progress", "-h", "--help")


def check_seed(option: str, seed: int) -> None:
    if not 0 <= seed < 2**32:
        raise InvalidField("cli", option, seed, "must be an integer in [0, 2**32)")


def check_output_path(option: str, path: str) -> None:
    """An output path that can be written: not empty, and not below a regular file."""
    if not path.strip():
        raise InvalidField("cli", option, path, "must name a file or folder (it is empty)")
    for parent in Path(path).parents:
        if parent.exists() and not parent.is_dir():
            raise InvalidField(
                "cli", option, path, f"lies below {parent}, which is a file: choose another path"
            )


def import_modules(args: list[str]) -> list[str]:
    """Import the modules named by leading `--import MODULE` options (from the current folder or
    installed: their priors register) and return the rest of the arguments."""
    while args[:1] == ["--import"]:
        if len(args) < 2:
            raise ValueError("--import needs a module name, e.g. `--import my_priors`")
        module, args = args[1], args[2:]
        if "" not in sys.path and os.getcwd() not in sys.path:
            sys.path.insert(0, os.getcwd())  # as `python -m` would find it
        try:
            importlib.import_module(module)
        except ImportError as error:
            raise ValueError(f"--import {module}: {error}") from None
    return args


def check_command(args: list[str], commands: Iterable[str]) -> None:
    """A mistyped command is named with the closest one (`trian`: did you mean 'train'?)."""
    if args and not args[0].startswith("-") and args[0] not in commands:
        raise ValueError(
            f"unknown command {args[0]!r}{did_you_mean(args[0], commands)}; the commands are "
            f"{', '.join(commands)} (`icl-theory --help`)"
        )


def check_resume_options(args: list[str]) -> None:
    """`train --resume RUN` with a run setting: refused, not silently ignored (a value equal to
    the default cannot be told apart from no value once parsed, so the words are checked)."""
    if args[:1] != ["train"] or not any(a.split("=")[0] == "--resume" for a in args):
        return
    extra = [
        a.split("=")[0]
        for a in args[1:]
        if (a.startswith("-") and a.split("=")[0] not in RESUME_OPTIONS)
        or a in ("curriculum", "no-curriculum")
    ]
    if extra:
        raise ValueError(
            f"train --resume continues the run with its own settings, so {', '.join(extra)} "
            "would be ignored: drop them (--extend-to changes the budget; a new run needs --out)"
        )
