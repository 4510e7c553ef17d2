"""The three experiments of the linear model-selection study (see `linear.py` for the presets).

Each function trains what is missing (reusing finished runs), evaluates, and writes results
(`.npz`), tables (Markdown) and figures under `experiments/NAME/{results,tables,figures}/PRESET`.
Tables and figures are drawn from the saved results, so `replot` regenerates them without JAX
models.
"""

import math
from pathlib import Path

import jax
import numpy as np

from icl_theory.evaluation import (
    EvalResults,
    blend_weight,
    evaluate,
    evaluation_prompts,
    linear_fit,
    off_support_share,
    posterior_defined,
    query_predictions,
    sample_queries,
)
from icl_theory.evaluation.tuning import select_lasso
from icl_theory.plotting import WEIGHT_PREFIX, nan_quantile, save_figure, summary_figure
from icl_theory.predictors import bayes_predictor
from icl_theory.predictors.baselines import Averaging, LeastSquares
from icl_theory.priors import Mixture, build_prior
from icl_theory.priors.mixture import MixtureTask
from icl_theory.prompts import Prompts
from icl_theory.studies.linear import NOISE_FREE, LinearStudy, run_name, study
from icl_theory.studies.reporting import (
    UNDEFINED_NOTE,
    curve_table,
    experiment_dir,
    runs_dir,
    runs_table,
    value_table,
    write_text,
)
from icl_theory.studies.runs import train_all
from icl_theory.training.run import load_model

# Bayes over more sparse supports than this is skipped in the intermediate-sparsity sweep
# (d = 20, 10 nonzeros has 184,756 supports).
MAX_SUPPORTS = 20_000

# Extras of the selection diagnostics, per predictor name (WEIGHT_PREFIX: the implied weight).
UNEXPLAINED_PREFIX = "unexplained/"
OFF_SUPPORT_PREFIX = "off_support/"
NONLINEAR_PREFIX = "nonlinear/"


def dense_sparse_mixture(
    preset: str = "small", *, root: Path | None = None, jobs: int = 1, progress: bool = True
) -> list[Path]:
    """Experiment 1: dense, sparse and mixture models on dense and on sparse prompts, next to
    the Bayes predictor of each class and of the mixture, least squares, Lasso and averaging;
    noise-free (several seeds) and with small noise (one seed)."""
    s = study(preset)
    runs = s.specialists_and_mixture(NOISE_FREE, s.seeds)
    runs |= s.specialists_and_mixture(s.small_noise, s.seeds[:1])
    train_all(runs, runs_dir(preset, root), jobs=jobs, progress=progress)
    written = []
    for noise in s.noise_levels:
        seeds = s.seeds if noise == NOISE_FREE else s.seeds[:1]
        prior = _mixture(s.mixture_spec(), s.dim, noise)
        dense, sparse = prior.components
        lasso, lasso_scores = select_lasso(sparse, s.n_points)
        lasso_name = f"Lasso (alpha={lasso.alpha:g})"
        models = {
            f"{label} model": _models(s, label, noise, seeds, root)
            for label in ("dense", "sparse", "mixture")
        }
        baselines = {
            "Bayes dense": bayes_predictor(dense),
            "Bayes sparse": bayes_predictor(sparse),
            "least squares": LeastSquares(),
            lasso_name: lasso,
            "averaging": Averaging(),
        }
        results = evaluate(
            models | baselines,
            prior,
            s.n_points,
            n_prompts=s.n_prompts,
            config=_config(s, noise, prior_spec=s.mixture_spec())
            | {"lasso_validation_error": {str(a): e for a, e in lasso_scores.items()}},
        )
        each_seed = _per_seed(models, seeds)
        mixture_seeds = {n: m for n, m in each_seed.items() if n.startswith("mixture model")}
        bayes = {"Bayes": bayes_predictor(prior)}
        results = _with_selection_diagnostics(
            results,
            s,
            prior,
            classes=baselines,
            weighted=mixture_seeds | bayes,
            # Lasso too: the paper's yardstick for the sparse model is how close it gets to Lasso,
            # so its share of `w` off the support is the one to hold the models against.
            probed=each_seed
            | {name: baselines[name] for name in ("least squares", lasso_name)}
            | bayes,
        )
        tag = f"noise{noise:g}"
        written.append(
            results.save(
                experiment_dir("dense_sparse_mixture", preset, "results", root) / f"{tag}.npz"
            )
        )
    written += replot_dense_sparse_mixture(preset, root=root)
    return written


