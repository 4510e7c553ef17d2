"""Test-wide numerics and Hypothesis settings.

The package is deliberately not imported here: jaxtyping's pytest hook
(`--jaxtyping-packages=icl_theory,beartype.beartype` in pyproject.toml) must see the first import,
so that every annotated function and module is checked by beartype during the tests.
"""

import os

# Tests compile many small programs and run each briefly; XLA's CPU backend spends most of that
# time in LLVM optimisation. Level 0 halved the sampler tests' compile time here (9.4 s -> 4.3 s
# for four prior/shape combinations) without changing IEEE semantics (no fast-math). Must be set
# before JAX initialises its backend; `ICL_TEST_XLA_OPTIMISE=1` restores the default.
if os.environ.get("ICL_TEST_XLA_OPTIMISE") != "1":
    os.environ["XLA_FLAGS"] = (
        os.environ.get("XLA_FLAGS", "") + " --xla_backend_optimization_level=0"
    ).strip()

# Compiled programs are also kept on disk (JAX's persistent compilation cache), where the two
# xdist workers, every module after `_release_compiled_programs` has dropped the in-memory copies,
# the training subprocesses some tests start, and later runs of the suite find them. The cache is
# keyed by the program, the JAX version and the XLA flags, so a hit is the same executable.
# Set through the environment so that subprocesses inherit it; `ICL_TEST_JAX_CACHE=` (empty)
# turns it off.
if os.environ.get("ICL_TEST_JAX_CACHE") != "":
    os.environ.setdefault(
        "JAX_COMPILATION_CACHE_DIR",
        os.environ.get("ICL_TEST_JAX_CACHE")
        or os.path.join(os.path.expanduser("~"), ".cache", "icl_theory", "jax"),
    )
    # Programs that compile faster than this are cheaper to recompile than to read back.
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.1")

import hypothesis
import jax
import pytest

# `(n,)` against `(n, 1)` broadcasting is the classic silent bug in this kind of code.
jax.config.update("jax_numpy_rank_promotion", "raise")

# Derandomised by default, so CI is reproducible and a failure replays; `HYPOTHESIS_PROFILE=dev`
# explores more examples with fresh randomness.
hypothesis.settings.register_profile(
    "ci", deadline=None, max_examples=12, derandomize=True, print_blob=True
)
hypothesis.settings.register_profile("dev", deadline=None, max_examples=100)
hypothesis.settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True, scope="module")
def _release_compiled_programs():
    """Drop JAX's compiled programs after each test module.

    JAX keeps every executable it compiles alive for the life of the process, and each holds a
    few memory mappings of machine code. The suite compiles tens of thousands of programs (many
    shapes, Hypothesis examples, float32 and float64), so one process running all of it passed
    Linux's default limit of 65,530 mappings per process (`vm.max_map_count`) about 87% of the
    way through. The next compilation then failed inside LLVM with SIGSEGV or SIGABRT. Clearing
    the caches between modules unmaps them (measured: 300 small programs hold about 950
    mappings, and `jax.clear_caches()` returns them). A module recompiles what it needs, and no
    module alone comes near the limit.
    """
    yield
    jax.clear_caches()
