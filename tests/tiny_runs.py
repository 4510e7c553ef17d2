"""The tiny run the run-folder tests train, as a config and as command-line options, and the
command line called in this process."""

import contextlib
import io

from icl_theory.cli import main
from icl_theory.priors import build_prior
from icl_theory.training import TrainConfig

SPEC = "0.5*dense + 0.5*sparse(k=1)"
TINY = TrainConfig(
    prior=build_prior(SPEC, dim=3),
    n_points=5,
    batch_size=4,
    steps=30,
    steps_per_call=5,
    eval_every=10,
    checkpoint_every=10,
    eval_prompts=4,
    warmup_steps=2,
)
# The same run as `icl-theory train` options.
_OPTIONS = (
    "n_points",
    "batch_size",
    "steps",
    "steps_per_call",
    "eval_every",
    "checkpoint_every",
    "eval_prompts",
    "warmup_steps",
)
TINY_ARGS = [
    *("--prior", SPEC, "--dim", str(TINY.dim)),
    *(
        item
        for name in _OPTIONS
        for item in ("--" + name.replace("_", "-"), str(getattr(TINY, name)))
    ),
    "--no-progress",
]


def run_cli(*arguments: str) -> tuple[int, str]:
    """`main(arguments)` in this process, with its exit status and what it printed; never a
    traceback."""
    stderr, stdout = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(stdout):
        try:
            code = main(list(arguments))
        except SystemExit as exit_:  # argument parsing (tyro) exits on its own
            code = exit_.code if isinstance(exit_.code, int) else 2
    printed = stderr.getvalue() + stdout.getvalue()
    assert "Traceback" not in printed
    return code, printed
