"""`icl-theory train`: a new run, an ensemble of seeds, or the continuation of either."""

import dataclasses
import re
from collections.abc import Callable
from typing import Annotated, TypeVar

import tyro
from rich.console import Console

from icl_theory import interrupt
from icl_theory._validation import InvalidField
from icl_theory.cli.checks import check_output_path, check_seed
from icl_theory.cli.errors import INTERRUPTED
from icl_theory.curriculum import Curriculum
from icl_theory.priors.registry import OutputScale, build_prior
from icl_theory.training.config import TrainConfig

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class CurriculumOptions(Curriculum):
    # `Curriculum`'s fields as the `curriculum` sub-command's options, checked after parsing
    # like `TrainOptions`'s; its help is `Curriculum`'s docstring (set below).

    def __post_init__(self) -> None:
        pass

    def checked(self) -> Curriculum:
        return Curriculum(**{f.name: getattr(self, f.name) for f in dataclasses.fields(self)})


CurriculumOptions.__doc__ = Curriculum.__doc__


@dataclasses.dataclass(frozen=True)
class _PriorOptionsFirst:
    # Only the order of the options: a dataclass's fields follow its bases' in reverse method
    # resolution order, so these four lead `train --help` as `TrainConfig.prior` did.
    prior: str = "dense"
    dim: int = 5
    noise_std: float = 0.0
    output_scale: OutputScale = "raw"


@dataclasses.dataclass(frozen=True)
class TrainOptions(TrainConfig, _PriorOptionsFirst):
    """`TrainConfig`'s fields as `train` options, the prior as a spec with its dimension, noise
    and output scale, checked after parsing (`TrainConfig(...)`) so that a bad value is reported
    by its option name rather than inside the parser."""

    prior: str = "dense"  # type: ignore[assignment]  # a spec here; `checked` builds the prior
    """Prior spec, e.g. `0.5*dense + 0.5*sparse(k=2)` (`icl-theory priors` lists the names)."""
    dim: int = 5  # type: ignore[assignment]  # an option here, the prior's dimension in the config
    """Input dimension d."""
    noise_std: float = 0.0
    """Standard deviation of the Gaussian noise added to every y."""
    output_scale: OutputScale = "raw"
    """`raw`: each class at Garg's scale; `unit`: every class at unit output variance."""
    curriculum: (
        Annotated[CurriculumOptions, tyro.conf.subcommand("curriculum", prefix_name=False)]
        | Annotated[None, tyro.conf.subcommand("no-curriculum", prefix_name=False)]
    ) = None
    """Garg's schedule over active dimensions and points: the sub-command `curriculum` with its
    options turns it on (see `icl-theory train curriculum --help`); off by default."""
    init_from: Annotated[str | None, tyro.conf.arg(metavar="RUN")] = None
    """A run folder whose final parameters this run starts from (same model preset, `dim` and
    `n_points`), with a fresh optimiser: a warm start; off by default."""

    def __post_init__(self) -> None:
        pass

    def checked(self) -> TrainConfig:
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(TrainConfig)}
        values["prior"] = build_prior(
            self.prior, dim=self.dim, noise_std=self.noise_std, output_scale=self.output_scale
        )
        if isinstance(self.curriculum, CurriculumOptions):
            values["curriculum"] = self.curriculum.checked()
        return TrainConfig(**values)


def train(
    config: Annotated[TrainOptions, tyro.conf.OmitArgPrefixes],
    out: Annotated[str, tyro.conf.arg(metavar="FOLDER")] = "runs/run",
    resume: Annotated[str | None, tyro.conf.arg(metavar="RUN")] = None,
    allow_device_change: bool = False,
    extend_to: Annotated[int | None, tyro.conf.arg(metavar="STEPS")] = None,
    into: Annotated[str | None, tyro.conf.arg(metavar="FOLDER")] = None,
    seeds: Annotated[tuple[int, ...], tyro.conf.arg(metavar="SEED")] = (),
    progress: bool = True,
) -> int:
    """Train a transformer on prompts from a prior, or continue a run with --resume RUN.

    Exit status: 0 when the run finished, 130 when Ctrl-C stopped it (a checkpoint was saved;
    continue with --resume), 2 on bad input, files or disks.

    Args:
        config: The run's settings (not with --resume, which uses the run's own).
        out: New run folder: config.json, prior.json, metrics.jsonl, checkpoint.eqx,
            provenance.json.
        resume: Run folder to continue: from its checkpoint, or from step 0 if it has none yet.
        allow_device_change: With --resume, continue on another device count than the run
            used (the result then differs from an uninterrupted run by float32 round-off).
        extend_to: With --resume, a new budget in steps for a constant or wsd run (one still
            before its decay): the result is the run planned that long from the start.
        into: With --resume, continue in a copy of the run made in this new folder, leaving the
            run as it is (with --extend-to: start a wsd decay from a stable checkpoint).
        seeds: Train one model per seed together, as one vmapped ensemble, into OUT/seedS
            (each folder a run of its own; --resume OUT continues them together).
        progress: Show a progress bar.
    """
    with interrupt.deferred():  # Ctrl-C while the run is prepared stops it before its first step
        return _train(config, out, resume, allow_device_change, extend_to, into, seeds, progress)