def replot_dense_sparse_mixture(preset: str = "small", *, root: Path | None = None) -> list[Path]:
    """Tables and figures of experiment 1 from its saved results."""
    s = study(preset)
    written = [
        write_text(
            runs_dir(preset, root) / "runs.md",
            f"# Training runs, preset `{preset}`\n\n" + runs_table(runs_dir(preset, root)),
        )
    ]
    for noise in s.noise_levels:
        tag = f"noise{noise:g}"
        results = EvalResults.load(
            experiment_dir("dense_sparse_mixture", preset, "results", root) / f"{tag}.npz"
        )
        figure = summary_figure(results, _plotted(results))
        written.append(
            save_figure(
                figure,
                experiment_dir("dense_sparse_mixture", preset, "figures", root) / f"{tag}.png",
            )
        )
        text = [f"# Dense vs sparse vs mixture, preset `{preset}`, noise std {noise:g}\n"]
        text.append(_provenance_line(results))
        for class_label, own in zip(results.class_names, ("dense", "sparse"), strict=True):
            subset = results.for_class(class_label)
            positions = s.key_lengths()
            text.append(f"\n## {class_label} prompts: normalised error (95% CI)\n\n")
            text.append(curve_table(subset, list(results.names), positions))
            text.append(
                f"\n## {class_label} prompts: mean normalised error of each training seed "
                "(the seed-to-seed spread an effect must exceed)\n\n"
            )
            text.append(_seed_table(subset, s.seeds, positions))
            text.append(f"\n## {class_label} prompts: excess over the {own} specialist model\n\n")
            text.append(
                curve_table(
                    subset,
                    ["mixture model", "Bayes", f"Bayes {own}"],
                    positions,
                    excess_over=f"{own} model",
                )
            )
            text.append(
                f"\n## {class_label} prompts: excess over Bayes of the class (Bayes {own})\n\n"
            )
            text.append(
                curve_table(
                    subset,
                    ["mixture model", f"{own} model", "Bayes"],
                    positions,
                    excess_over=f"Bayes {own}",
                )
            )
            text.append(f"\n## {class_label} prompts: excess over Bayes of the mixture\n\n")
            text.append(
                curve_table(
                    subset, ["mixture model", f"{own} model"], positions, excess_over="Bayes"
                )
            )
            text.append(
                f"\n## {class_label} prompts: implied weight on the dense class and the "
                "unexplained share (medians over the probed prompts)\n\n"
            )
            text.append(_weight_table(subset, positions))
            text.append(
                f"\n## {class_label} prompts: the implied linear function's share off the true "
                "support, and the share no linear function explains (medians over the probed "
                "prompts)\n\n"
            )
            text.append(_linear_function_table(subset, positions))
        written.append(
            write_text(
                experiment_dir("dense_sparse_mixture", preset, "tables", root) / f"{tag}.md",
                "".join(text),
            )
        )
    return written


