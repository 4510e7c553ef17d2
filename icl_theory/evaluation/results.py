"""Evaluation results as data: per-prompt errors of every predictor on one evaluation set.

Only NumPy and the standard library are imported here, so saved results load (and plot) without
JAX or the models that produced them. One `.npz` file holds everything, written atomically:

    errors/<name>       (seeds, prompts, points)  squared error against the noise-free f(x_i),
                                                  divided by the prior's output variance at x_i
                                                  (NaN: a Bayes predictor has no prediction there,
                                                  its prior giving the prefix probability zero)
    class_posterior     (prompts, classes, points) the Bayes class posterior (mixture priors)
    <kind>/<name>       (prompts, points)         a selection diagnostic of one predictor
                                                  (`Selection`: implied_weight, unexplained,
                                                  off_support, nonlinear)
    class_index         (prompts,)                the mixture class of each prompt
    metadata            JSON: the setup (`EvalSetup`), the caller's notes, class names,
                        provenance (versions, git commit, machine)

A predictor with several entries along `seeds` (models trained from different seeds) is averaged
over them; its confidence intervals resample seeds as well as prompts.
"""

import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from icl_theory.evaluation.setup import EvalSetup
from icl_theory.records import write_atomic

FORMAT_VERSION = 3
# Version 1 stored the class posterior and the diagnostics as `extras/<kind>/<name>`; versions 1
# and 2 stored the setup and the notes as one `config` mapping.
READABLE_VERSIONS = (1, 2, 3)


@dataclass(frozen=True)
class Selection:
    """The model-selection diagnostics (`icl_theory.evaluation.diagnostics`), per predictor
    name, each `(prompts, points)`: NaN beyond the first `prompts` evaluation prompts (the ones
    probed) and where the quantity is undefined.

    - `implied_weight`, `unexplained`: the predictor as a blend of two class predictors.
    - `off_support`, `nonlinear`: the linear function it implies, its share off the prompt's
      relevant inputs, and what no linear function explains.
    """

    implied_weight: dict[str, np.ndarray] = field(default_factory=dict)
    unexplained: dict[str, np.ndarray] = field(default_factory=dict)
    off_support: dict[str, np.ndarray] = field(default_factory=dict)
    nonlinear: dict[str, np.ndarray] = field(default_factory=dict)

    KINDS = ("implied_weight", "unexplained", "off_support", "nonlinear")

    def arrays(self) -> dict[str, dict[str, np.ndarray]]:
        return {kind: getattr(self, kind) for kind in self.KINDS}

    def select(self, keep: np.ndarray) -> "Selection":
        """The diagnostics of the prompts `keep` (a boolean mask)."""
        return Selection(
            **{
                kind: {name: value[keep] for name, value in values.items()}
                for kind, values in self.arrays().items()
            }
        )


@dataclass(frozen=True)
class Curve:
    """A per-position mean with a bootstrap confidence band."""

    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray

    @property
    def context_lengths(self) -> np.ndarray:
        """Position `i` is predicted from `i` in-context examples."""
        return np.arange(self.mean.shape[0])


