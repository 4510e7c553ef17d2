"""Checks of command-line input that the library's own checks do not cover: seed ranges,
output paths, and options that `train --resume` would otherwise ignore."""

from pathlib import Path

from icl_theory._validation import InvalidField

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