def intermediate_sparsity(
    preset: str = "small", *, root: Path | None = None, jobs: int = 1, progress: bool = True
) -> list[Path]:
    """Experiment 2: the noise-free models on sparse prompts with 1 .. d nonzeros, next to the
    Bayes predictor of the pretraining mixture (no mass at intermediate counts), of each
    pretraining class, and of the prompts' own class."""
    s = study(preset)
    train_all(
        s.specialists_and_mixture(NOISE_FREE, s.seeds),
        runs_dir(preset, root),
        jobs=jobs,
        progress=progress,
    )
    pretraining = _mixture(s.mixture_spec(), s.dim)
    dense, sparse = pretraining.components
    models = {
        f"{label} model": _models(s, label, NOISE_FREE, s.seeds, root)
        for label in ("dense", "sparse", "mixture")
    }
    written = []
    for nonzeros in range(1, s.dim + 1):
        prior = build_prior(f"sparse(k={nonzeros})", dim=s.dim)
        predictors = models | {
            "Bayes pretraining mixture": bayes_predictor(pretraining),
            "Bayes dense": bayes_predictor(dense),
            f"Bayes sparse(k={s.k})": bayes_predictor(sparse),
        }
        exact = math.comb(s.dim, nonzeros) <= MAX_SUPPORTS
        results = evaluate(
            predictors,
            prior,
            s.n_points,
            n_prompts=s.n_prompts,
            include_bayes=exact,
            config=_config(s, NOISE_FREE, prior_spec=f"sparse(k={nonzeros})")
            | {"nonzeros": nonzeros},
        )
        each_seed = _per_seed(models, s.seeds)
        mixture_seeds = {n: m for n, m in each_seed.items() if n.startswith("mixture model")}
        pretraining_bayes = {"Bayes pretraining mixture": predictors["Bayes pretraining mixture"]}
        own_bayes = {"Bayes": bayes_predictor(prior)} if exact else {}
        results = _with_selection_diagnostics(
            results,
            s,
            prior,
            classes={
                "Bayes dense": predictors["Bayes dense"],
                "Bayes sparse": predictors[f"Bayes sparse(k={s.k})"],
            },
            weighted=mixture_seeds | pretraining_bayes,
            probed=each_seed
            | {"Bayes dense": predictors["Bayes dense"]}
            | pretraining_bayes
            | own_bayes,
        )
        written.append(
            results.save(
                experiment_dir("intermediate_sparsity", preset, "results", root)
                / f"nonzeros{nonzeros}.npz"
            )
        )
    written += replot_intermediate_sparsity(preset, root=root)
    return written


