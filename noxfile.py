"""Sessions: `nox -s tests lint typecheck` (CI runs the same checks through `.ci/run`), and `demo`.

Benchmarks (`benchmark_*`) print figures and save them under `benchmarks/results/`.
"""

import nox

nox.options.sessions = ["lint", "typecheck", "tests"]
nox.options.reuse_existing_virtualenvs = True

PYTHON = "3.11"


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """The test suite (jaxtyping + beartype checks, strict rank promotion, warnings as errors)."""
    session.install("-e", ".[test]")
    session.run("pytest", "-n", "2", *session.posargs)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff format check and ruff lint."""
    session.install("ruff>=0.17.5")
    session.run("ruff", "format", "--check", ".")
    session.run("ruff", "check", ".")


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """pyright over the package and the tests."""
    session.install("-e", ".[test]")
    session.run("pyright")


@nox.session(python=PYTHON)
def demo(session: nox.Session) -> None:
    """The README's main job: sample prompts from the dense + sparse mixture and summarise them."""
    session.install("-e", ".")
    session.run("icl-theory", "sample", *session.posargs)


@nox.session(python=PYTHON)
def benchmark_bayes(session: nox.Session) -> None:
    """Times of the exact Bayes predictors and NUTS on 1,280 prompts (docs/performance.md);
    `nox -s benchmark_bayes -- --threads 1` pins one XLA thread."""
    session.install("-e", ".")
    session.run("python", "benchmarks/bayes_predictors.py", *session.posargs)


@nox.session(python=PYTHON)
def benchmark_training(session: nox.Session) -> None:
    """Training steps/s and GFLOP/s for small, medium and paper (docs/performance.md), on one
    pinned thread and on two cores."""
    session.install("-e", ".")
    one_thread = ["taskset", "-c", "0", "python", "benchmarks/training_speed.py", "--threads", "1"]
    session.run(*one_thread, *session.posargs, external=True)
    two_cores = ["taskset", "-c", "0,1", "python", "benchmarks/training_speed.py"]
    session.run(*two_cores, *session.posargs, external=True)
