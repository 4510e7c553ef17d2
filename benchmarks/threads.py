"""Pinning XLA to one intra-op thread for benchmarks; must run before jax is imported."""

import os

ONE_THREAD_FLAGS = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"


def pin_xla_threads(threads: int) -> str:
    """With `threads == 1`, add the one-thread XLA flags to `XLA_FLAGS`; returns a label."""
    if threads == 1:
        os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {ONE_THREAD_FLAGS}"
        return "1"
    return "default"