def replot_intermediate_sparsity(preset: str = "small", *, root: Path | None = None) -> list[Path]:
    import matplotlib.pyplot as plt

    s = study(preset)
    folder = experiment_dir("intermediate_sparsity", preset, "results", root)
    counts = list(range(1, s.dim + 1))
    loaded = [EvalResults.load(folder / f"nonzeros{c}.npz") for c in counts]
    names = [n for n in loaded[0].names if n != "Bayes"] + ["Bayes"]
    positions = [p for p in (s.dim // 2, s.dim) if p < s.n_points]
    panels = len(positions) + 2
    figure, axes = plt.subplots(1, panels, figsize=(5.5 * panels, 4.5))
    text = [
        f"# Intermediate sparsity, preset `{preset}` (noise-free)\n\n",
        _provenance_line(loaded[0]),
    ]
    for ax, position in zip(axes, positions, strict=False):
        table = np.full((len(names), len(counts)), np.nan)
        # Not evaluated: the own-class Bayes predictor beyond MAX_SUPPORTS supports.
        evaluated = np.array([[name in r.names for r in loaded] for name in names])
        for j, results in enumerate(loaded):
            for i, name in enumerate(names):
                if evaluated[i, j]:
                    table[i, j] = results.mean(name)[position]
        for i, name in enumerate(names):
            ax.plot(
                counts,
                table[i],
                marker="o",
                label=name,
                **({"color": "black"} if name == "Bayes" else {}),
            )
        ax.axvline(s.k, color="grey", linestyle=":")
        ax.set_xlabel("nonzero coefficients of the prompts' functions")
        ax.set_ylabel(f"normalised error at {position} in-context examples")
        ax.set_yscale("log")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="x-small")
        text.append(
            f"\n## Normalised error at {position} in-context examples (mean over prompts)\n\n"
        )
        text.append(value_table(names, [f"nnz {c}" for c in counts], table))
        if np.isnan(table[evaluated]).any():
            text.append(f"\n{UNDEFINED_NOTE}\n")
        if not evaluated.all():
            text.append(
                f"\nn/a where a Bayes predictor has more than {MAX_SUPPORTS:,} sparse supports to "
                "enumerate: not evaluated.\n"
            )
    weight_ax, support_ax = axes[-2], axes[-1]
    weight_keys = [k for k in loaded[0].extras if k.startswith(WEIGHT_PREFIX)]
    position = positions[0]
    medians = _medians_by_count(loaded, weight_keys, position)
    support_keys = [k for k in loaded[0].extras if k.startswith(OFF_SUPPORT_PREFIX)]
    off_support = _medians_by_count(loaded, support_keys, position)
    for ax, prefix, keys, values, ylabel, limits in (
        (weight_ax, WEIGHT_PREFIX, weight_keys, medians, "implied weight on dense", (-0.1, 1.1)),
        (
            support_ax,
            OFF_SUPPORT_PREFIX,
            support_keys,
            off_support,
            "implied w's share off the support",
            (-0.05, 1.05),
        ),
    ):
        for key, row in zip(keys, values, strict=True):
            ax.plot(counts, row, marker="o", label=key.removeprefix(prefix))
        ax.set_xlabel("nonzero coefficients of the prompts' functions")
        ax.set_ylabel(f"{ylabel} at {position} examples (median)")
        ax.set_ylim(*limits)
        ax.grid(alpha=0.3)
        ax.legend(fontsize="x-small")
    figure.tight_layout()
    written = [
        save_figure(
            figure, experiment_dir("intermediate_sparsity", preset, "figures", root) / "sweep.png"
        )
    ]
    columns = [f"nnz {c}" for c in counts]
    unexplained_keys = [k.replace(WEIGHT_PREFIX, UNEXPLAINED_PREFIX) for k in weight_keys]
    for title, prefix, keys, values in (
        (
            f"Implied weight on the dense class at {position} examples (median over prompts)",
            WEIGHT_PREFIX,
            weight_keys,
            medians,
        ),
        (
            f"Unexplained share of the departure from the sparse predictor, at {position} "
            "examples (median)",
            UNEXPLAINED_PREFIX,
            unexplained_keys,
            _medians_by_count(loaded, unexplained_keys, position),
        ),
        (
            f"Share of the implied linear function off the prompts' true support, at {position} "
            "examples (median; undefined at d nonzeros)",
            OFF_SUPPORT_PREFIX,
            support_keys,
            off_support,
        ),
    ):
        text.append(f"\n## {title}\n\n")
        text.append(value_table([k.removeprefix(prefix) for k in keys], columns, values))
    written.append(
        write_text(
            experiment_dir("intermediate_sparsity", preset, "tables", root) / "sweep.md",
            "".join(text),
        )
    )
    return written


def mixture_weights(
    preset: str = "small", *, root: Path | None = None, jobs: int = 1, progress: bool = True
) -> list[Path]:
    """Experiment 3: mixture models trained with dense weights 0.1, 0.5, 0.9 (noise-free, the
    same budget), on dense and on sparse prompts: the excess over the class's Bayes predictor
    against the class's share, next to what the share costs the Bayes predictor of each
    weighted prior. The specialists (main budget) are shown for reference."""
    s = study(preset)
    runs = s.weighted_mixtures() | s.specialists_and_mixture(NOISE_FREE, s.seeds[:1])
    runs = {name: config for name, config in runs.items() if not name.startswith("mixture_")}
    train_all(runs, runs_dir(preset, root), jobs=jobs, progress=progress)
    seed = s.seeds[0]
    prior = _mixture(s.mixture_spec(), s.dim)
    predictors = {}
    for w in s.dense_weights:
        label = f"mixture-w{w:g}"
        predictors[f"mixture model, dense weight {w:g}"] = load_model(
            runs_dir(preset, root) / run_name(label, NOISE_FREE, seed)
        )
        predictors[f"Bayes, dense weight {w:g}"] = bayes_predictor(
            build_prior(s.mixture_spec(w), dim=s.dim)
        )
    for label in ("dense", "sparse"):
        predictors[f"{label} model"] = load_model(
            runs_dir(preset, root) / run_name(label, NOISE_FREE, seed)
        )
        predictors[f"Bayes {label}"] = bayes_predictor(
            prior.components[0 if label == "dense" else 1]
        )
    results = evaluate(
        predictors,
        prior,
        s.n_points,
        n_prompts=s.n_prompts,
        include_bayes=False,
        config=_config(s, NOISE_FREE, prior_spec=s.mixture_spec())
        | {"dense_weights": list(s.dense_weights)},
    )
    written = [
        results.save(experiment_dir("mixture_weights", preset, "results", root) / "weights.npz")
    ]
    return written + replot_mixture_weights(preset, root=root)


def replot_mixture_weights(preset: str = "small", *, root: Path | None = None) -> list[Path]:
    import matplotlib.pyplot as plt

    s = study(preset)
    results = EvalResults.load(
        experiment_dir("mixture_weights", preset, "results", root) / "weights.npz"
    )
    positions = s.key_lengths()
    figure, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    text = [f"# Mixture weights, preset `{preset}` (noise-free)\n\n", _provenance_line(results)]
    for ax, (class_label, own) in zip(
        axes, zip(results.class_names, ("dense", "sparse"), strict=True), strict=True
    ):
        subset = results.for_class(class_label)
        shares = [w if own == "dense" else 1 - w for w in s.dense_weights]
        rows, labels = [], []
        for kind in ("mixture model", "Bayes"):
            excess = np.array(
                [
                    subset.excess(f"{kind}, dense weight {w:g}", f"Bayes {own}").mean[positions]
                    for w in s.dense_weights
                ]
            )
            rows.append(excess)
            labels += [f"{kind} (share {share:g})" for share in shares]
            for column, position in enumerate(positions[1:4], start=1):
                ax.plot(
                    shares,
                    excess[:, column],
                    marker="o",
                    linestyle="-" if kind == "mixture model" else "--",
                    label=f"{kind}, n = {position}",
                )
        ax.axhline(0.0, color="black", linewidth=0.8)
        ax.set_xlabel(f"share of {own} prompts in pretraining")
        ax.set_ylabel(f"excess error over Bayes {own} on {own} prompts")
        ax.set_title(f"{class_label} prompts")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="x-small")
        text.append(
            f"\n## {class_label} prompts: excess error over Bayes {own} (the best possible on "
            "these prompts), against the class's share of pretraining\n\n"
        )
        text.append(value_table(labels, [f"n = {p}" for p in positions], np.concatenate(rows)))
        text.append(f"\n## {class_label} prompts: normalised error (95% CI)\n\n")
        text.append(curve_table(subset, list(results.names), positions))
    figure.tight_layout()
    return [
        save_figure(
            figure, experiment_dir("mixture_weights", preset, "figures", root) / "weights.png"
        ),
        write_text(
            experiment_dir("mixture_weights", preset, "tables", root) / "weights.md", "".join(text)
        ),
    ]


