"""`--help` without loading the libraries: every command's help page, rendered once and kept as
text in the package, so that `icl-theory --help` answers at once instead of after the seconds
JAX takes to import.

The pages are the live help at 80 columns, examples included; `python -m
icl_theory.cli.help_pages` renders them again after a command or its options change, and
`python -m icl_theory.cli.help_pages --check` (run by the tests) holds each kept page to the live
one. No heavy imports here: the entry point asks this module before it loads anything else.
"""

import io
import os
import sys
from contextlib import redirect_stdout, suppress
from pathlib import Path

PAGES = Path(__file__).resolve().parent / "help_pages"
HELP_FLAGS = ("-h", "--help")
# The command words of every kept page (the program's own page is the empty one).
COMMAND_WORDS: tuple[tuple[str, ...], ...] = (
    (),
    ("sample",),
    ("priors",),
    ("train",),
    ("train", "curriculum"),
    ("finalise",),
    ("evaluate",),
    ("plot",),
    ("quickstart",),
)
WIDTH = 80


def page_path(words: tuple[str, ...]) -> Path:
    return PAGES / f"{'-'.join(('icl-theory', *words))}.txt"


def kept_page(args: list[str]) -> str | None:
    """The kept help page that `args` asks for (command words, then -h or --help, nothing
    else), or `None` (the live command line answers)."""
    if not args or args[-1] not in HELP_FLAGS:
        return None
    words = tuple(args[:-1])
    if words not in COMMAND_WORDS:
        return None
    path = page_path(words)
    return path.read_text(encoding="utf-8") if path.is_file() else None


def prints_utf8() -> bool:
    """Whether standard output takes the kept pages' box characters (else the live parser
    answers, drawing its boxes in ASCII)."""
    return (getattr(sys.stdout, "encoding", None) or "").lower().replace("-", "") == "utf8"


def live_page(words: tuple[str, ...]) -> str:
    """What the parser prints for `WORDS --help` through a pipe (UTF-8, `WIDTH` columns)."""
    from icl_theory.cli.app import main

    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    previous = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(WIDTH)
    try:
        with redirect_stdout(out), suppress(SystemExit):
            main([*words, "--help"])
    finally:
        if previous is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = previous
    out.flush()
    return out.buffer.getvalue().decode()  # type: ignore[attr-defined]


def write_pages() -> list[Path]:
    PAGES.mkdir(exist_ok=True)
    written = []
    for words in COMMAND_WORDS:
        path = page_path(words)
        path.write_text(live_page(words), encoding="utf-8")
        written.append(path)
    return written


def stale_pages() -> list[str]:
    """The kept pages that differ from the live ones (by their command words)."""
    return [
        " ".join(("icl-theory", *words))
        for words in COMMAND_WORDS
        if kept_page([*words, "--help"]) != live_page(words)
    ]


if __name__ == "__main__":
    if sys.argv[1:] == ["--check"]:
        stale = stale_pages()
        if stale:
            sys.exit(
                f"stale help pages: {', '.join(stale)}; regenerate them with "
                "`python -m icl_theory.cli.help_pages`"
            )
    else:
        for written_path in write_pages():
            print(written_path, file=sys.stderr)
