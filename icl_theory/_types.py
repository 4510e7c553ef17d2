"""Shared jaxtyping aliases, named after the domain.

A single prompt is ``(xs, ys)`` with ``xs`` of shape ``(n_points, dim)`` and ``ys`` of shape
``(n_points,)``; batches add a leading ``batch`` axis. Runtime checking of these annotations is
switched on in the test run (jaxtyping's pytest hook), not in the source.
"""

from jaxtyping import Array, Bool, Float, Int, PRNGKeyArray

Key = PRNGKeyArray

Xs = Float[Array, "n_points dim"]
Ys = Float[Array, " n_points"]
Preds = Float[Array, " n_points"]
Point = Float[Array, " dim"]
Scalar = Float[Array, ""]
IntScalar = Int[Array, ""]

BatchXs = Float[Array, "batch n_points dim"]
BatchYs = Float[Array, "batch n_points"]
BatchClasses = Int[Array, " batch"]
BatchMask = Bool[Array, "batch n_points"]

# A count that may be a Python int (static) or a traced scalar (e.g. a curriculum inside `jit`).
Count = int | Int[Array, ""]

__all__ = [
    "BatchClasses",
    "BatchMask",
    "BatchXs",
    "BatchYs",
    "Count",
    "IntScalar",
    "Key",
    "Point",
    "Preds",
    "Scalar",
    "Xs",
    "Ys",
]