def _weight_table(results: EvalResults, positions: list[int]) -> str:
    keys = [k for k in results.extras if k.startswith(WEIGHT_PREFIX)]
    rows, values = [], []
    for key in keys:
        name = key.removeprefix(WEIGHT_PREFIX)
        kinds = (("implied weight", WEIGHT_PREFIX), ("unexplained", UNEXPLAINED_PREFIX))
        for kind, prefix in kinds:
            rows.append(f"{name}: {kind}")
            values.append(nan_quantile(results.extras[prefix + name][:, positions], 0.5))
    return value_table(rows, [f"n = {p}" for p in positions], np.array(values))


def _medians_by_count(loaded: list[EvalResults], keys: list[str], position: int) -> np.ndarray:
    """Median of each extra at `position`, one row per key, one column per result (NaN where a
    result lacks the key: own-class Bayes beyond `MAX_SUPPORTS`)."""
    return np.array(
        [
            [
                nan_quantile(r.extras[k][:, position], 0.5) if k in r.extras else np.nan
                for r in loaded
            ]
            for k in keys
        ]
    )


def _linear_function_table(results: EvalResults, positions: list[int]) -> str:
    rows, values = [], []
    for key in (k for k in results.extras if k.startswith(OFF_SUPPORT_PREFIX)):
        name = key.removeprefix(OFF_SUPPORT_PREFIX)
        for kind, prefix in (("off support", OFF_SUPPORT_PREFIX), ("nonlinear", NONLINEAR_PREFIX)):
            median = nan_quantile(results.extras[prefix + name][:, positions], 0.5)
            if not np.isnan(median).all():  # off support: undefined on dense prompts
                rows.append(f"{name}: {kind}")
                values.append(median)
    return value_table(rows, [f"n = {p}" for p in positions], np.array(values))


