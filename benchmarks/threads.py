"""Pinning XLA to one intra-op thread for benchmarks; must run before jax is imported."""

import os

# XLA has no intra-op thread-count flag (`intra_op_parallelism_threads` is not one: an unknown name
# in XLA_FLAGS aborts the process); turning off its Eigen thread pool pins it to one thread.
ONE_THREAD_FLAGS = "--xla_cpu_multi_thread_eigen=false"


def pin_xla_threads(threads: int) -> str:
    """With `threads == 1`, add the one-thread XLA flags to `XLA_FLAGS`; returns a label."""
    if threads == 1:
        os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {ONE_THREAD_FLAGS}"
        return "1"
    return "default"
