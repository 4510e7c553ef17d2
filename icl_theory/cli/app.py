"""The command line's parser and error handling: `main`, over the commands of `commands.py` and
`train.py`."""

import sys
from typing import Annotated

import tyro

from icl_theory.cli.checks import check_command, check_resume_options, import_modules
from icl_theory.cli.commands import evaluate, finalise, plot, priors, quickstart, sample
from icl_theory.cli.errors import BAD_INPUT, INTERRUPTED, describe_os_error
from icl_theory.cli.help import EXAMPLES, print_examples, with_unwrapped_arguments
from icl_theory.cli.train import TrainOptions, train

COMMANDS = {
    name: with_unwrapped_arguments(command)
    for name, command in {
        "sample": sample,
        "priors": priors,
        "train": train,
        "finalise": finalise,
        "evaluate": evaluate,
        "plot": plot,
        "quickstart": quickstart,
    }.items()
}


DESCRIPTION = (
    "In-context learning of function classes vs the exact Bayes predictor. `--import MODULE` "
    "(before the command, repeatable) imports a module that registers priors of your own, e.g. "
    "`icl-theory --import my_priors sample --prior quadratic`; an installed package does so "
    "through the entry-point group `icl_theory.priors`."
)


def main(args: Annotated[list[str] | None, "argv without the program name"] = None) -> int:
    try:
        args = import_modules(sys.argv[1:] if args is None else args)
        check_command(args, COMMANDS)
        check_resume_options(args)
        code = tyro.extras.subcommand_cli_from_dict(
            COMMANDS, prog="icl-theory", description=DESCRIPTION, args=args
        )
    except SystemExit as exit:
        print_examples(args or [])
        raise exit
    except KeyboardInterrupt:
        print(
            "icl-theory: interrupted; a training run continues with `icl-theory train --resume "
            "RUN` (from its checkpoint, or from step 0 if it had none)",
            file=sys.stderr,
        )
        return INTERRUPTED
    except OSError as error:
        print(f"icl-theory: error: {describe_os_error(error)}", file=sys.stderr)
        return BAD_INPUT
    except (ValueError, KeyError, RuntimeError) as error:
        print(f"icl-theory: error: {error}", file=sys.stderr)
        return BAD_INPUT
    return code if isinstance(code, int) else 0


__all__ = ["COMMANDS", "EXAMPLES", "TrainOptions", "main"]