@dataclass(frozen=True)
class EvalResults:
    """Errors of named predictors on one seeded evaluation set (see the module docstring):
    `setup`, what they were measured on; `notes`, whatever the caller saved with them (the run
    folders, training steps, an experiment's preset)."""

    errors: dict[str, np.ndarray]
    class_index: np.ndarray
    setup: EvalSetup
    notes: dict[str, Any] = field(default_factory=dict)
    class_names: tuple[str, ...] = ("all",)
    class_posterior: np.ndarray | None = None
    selection: Selection = field(default_factory=Selection)
    provenance: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        shapes = {name: value.shape for name, value in self.errors.items()}
        for name, shape in shapes.items():
            if len(shape) != 3 or shape[1:] != (self.n_prompts, self.n_points):
                raise ValueError(
                    f"errors[{name!r}] has shape {shape}; every predictor needs "
                    f"(seeds, {self.n_prompts}, {self.n_points}) (seeds, prompts, points)"
                )

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.errors)

    @property
    def n_prompts(self) -> int:
        return self.class_index.shape[0]

    @property
    def n_points(self) -> int:
        return self.setup.n_points

    def seeds(self, name: str) -> int:
        return self._errors(name).shape[0]

    def mean(self, name: str) -> np.ndarray:
        """Mean normalised error per position (over seeds and prompts)."""
        return self._errors(name).mean(axis=(0, 1))

    def curve(self, name: str, *, level: float = 0.95, resamples: int = 2000) -> Curve:
        """Mean error per position with a percentile bootstrap band over prompts (and seeds)."""
        return bootstrap_curve(self._errors(name), level=level, resamples=resamples)

    def excess(
        self, name: str, reference: str = "Bayes", *, level: float = 0.95, resamples: int = 2000
    ) -> Curve:
        """`name`'s error minus `reference`'s, paired prompt by prompt (same prompts, so the band
        is much narrower than the difference of two independent bands)."""
        reference_errors = self._errors(reference).mean(axis=0, keepdims=True)
        return bootstrap_curve(
            self._errors(name) - reference_errors, level=level, resamples=resamples
        )

    def for_class(self, class_name: str) -> "EvalResults":
        """The results restricted to prompts of one mixture class."""
        if class_name not in self.class_names:
            raise ValueError(
                f"class {class_name!r} is not in this evaluation; its classes are "
                f"{list(self.class_names)}"
            )
        keep = self.class_index == self.class_names.index(class_name)
        return EvalResults(
            errors={name: value[:, keep] for name, value in self.errors.items()},
            class_index=self.class_index[keep],
            setup=self.setup,
            notes=self.notes,
            class_names=self.class_names,
            class_posterior=None if self.class_posterior is None else self.class_posterior[keep],
            selection=self.selection.select(keep),
            provenance=self.provenance,
        )

    def save(self, path: str | Path) -> Path:
        """Write one `.npz` file atomically (a reader never sees half a file)."""
        path = Path(path)
        arrays = {f"errors/{name}": value for name, value in self.errors.items()}
        for kind, values in self.selection.arrays().items():
            arrays |= {f"{kind}/{name}": value for name, value in values.items()}
        if self.class_posterior is not None:
            arrays["class_posterior"] = self.class_posterior
        metadata = {
            "format_version": FORMAT_VERSION,
            "setup": self.setup.to_json(),
            "notes": self.notes,
            "class_names": list(self.class_names),
            "provenance": self.provenance,
            "names": list(self.errors),
        }
        buffer = io.BytesIO()
        arrays |= {"class_index": self.class_index, "metadata": np.array(json.dumps(metadata))}
        # pyright reads `**arrays` as possibly feeding the `allow_pickle` keyword.
        np.savez_compressed(buffer, **arrays)  # pyright: ignore[reportArgumentType]
        write_atomic(path, buffer.getvalue())
        return path

    @classmethod
    def load(cls, path: str | Path) -> "EvalResults":
        path = Path(path)
        raw = path.read_bytes()  # an OSError here names the path itself
        if not raw.startswith(b"PK"):  # every .npz is a zip archive
            raise ValueError(
                f"{path} is not an evaluation result (not an .npz archive): pass a file written "
                "by `icl-theory evaluate` or an experiment"
            )
        try:
            # Read the bytes first: np.load on a broken zip leaves its file handle open.
            with np.load(io.BytesIO(raw), allow_pickle=False) as data:
                metadata = json.loads(str(data["metadata"]))
                errors = {name: data[f"errors/{name}"] for name in metadata["names"]}
                # Version 1 kept the same arrays under `extras/`. The errors are read above, once.
                arrays = {
                    key.removeprefix("extras/"): data[key]
                    for key in data.files
                    if not key.startswith("errors/")
                }
                class_index = data["class_index"]
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
            raise ValueError(
                f"{path} is not a readable evaluation result ({error}); regenerate it with "
                "`icl-theory evaluate` or the experiment that wrote it"
            ) from error
        if metadata.get("format_version") not in READABLE_VERSIONS:
            raise ValueError(
                f"{path} has format version {metadata.get('format_version')}, this code reads "
                f"{list(READABLE_VERSIONS)}; regenerate it"
            )
        selection = Selection(
            **{
                kind: {
                    key.removeprefix(f"{kind}/"): value
                    for key, value in arrays.items()
                    if key.startswith(f"{kind}/")
                }
                for kind in Selection.KINDS
            }
        )
        if "config" in metadata:  # versions 1 and 2
            setup, notes = EvalSetup.split(metadata["config"])
        else:
            setup, notes = EvalSetup(**metadata["setup"]), metadata["notes"]
        return cls(
            errors=errors,
            class_index=class_index,
            setup=setup,
            notes=notes,
            class_names=tuple(metadata["class_names"]),
            class_posterior=arrays.get("class_posterior"),
            selection=selection,
            provenance=metadata["provenance"],
        )

    def _errors(self, name: str) -> np.ndarray:
        if name not in self.errors:
            raise KeyError(f"no predictor {name!r} in these results; they hold {list(self.names)}")
        return self.errors[name]


def bootstrap_curve(
    errors: np.ndarray, *, level: float = 0.95, resamples: int = 2000, seed: int = 0
) -> Curve:
    """Mean over seeds and prompts of `errors (seeds, prompts, points)`, with a percentile
    bootstrap interval that resamples prompts and, independently, seeds (a two-level bootstrap:
    with one seed it is the ordinary bootstrap over prompts).

    Deterministic (`seed`). Resampling is done with multinomial counts and matrix products, so
    2,000 resamples of 1,280 prompts take milliseconds and no copies of the data.
    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"level={level} must lie in (0, 1), e.g. 0.95")
    n_seeds, n_prompts, _ = errors.shape
    errors = errors.astype(np.float64)
    rng = np.random.default_rng(seed)
    prompt_weights = rng.multinomial(n_prompts, np.full(n_prompts, 1 / n_prompts), resamples)
    seed_weights = (
        rng.multinomial(n_seeds, np.full(n_seeds, 1 / n_seeds), resamples)
        if n_seeds > 1
        else np.ones((resamples, 1))
    )
    per_seed = np.einsum("bp,spn->bsn", prompt_weights, errors) / n_prompts
    means = np.einsum("bs,bsn->bn", seed_weights, per_seed) / n_seeds
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail], axis=0)
    return Curve(mean=errors.mean(axis=(0, 1)), low=low, high=high)