def _train(
    config: TrainOptions,
    out: str,
    resume: str | None,
    allow_device_change: bool,
    extend_to: int | None,
    into: str | None,
    seeds: tuple[int, ...],
    progress: bool,
) -> int:
    from icl_theory.training import ensemble
    from icl_theory.training import run as training
    from icl_theory.training.run_folder import RunFolder

    console = Console()
    if resume is not None and not RunFolder(resume).holds_run() and ensemble.is_ensemble(resume):
        if (config, extend_to, into) != (TrainOptions(), None, None) or seeds:
            raise ValueError("train --resume OUT continues an ensemble as it was; drop the options")
        # An ensemble's folder: its members continue together.
        return _report(console, ensemble.resume_seeds(resume, progress=progress))
    if resume is None:
        check_output_path("--out", out)
    if seeds:
        if resume is not None:
            raise ValueError("--seeds starts an ensemble; --resume OUT continues one")
        checked = _as_options(config.checked)
        for seed in seeds:
            check_seed("--seeds", seed)
        return _report(console, ensemble.train_seeds(checked, seeds, out, progress=progress))
    if resume is not None:
        if config != TrainOptions():
            raise ValueError(
                "train --resume continues with the run's own config; drop the other options, or "
                "start a new run with --out"
            )
        result = training.resume(
            resume,
            progress=progress,
            allow_device_change=allow_device_change,
            extend_to=extend_to,
            into=into,
        )
    else:
        if extend_to is not None or into is not None:
            raise ValueError("--extend-to and --into go with --resume RUN")
        result = training.train(_as_options(config.checked), out, progress=progress)
    return _report(console, [result])


def _report(console: Console, results: list) -> int:
    """The end of a training command: where the runs are, and how to continue them."""
    folders = " ".join(str(result.out) for result in results)
    if len(results) > 1:
        folders = str(results[0].out.parent)  # an ensemble continues from its folder
    if results[0].interrupted:
        console.print(
            f"stopped (Ctrl-C) at step {results[0].step}; continue with "
            f"`icl-theory train --resume {folders}`"
        )
        return INTERRUPTED
    console.print(f"finished at step {results[0].step}; run folder(s) {folders}")
    summary = monitoring_summary([result.out for result in results])
    if summary:
        console.print(summary)
    return 0


def monitoring_summary(runs: list) -> str:
    """The runs' last monitoring error, at 1 example, half the prompt and the last position
    (the mean over the runs of an ensemble), and what the number means."""
    import numpy as np

    from icl_theory.training.curves import last_monitoring_error
    from icl_theory.training.run_folder import RunFolder

    last = [last_monitoring_error(RunFolder(run).metrics()) for run in runs]
    if any(error is None for error in last):
        return ""
    errors = np.mean([error for error in last if error is not None], axis=0)
    positions = sorted({1, (len(errors) - 1) // 2, len(errors) - 1})
    shown = ", ".join(f"{errors[p]:.3f} at {p} example{'s' * (p != 1)}" for p in positions)
    over = f" (mean of {len(runs)} seeds)" if len(runs) > 1 else ""
    return (
        f"error on the held-out monitoring prompts{over}: {shown}; squared error over the "
        "class's output variance (0 is perfect, predicting 0 scores 1). Compare with least "
        "squares and the Bayes predictor: `icl-theory evaluate RUN`"
    )


def _option(field: str) -> str:
    return "--" + field.replace("_", "-")


def _as_options(build: Callable[[], T]) -> T:
    """`build()`, with a bad field reported as the option that set it (`--n-points=0 ...`)."""
    try:
        return build()
    except InvalidField as error:
        if error.owner in ("TrainConfig", "build_prior", "Curriculum"):
            fields = error.field.strip("()").split(",")  # one field, or a tuple of them
            fields = ["prior" if field == "spec" else field for field in fields]
            options = ", ".join(_option(field.strip()) for field in fields)
            # A bound given by another field (`must be <= points_end=1`) names its option too.
            allowed = re.sub(r"\b([a-z]+_[a-z_]+)=", lambda m: _option(m[1]) + "=", error.allowed)
            raise InvalidField(error.owner, options, error.value, allowed) from None
        raise
