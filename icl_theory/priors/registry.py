"""Prior names and the prior-spec language used on the command line and in configs.

A spec is a small expression, parsed with Python's `ast` (no `eval`; only the forms below):

    dense                                   a registered prior with default hyperparameters
    sparse(k=2)                             keyword arguments set fields
    0.5*dense + 0.5*sparse(k=2)             a mixture (weights optional: `dense + sparse` is 50/50)
    convex(dense, sinusoid, alpha=0.3)      a convex combination (evaluation only)
    pool(dense, size=64, seed=0)            a finite task pool drawn from a base prior

`dim` and `noise_std` given to `build_prior` are defaults for every class in the spec; a class's
own keyword overrides them. Adding a prior is one module plus one `register_prior` line; an
installed package makes its priors known everywhere by naming that module in the entry-point
group `icl_theory.priors` (`load_plugins`), and the command line's `--import MODULE` does the same
for a module that is not installed.
"""

import ast
import dataclasses
import functools
import importlib.metadata
from typing import Any, Literal

from icl_theory._validation import did_you_mean, invalid
from icl_theory.priors.base import AbstractPrior
from icl_theory.priors.convex import ConvexCombination
from icl_theory.priors.linear import DenseLinear
from icl_theory.priors.mixture import Mixture
from icl_theory.priors.pool import FinitePool
from icl_theory.priors.relu import ReluNetwork
from icl_theory.priors.sinusoid import Sinusoid
from icl_theory.priors.sparse import SparseLinear

PRIORS: dict[str, type[AbstractPrior]] = {}
"""Prior name (as written in a spec) -> its class; `register_prior` adds to it."""
COMBINATORS = ("convex", "pool", "mixture")

OutputScale = Literal["raw", "unit"]


def register_prior(name: str, cls: type[AbstractPrior]) -> None:
    """Make `cls` available under `name` in prior specs; its init fields become keywords.
    Registering the same class under the same name again does nothing (a module imported
    twice); another class under a taken name is refused."""
    if PRIORS.get(name) is cls:
        return
    if name in PRIORS or name in COMBINATORS:
        raise ValueError(f"prior name {name!r} is already taken; choose another name.")
    PRIORS[name] = cls


register_prior("dense", DenseLinear)
register_prior("linear", DenseLinear)
register_prior("sparse", SparseLinear)
register_prior("sinusoid", Sinusoid)
register_prior("relu", ReluNetwork)


PLUGIN_GROUP = "icl_theory.priors"


@functools.cache
def load_plugins() -> None:
    """Load, once, what installed packages name in the entry-point group `icl_theory.priors`: a
    module whose import registers its priors (`register_prior`), or a function of no arguments
    that does. Called where a prior name is not known yet."""
    for entry in importlib.metadata.entry_points(group=PLUGIN_GROUP):
        try:
            loaded = entry.load()
            if callable(loaded):
                loaded()
        except Exception as error:
            raise ValueError(
                f"the prior plugin {entry.name!r} ({entry.value}, entry-point group "
                f"{PLUGIN_GROUP!r}) failed to load: {error}"
            ) from error


def known_names() -> str:
    return ", ".join([*PRIORS, *COMBINATORS])


# Far above any written mixture; ast's parser recurses per nesting level and fails obscurely on
# specs of tens of thousands of characters.
MAX_SPEC_LENGTH = 2000


def build_prior(
    spec: str, *, dim: int, noise_std: float = 0.0, output_scale: OutputScale | str = "raw"
) -> AbstractPrior:
    """Build a prior from a spec string (grammar in the module docstring).

    Args:
        spec: the prior spec, e.g. `"0.5*dense + 0.5*sparse(k=2)"`.
        dim: input dimension of every class.
        noise_std: default observation noise of every class.
        output_scale: `"raw"` keeps each class's own scale (Garg et al.); `"unit"` rescales each
            class to unit output variance (Panwar et al.).

    Raises:
        ValueError: naming the offending part of the spec and what is allowed.
    """
    if output_scale not in ("raw", "unit"):
        raise invalid("build_prior", "output_scale", output_scale, "must be 'raw' or 'unit'")
    if not isinstance(spec, str) or len(spec) > MAX_SPEC_LENGTH:
        shown = spec if not isinstance(spec, str) else f"{spec[:40]}... ({len(spec):,} characters)"
        raise invalid(
            "build_prior",
            "spec",
            shown,
            f"is a prior spec of at most {MAX_SPEC_LENGTH:,} characters; combine fewer classes, "
            "or define the prior in Python",
        )
    try:
        tree = ast.parse(spec.strip(), mode="eval").body
    except SyntaxError as error:
        raise invalid(
            "build_prior",
            "spec",
            spec,
            f"is not a valid prior spec ({error.msg}); e.g. '0.5*dense + 0.5*sparse(k=2)'",
        ) from None
    prior = _Builder(spec, dim, noise_std).build(tree)
    return prior.with_unit_output_variance() if output_scale == "unit" else prior


