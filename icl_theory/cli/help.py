"""Help text: each command's examples, and docstrings unwrapped so that the terminal, not the
source, decides where help lines break."""

from collections.abc import Callable

import tyro

EXAMPLES = {
    "sample": [
        "icl-theory sample --prior 'sparse(k=2)' --dim 8",
        "icl-theory sample --prior '0.5*dense + 0.5*sinusoid' --dim 1 --output-scale unit",
    ],
    "priors": ["icl-theory priors"],
    "train": [
        "icl-theory train --prior '0.5*dense + 0.5*sparse(k=2)' --dim 8 --n-points 17 "
        "--model small-deep --steps 3000 --out runs/mixture",
        "icl-theory train --prior dense --dim 8 --n-points 17 --out runs/curriculum curriculum "
        "--dims-start 3 --dims-end 8 --points-start 7 --points-end 17 --interval 300",
        "icl-theory train --schedule wsd --decay-steps 2000 --steps 100000 --out runs/long",
        "icl-theory train --resume runs/mixture            # after Ctrl-C or a crash",
        "icl-theory train --resume runs/long --extend-to 50000 --into runs/long-decayed",
        "icl-theory train --prior dense --seeds 0 1 2 --out runs/dense   # runs/dense/seed0 ...",
    ],
    "finalise": ["icl-theory finalise runs/mixture runs/long-decayed"],
    "evaluate": [
        "icl-theory evaluate runs/mixture --out runs/mixture.npz",
        "icl-theory evaluate runs/seed0 runs/seed1 runs/seed2 --prior 'sparse(k=3)'",
    ],
    "plot": ["icl-theory plot runs/mixture.npz"],
    "quickstart": ["icl-theory quickstart", "icl-theory quickstart --pretrained"],
}


def _unwrap_docstring_lines(text: str) -> str:
    """A docstring's wrapped lines joined into paragraphs (blank lines and `-` items still break
    them), so that the terminal, not the source, decides where help text wraps."""
    paragraphs: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("- ") or not paragraphs or not paragraphs[-1]:
            paragraphs.append(stripped)
        else:
            paragraphs[-1] += " " + stripped
    return "\n".join(paragraphs)


def _joining_wrapped_lines(original: Callable[[str], str]) -> Callable[[str], str]:
    return lambda text: original(_unwrap_docstring_lines(text))


def with_unwrapped_arguments(command: Callable) -> Callable:
    """`command` with each `Args:` description of its docstring on one line: tyro reads a
    function's argument help from the docstring as written, line breaks included."""
    lines: list[str] = []
    in_arguments, argument_indent = False, None
    for line in (command.__doc__ or "").splitlines():
        stripped, indent = line.strip(), len(line) - len(line.lstrip())
        if stripped == "Args:":
            in_arguments = True
        elif in_arguments and stripped and argument_indent is None:
            argument_indent = indent
        elif in_arguments and stripped and argument_indent is not None and indent > argument_indent:
            lines[-1] += " " + stripped
            continue
        lines.append(line)
    command.__doc__ = "\n".join(lines)
    return command


# tyro keeps a docstring's line breaks wherever the next line starts with a space or a
# non-letter (indented continuation lines, a backquote): unwrap the lines before it looks.
tyro._strings.remove_single_line_breaks = _joining_wrapped_lines(  # pyright: ignore
    tyro._strings.remove_single_line_breaks  # pyright: ignore
)


def print_examples(args: list[str]) -> None:
    """After a command's --help, its examples (tyro has no epilog)."""
    if not ({"-h", "--help"} & set(args)) or not args or args[0] not in EXAMPLES:
        return
    print("\nexamples:")
    for example in EXAMPLES[args[0]]:
        print(f"  {example}")