def _seed_table(results: EvalResults, seeds, positions: list[int]) -> str:
    rows, values = [], []
    for name in results.names:
        errors = results.errors[name]
        if errors.shape[0] > 1:
            for seed, per_seed in zip(seeds, errors, strict=True):
                rows.append(f"{name} (seed {seed})")
                values.append(np.nanmean(per_seed[:, positions], axis=0))
    if not rows:
        return "One training seed per model: no spread to show.\n"
    return value_table(rows, [f"n = {p}" for p in positions], np.array(values))


def _mixture(spec: str, dim: int, noise_std: float = 0.0) -> Mixture:
    prior = build_prior(spec, dim=dim, noise_std=noise_std)
    assert isinstance(prior, Mixture), spec
    return prior


def _models(s: LinearStudy, label: str, noise: float, seeds, root) -> list:
    return [load_model(runs_dir(s.name, root) / run_name(label, noise, seed)) for seed in seeds]


def _config(s: LinearStudy, noise: float, *, prior_spec: str) -> dict:
    return {"preset": s.name, "prior_spec": prior_spec, "noise_std": noise, "k": s.k}


def _plotted(results: EvalResults) -> list[str]:
    return [n for n in results.names if n != "averaging"]


def _provenance_line(results: EvalResults) -> str:
    git = results.provenance.get("git", {})
    code = f"code at git {str(git.get('commit'))[:10]}"
    if git.get("dirty") is not False:
        code = (
            f"**not reproducible from the repository**: {code} with uncommitted changes"
            if git.get("dirty")
            else "code of unknown git state"
        )
    return (
        f"\nFrom `{results.config.get('prior_spec')}` evaluation prompts ({results.n_prompts}, "
        f"seed {results.config.get('seed')}); {code}; errors are squared error against f(x) over "
        "the class's output variance.\n"
    )