@dataclasses.dataclass(frozen=True)
class _Builder:
    spec: str
    dim: int
    noise_std: float

    def fail(self, what: str, allowed: str) -> ValueError:
        return invalid("build_prior", "spec", self.spec, f"{what}: {allowed}")

    def build(self, node: ast.expr) -> AbstractPrior:
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return self.mixture(_flatten_sum(node))
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
            return self.mixture([node])
        if isinstance(node, ast.Name):
            return self.leaf(node.id, {})
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            name = node.func.id
            keywords = {kw.arg: self.constant(kw.value) for kw in node.keywords if kw.arg}
            if name == "convex":
                first, second = self.positional(node, 2, name)
                return ConvexCombination(first, second, **keywords)
            if name == "pool":
                (base,) = self.positional(node, 1, name)
                return FinitePool(base, **keywords)
            if name == "mixture":
                weights = keywords.pop("weights", None)
                if keywords:
                    raise self.fail(f"mixture() got {sorted(keywords)}", "only weights=[...]")
                components = tuple(self.build(arg) for arg in node.args)
                return Mixture(components, None if weights is None else tuple(weights))
            self.check_name(name)
            if node.args:
                raise self.fail(f"{name}() got positional arguments", "use keywords, e.g. k=2")
            return self.leaf(name, keywords)
        raise self.fail(
            f"cannot read {ast.unparse(node)!r}",
            "expected a prior name, a call, or a sum like '0.5*dense + 0.5*sparse(k=2)'",
        )

    def mixture(self, terms: list[ast.expr]) -> AbstractPrior:
        weights: list[float | None] = []
        components = []
        for term in terms:
            if isinstance(term, ast.BinOp) and isinstance(term.op, ast.Mult):
                weights.append(float(self.constant(term.left)))
                components.append(self.build(term.right))
            else:
                weights.append(None)
                components.append(self.build(term))
        if all(w is None for w in weights):
            return Mixture(tuple(components))
        if any(w is None for w in weights):
            raise self.fail("some mixture terms have weights and some do not", "weight every term")
        return Mixture(tuple(components), tuple(w for w in weights if w is not None))

    def positional(self, node: ast.Call, count: int, name: str) -> list[AbstractPrior]:
        if len(node.args) != count:
            raise self.fail(f"{name}() takes {count} prior(s)", f"got {len(node.args)}")
        return [self.build(arg) for arg in node.args]

    def check_name(self, name: str) -> None:
        if name not in PRIORS:
            load_plugins()
        if name not in PRIORS:
            raise invalid(
                "build_prior",
                "prior",
                name,
                f"unknown prior name{did_you_mean(name, [*PRIORS, *COMBINATORS])}; known: "
                f"{known_names()} (a prior of your own: `register_prior`; on the command line "
                "`icl-theory --import MODULE ...`)",
            )

    def leaf(self, name: str, keywords: dict[str, Any]) -> AbstractPrior:
        self.check_name(name)
        cls = PRIORS[name]
        fields = [f.name for f in dataclasses.fields(cls) if f.init]
        unknown = sorted(set(keywords) - set(fields))
        if unknown:
            raise self.fail(f"{name}() has no field(s) {unknown}", f"its fields are {fields}")
        defaults = {"dim": self.dim, "noise_std": self.noise_std}
        return cls(**{**{k: v for k, v in defaults.items() if k in fields}, **keywords})

    def constant(self, node: ast.expr) -> Any:
        try:
            return ast.literal_eval(node)
        except ValueError:
            raise self.fail(f"{ast.unparse(node)!r} is not a constant", "use numbers") from None


def _flatten_sum(node: ast.expr) -> list[ast.expr]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _flatten_sum(node.left) + _flatten_sum(node.right)
    return [node]
