"""Ctrl-C from the first instant: while the libraries load and a command prepares its work,
SIGINT only records the request, to be honoured at the next safe point, instead of raising
`KeyboardInterrupt` wherever Python happens to be (inside JAX's garbage-collection callback it
is swallowed, and the request lost). No heavy imports here: the command line's entry point
installs this before anything else is imported."""

import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager

_requested = False


def _record(signum, frame) -> None:
    global _requested
    _requested = True


def requested() -> bool:
    """Whether Ctrl-C arrived while requests were deferred."""
    return _requested


def raise_if_requested() -> None:
    if _requested:
        raise KeyboardInterrupt


def take() -> bool:
    """Whether Ctrl-C arrived while deferred, clearing the record (the training loop takes it
    over, and stops before its first step)."""
    global _requested
    taken, _requested = _requested, False
    return taken


def defer() -> bool:
    """From now on Ctrl-C is recorded, not raised (main thread only; False elsewhere)."""
    try:
        signal.signal(signal.SIGINT, _record)
    except ValueError:
        return False
    return True


@contextmanager
def deferred() -> Iterator[None]:
    """Ctrl-C recorded within the block (the training loop reads the record), raised at its
    end if it arrived, and raised as usual again after it."""
    if not defer():
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    raise_if_requested()


def entry_point() -> int:
    """The `icl-theory` program: the libraries load with Ctrl-C deferred, then the command runs
    (exit 130 with one line if Ctrl-C came during the loading)."""
    defer()
    try:
        from icl_theory.cli.help_pages import kept_page, prints_utf8

        page = kept_page(sys.argv[1:]) if prints_utf8() else None
        if page is not None:  # --help: the kept page, without loading the libraries
            sys.stdout.write(page)
            return 0
        # The parser and the libraries behind it (JAX): loaded here, with Ctrl-C deferred.
        from icl_theory.cli.app import main

        raise_if_requested()
        signal.signal(signal.SIGINT, signal.default_int_handler)
    except KeyboardInterrupt:
        print("icl-theory: interrupted while starting; nothing was written", file=sys.stderr)
        return 130
    return main()
