"""Sessions: `nox -s tests lint typecheck` (CI runs the same checks through `.ci/run`); `quickstart`
(the main job) and one session per experiment.

Benchmarks (`benchmark_*`) print figures and save them under `benchmarks/results/`.
"""

import os

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
def extended(session: nox.Session) -> None:
    """Checks of tools used off the CPU workflow (the accelerator script's dry run), left out of
    CI: run before using them."""
    session.install("-e", ".[test]")
    session.run("pytest", "-m", "extended", *session.posargs)


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
def benchmark_bayes(session: nox.Session) -> None:
    """Times of the exact Bayes predictors and NUTS on 1,280 prompts (docs/performance.md);
    `nox -s benchmark_bayes -- --threads 1` pins one XLA thread."""
    session.install("-e", ".")
    session.run("python", "benchmarks/bayes_predictors.py", *session.posargs)


@nox.session(python=PYTHON)
def benchmark_training(session: nox.Session) -> None:
    """The training-speed tables of docs/performance.md: the kernel ceiling (matrix products of
    every library within reach), then this project's step against Garg et al.'s own
    (dtsip/in-context-learning), alternately, on one pinned thread and on two cores.

    The reference needs a clone of that repository and a Python with PyTorch, named by the
    environment variables DTSIP and TORCH_PYTHON (benchmarks/dtsip_step.py says how to make
    them); without them only this project's figures are measured."""
    session.install("-e", ".", "threadpoolctl")
    dtsip, torch_python = os.environ.get("DTSIP"), os.environ.get("TORCH_PYTHON")
    ceiling = ["python", "benchmarks/kernel_ceiling.py"]
    session.run(*ceiling, *(["--torch-python", torch_python] if torch_python else []))
    if dtsip and torch_python:
        side_by_side = ["python", "benchmarks/side_by_side.py", "--dtsip", dtsip]
        session.run(*side_by_side, "--torch-python", torch_python, *session.posargs)
        return
    session.warn("DTSIP or TORCH_PYTHON unset: timing this project's step only")
    one_thread = ["taskset", "-c", "0", "python", "benchmarks/training_speed.py", "--threads", "1"]
    session.run(*one_thread, *session.posargs, external=True)
    two_cores = ["taskset", "-c", "0,1", "python", "benchmarks/training_speed.py"]
    session.run(*two_cores, *session.posargs, external=True)


@nox.session(python=PYTHON)
def docs(session: nox.Session) -> None:
    """The documentation site into site/ (mkdocs, strict: a warning fails the build); `-- serve`
    shows it at http://127.0.0.1:8000 while editing."""
    session.install("-e", ".[docs]")
    # Material prints a notice about MkDocs 2 on every build; it is not about this site.
    session.env["NO_MKDOCS_2_WARNING"] = "1"
    if session.posargs[:1] == ["serve"]:
        session.run("mkdocs", "serve", *session.posargs[1:])
    else:
        session.run("mkdocs", "build", "--strict", *session.posargs)


@nox.session(python=PYTHON)
def benchmark_ensemble(session: nox.Session) -> None:
    """Model-steps/s of vmapped ensembles against single runs one per core (docs/performance.md)."""
    session.install("-e", ".")
    session.run("python", "benchmarks/ensemble_speed.py", *session.posargs)


def _experiment(session: nox.Session, name: str, default: list[str] | None = None) -> None:
    session.install("-e", ".")
    if default is None:
        default = ["--preset", "small", "--jobs", "2"]
    arguments = session.posargs or default
    session.run("python", "-m", f"experiments.{name}.run", *arguments)


@nox.session(python=PYTHON)
def dense_sparse_mixture(session: nox.Session) -> None:
    """Experiment 1 (default `--preset small --jobs 2`; `-- --preset smoke` for seconds)."""
    _experiment(session, "dense_sparse_mixture")


@nox.session(python=PYTHON)
def intermediate_sparsity(session: nox.Session) -> None:
    """Experiment 2: the models of experiment 1 on 1 .. d nonzero coefficients."""
    _experiment(session, "intermediate_sparsity")


@nox.session(python=PYTHON)
def sparse_regime(session: nox.Session) -> None:
    """The sparse-regime scaling study: sparse specialists' share of least squares' error removed
    against training compute (`-- --preset small --no-train` analyses the runs as they stand)."""
    _experiment(session, "sparse_regime")


@nox.session(python=PYTHON)
def selection_emergence(session: nox.Session) -> None:
    """When the mixture model starts to select: its implied class weight at each snapshot."""
    _experiment(session, "selection_emergence", ["--preset", "sparse-regime"])


@nox.session(python=PYTHON)
def plateau(session: nox.Session) -> None:
    """Which runs left the initial plateau, and when (from their metrics; trains nothing)."""
    _experiment(session, "plateau", [])


@nox.session(python=PYTHON)
def mixture_weights(session: nox.Session) -> None:
    """Experiment 3: mixtures trained with dense weights 0.1, 0.5, 0.9."""
    _experiment(session, "mixture_weights")


@nox.session(python=PYTHON)
def selection_across_families(session: nox.Session) -> None:
    """Experiment 4: linear, sinusoid and mixture models (1-D), 3 seeds each."""
    _experiment(session, "selection_across_families")


@nox.session(python=PYTHON)
def convex_combinations(session: nox.Session) -> None:
    """Experiment 5: the models of experiment 4 on alpha * linear + (1 - alpha) * sinusoid."""
    _experiment(session, "convex_combinations")


@nox.session(python=PYTHON)
def frequency_extrapolation(session: nox.Session) -> None:
    """Experiment 6: the models of experiment 4 on frequencies in and out of the band."""
    _experiment(session, "frequency_extrapolation")


@nox.session(python=PYTHON)
def function_drawings(session: nox.Session) -> None:
    """Experiment 7: what the predictors draw through a context, in and out of distribution."""
    _experiment(session, "function_drawings")


@nox.session(python=PYTHON)
def quickstart(session: nox.Session) -> None:
    """The main job (`icl-theory quickstart`); `-- --pretrained` uses the committed model."""
    session.install("-e", ".")
    session.run("icl-theory", "quickstart", *session.posargs)