def _with_selection_diagnostics(
    results: EvalResults,
    s: LinearStudy,
    prior,
    classes: dict,
    weighted: dict,
    probed: dict,
) -> EvalResults:
    """Model-selection extras on the first `selection_prompts` evaluation prompts (NaN on the
    others), all from one set of `selection_queries` queries (`docs/evaluation.md`):
    `implied_weight/NAME` and `unexplained/NAME` (blend of the dense and sparse Bayes
    predictors) for the `weighted` predictors; `off_support/NAME` and `nonlinear/NAME` (the
    implied linear function's share off the prompt's true support, and what no linear function
    explains) for the `probed` ones."""
    prompts = evaluation_prompts(
        prior, s.n_points, n_prompts=s.n_prompts, seed=results.config["seed"]
    )
    probe: Prompts = jax.tree.map(lambda a: a[: s.selection_prompts], prompts)
    queries = sample_queries(jax.random.key(1), s.selection_queries, s.dim)

    def at_queries(predictor) -> np.ndarray:
        return query_predictions(predictor, probe.xs, probe.ys, queries)

    class_a, class_b = at_queries(classes["Bayes dense"]), at_queries(classes["Bayes sparse"])
    # No implied weight where either class's Bayes predictor has no posterior.
    both_defined = posterior_defined(classes["Bayes dense"], probe.xs, probe.ys) & (
        posterior_defined(classes["Bayes sparse"], probe.xs, probe.ys)
    )
    truth = _true_weights(probe)
    values = {}
    for name, predictor in (weighted | probed).items():
        m = at_queries(predictor)
        if name in weighted:
            blend = blend_weight(m, class_a, class_b, both_defined)
            values[WEIGHT_PREFIX + name] = blend.weight
            values[UNEXPLAINED_PREFIX + name] = blend.unexplained
        if name in probed:
            fit = linear_fit(m, queries)
            values[OFF_SUPPORT_PREFIX + name] = off_support_share(fit.weights, truth)
            values[NONLINEAR_PREFIX + name] = fit.nonlinear
    extras = dict(results.extras)
    for key, value in values.items():
        full = np.full((results.n_prompts, s.n_points), np.nan, np.float32)
        full[: s.selection_prompts] = value
        extras[key] = full
    return EvalResults(
        errors=results.errors,
        class_index=results.class_index,
        config=results.config
        | {"selection_prompts": s.selection_prompts, "selection_queries": s.selection_queries},
        class_names=results.class_names,
        extras=extras,
        provenance=results.provenance,
    )


def _true_weights(prompts: Prompts) -> np.ndarray:
    """Each prompt's true `w` `(prompts, dim)`, from a linear class or a mixture of them."""
    tasks = prompts.tasks
    if isinstance(tasks, MixtureTask):
        stacked = np.stack([np.asarray(t.w) for t in tasks.tasks])
        return stacked[np.asarray(tasks.component), np.arange(prompts.batch_size)]
    return np.asarray(tasks.w)


def _per_seed(models: dict, seeds) -> dict:
    """`{"dense model": [m0, m1]}` -> `{"dense model (seed 0)": m0, ...}`."""
    return {
        f"{name} (seed {seed})": model
        for name, seeded in models.items()
        for seed, model in zip(seeds, seeded, strict=True)
    }


EXPERIMENTS = {
    "dense_sparse_mixture": (dense_sparse_mixture, replot_dense_sparse_mixture),
    "intermediate_sparsity": (intermediate_sparsity, replot_intermediate_sparsity),
    "mixture_weights": (mixture_weights, replot_mixture_weights),
}


def main(experiment: str, argv: list[str] | None = None) -> None:
    """Command line of `experiments/EXPERIMENT/run.py`."""
    import argparse

    run, replot = EXPERIMENTS[experiment]
    parser = argparse.ArgumentParser(
        prog=f"experiments/{experiment}/run.py", description=run.__doc__
    )
    parser.add_argument("--preset", default="small", choices=["smoke", "small", "paper"])
    parser.add_argument(
        "--jobs", type=int, default=1, help="training processes (one XLA thread each); 2 on 2 cores"
    )
    parser.add_argument(
        "--replot", action="store_true", help="only redraw tables and figures from saved results"
    )
    arguments = parser.parse_args(argv)
    if arguments.replot:
        written = replot(arguments.preset)
    else:
        written = run(arguments.preset, jobs=arguments.jobs, progress=arguments.jobs <= 1)
    for path in written:
        print(path)
