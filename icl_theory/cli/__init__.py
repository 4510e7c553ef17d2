"""The `icl-theory` command line: one subcommand per job, typed options over the library's API.

app.py         `main`: the parser over the commands, and how errors end
commands.py    sample, priors, finalise, evaluate, plot, quickstart
train.py       train (new runs, ensembles, continuations)
checks.py      input checks the library does not make (seeds, output paths, resume options)
help.py        examples after --help; docstrings unwrapped for tyro
help_pages.py  every --help page kept as text, printed without loading the libraries
errors.py      exit statuses; one-line messages for failed file operations

The names below load on first use, so that `help_pages` (and the program's start) can be
imported without JAX.
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from icl_theory.cli.app import COMMANDS, EXAMPLES, TrainOptions, main

_LAZY = {"COMMANDS", "EXAMPLES", "TrainOptions", "main"}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'icl_theory.cli' has no attribute {name!r}")
    return getattr(importlib.import_module("icl_theory.cli.app"), name)


__all__ = ["COMMANDS", "EXAMPLES", "TrainOptions", "main"]
