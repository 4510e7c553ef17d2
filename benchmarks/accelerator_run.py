"""One call on an accelerator: the environment, the paper-size training step against a PyTorch
GPT-2 on the same device, and the linear study's nine models (dense, sparse, 50/50 mixture; three
seeds each) trained as one vmapped ensemble for as long as the time budget allows.

    bash benchmarks/accelerator_run.sh               # on the GPU machine: results into $OUT
    bash benchmarks/accelerator_run.sh --dry-run     # here, on the CPU: tiny sizes, seconds

Writes into `--out`: `report.json` (environment, step rates, the training runs' summaries),
`runs.tar.gz` (one run folder per model: config, prior, metrics, parameters-only checkpoint;
unpack it into `experiments/runs/` and evaluate with `icl-theory evaluate`), and the log.

The ensemble: the dense and sparse specialists are the 50/50 mixture prior with weights (1, 0)
and (0, 1), so all nine models share one prior structure and one compiled step, vmapped over
(mixture weights, seed). The learning rate is warmup-stable-decay: the stable phase runs until
the measured step rate says how many steps fit, then the decay is set to end on time (the stable
phase does not depend on the budget, so this is the run that would have been planned that long).
"""

import argparse
import copy
import dataclasses
import io
import json
import platform
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from experiments.linear_study import study  # noqa: E402
from icl_theory.priors import DenseLinear, prior_to_data  # noqa: E402
from icl_theory.records import provenance  # noqa: E402
from icl_theory.training.checkpoint import save_checkpoint  # noqa: E402
from icl_theory.training.config import TrainConfig  # noqa: E402
from icl_theory.training.run import PARAMETERS_ONLY  # noqa: E402
from icl_theory.training.trainer import Trainer, TrainState  # noqa: E402

# The models of the linear study: name -> (prior spec in its run folder, mixture weights).
# Each member's class weights within the one mixture trainer that steps them all.
MEMBERS = {"dense": (1.0, 0.0), "sparse": (0.0, 1.0), "mixture": (0.5, 0.5)}
SEEDS = (0, 1, 2)


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--dry-run", action="store_true", help="CPU, tiny sizes, seconds")
    parser.add_argument("--train-seconds", type=float, default=300.0)
    parser.add_argument("--step-seconds", type=float, default=10.0, help="per timed step")
    return parser.parse_args()


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def environment(dry_run: bool) -> dict:
    devices = jax.devices()
    info = {
        "devices": [str(d) for d in devices],
        "backend": jax.default_backend(),
        "device_kind": devices[0].device_kind,
        "provenance": provenance(),
        "python": platform.python_version(),
    }
    try:
        info["nvidia_smi"] = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,memory.total,driver_version", "--format=csv"],
            capture_output=True,
            text=True,
            timeout=30,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        info["nvidia_smi"] = None
    log(f"devices {info['devices']} ({info['device_kind']}); backend {info['backend']}")
    if not dry_run and info["backend"] != "gpu":
        raise SystemExit(
            f"no GPU visible to JAX (backend {info['backend']!r}, devices {info['devices']}): "
            "check the CUDA jaxlib, or run with --dry-run on a CPU"
        )
    return info


def time_step(config: TrainConfig, seconds: float) -> dict:
    """Steps per second of the project's training step (`config.steps_per_call` per call)."""
    trainer = Trainer(config, jax.devices()[:1])
    state = trainer.init_state()
    start = time.perf_counter()
    state, losses = trainer.run_chunk(state, config.steps_per_call)
    losses.block_until_ready()
    compile_s = time.perf_counter() - start
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds or steps < 2 * config.steps_per_call:
        state, losses = trainer.run_chunk(state, config.steps_per_call)
        losses.block_until_ready()
        steps += config.steps_per_call
    rate = steps / (time.perf_counter() - start)
    return {"steps_per_s": rate, "compile_s": compile_s, "hours_for_500k": 5e5 / rate / 3600}


def time_torch_reference(
    dim: int, n_points: int, width: int, layers: int, heads: int, seconds: float
) -> dict:
    """The PyTorch GPT-2 of `reference_gpt2_torch.py` on the same device, float32 and bf16."""
    try:
        from benchmarks.reference_gpt2_torch import time_reference
    except ImportError as error:  # no torch here
        return {"skipped": f"PyTorch unavailable: {error}"}
    return {
        precision: time_reference(dim, n_points, width, layers, heads, 64, precision, seconds)
        for precision in ("float32", "bfloat16")
    }


def member_configs(s, dry_run: bool) -> dict[str, TrainConfig]:
    """Run name -> the config each ensemble member's run folder records (schedule `wsd`; its
    `steps` are set once the budget is known)."""
    configs = {}
    priors = {"dense": s.dense(), "sparse": s.sparse(), "mixture": s.mixture()}
    for label in MEMBERS:
        for seed in SEEDS:
            base = s.config(priors[label], seed=seed)
            configs[f"{label}_noise0_seed{seed}"] = dataclasses.replace(
                base,
                schedule="wsd",
                steps=10**9,
                decay_steps=200 if dry_run else 5_000,
                steps_per_call=20 if dry_run else 500,
                eval_every=20 if dry_run else 500,
                checkpoint_every=20 if dry_run else 500,
                snapshot_steps=(),  # the run returns final parameters only
            )
    return configs


def ensemble_chunk(trainer: Trainer):
    """One compiled call: `length` steps of every member, vmapped over (state, weights)."""

    def member(state: TrainState, weights, length: int):
        own = copy.copy(trainer)  # the mixture trainer with this member's class weights
        own.prior = eqx.tree_at(lambda p: p.weights, trainer.prior, weights)
        return own.chunk(state, length)

    return jax.jit(jax.vmap(member, in_axes=(0, 0, None)), static_argnums=2, donate_argnums=0)


def train_ensemble(
    configs: dict[str, TrainConfig], seconds: float, out: Path, *, steps: int | None = None
) -> dict:
    """Train every member for `seconds` (or exactly `steps`, a multiple of the call length),
    and save their run folders into `out/runs.tar.gz`."""
    names = list(configs)
    weights = jnp.asarray([MEMBERS[name.split("_")[0]] for name in names])
    mixture = configs[names[-1]]  # a mixture member: the prior structure all members share
    states = [Trainer(configs[name], jax.devices()[:1]).init_state() for name in names]
    state = jax.tree.map(lambda *leaves: jnp.stack(leaves), *states)
    length, decay = mixture.steps_per_call, mixture.decay_steps
    run = ensemble_chunk(Trainer(mixture, jax.devices()[:1]))
    records: dict[str, list] = {name: [] for name in names}
    start, step, budget, decaying = time.perf_counter(), 0, steps, False
    compiled_at = None
    while budget is None or step < budget:
        if budget is not None and not decaying and step >= budget - decay:
            # The decay: the same optimiser state, the schedule of a run planned `budget` long
            # (its stable phase is the one run so far).
            configs = {n: dataclasses.replace(c, steps=budget) for n, c in configs.items()}
            run = ensemble_chunk(Trainer(configs[names[-1]], jax.devices()[:1]))
            decaying = True
        call = time.perf_counter()
        state, losses = run(state, weights, length)
        losses = np.asarray(losses)  # (members, length)
        step += length
        now = time.perf_counter()
        if not np.all(np.isfinite(losses)):
            raise SystemExit(f"a loss became non-finite by step {step}: {losses.mean(axis=1)}")
        for index, name in enumerate(names):
            records[name].append(
                {
                    "step": step,
                    "loss": float(losses[index].mean()),
                    "steps_per_s": length / (now - call),
                }
            )
        if compiled_at is None:
            compiled_at, compile_s = now, now - start
        elif budget is None and now - start > 0.25 * seconds:
            # The steps that fit in what is left, at the rate of the calls after the first,
            # with one more compilation (the decay's) set aside.
            rate = (step - length) / (now - compiled_at)
            left = max(seconds - (now - start) - compile_s, 0.0)
            stable_end = step + int(rate * left - decay) // length * length
            budget = max(step, stable_end) + decay  # the decay starts on a call boundary
            log(f"{rate:.0f} ensemble steps/s after compiling in {compile_s:.0f} s: {budget} steps")
    total = time.perf_counter() - start
    log(f"trained {len(names)} models x {step} steps in {total:.0f} s")
    return _save_runs(names, configs, state, records, step, total, out)


def _save_runs(names, configs, state, records, step, seconds, out: Path) -> dict:
    """One run folder per member, packed into `out/runs.tar.gz`."""
    buffer = io.BytesIO()
    summary = {}
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for index, name in enumerate(names):
            config = dataclasses.replace(configs[name], steps=step)
            params = jax.tree.map(lambda leaf, i=index: leaf[i], state.params)
            checkpoint = io.BytesIO()
            header = {"step": step, "config": config.to_json(), "devices": 1}
            path = out / "tmp.eqx"
            save_checkpoint(path, header | {"contents": PARAMETERS_ONLY}, params)
            checkpoint.write(path.read_bytes())
            path.unlink()
            where = provenance() | {
                "trained_as": f"member {index} of a {len(names)}-model vmapped ensemble "
                "(benchmarks/accelerator_run.py)",
                "device": jax.devices()[0].device_kind,
            }
            files = {
                "config.json": json.dumps(config.to_json(), indent=2, sort_keys=True),
                "prior.json": json.dumps(prior_to_data(config.prior), indent=2),
                "provenance.json": json.dumps(where, indent=2, sort_keys=True, default=str),
                "metrics.jsonl": "".join(json.dumps(r) + "\n" for r in records[name]),
            }
            for file_name, text in files.items():
                _add(archive, f"{name}/{file_name}", text.encode())
            _add(archive, f"{name}/checkpoint.eqx", checkpoint.getvalue())
            summary[name] = {"final_loss": records[name][-1]["loss"], "steps": step}
    (out / "runs.tar.gz").write_bytes(buffer.getvalue())
    return {"members": summary, "steps": step, "seconds": seconds}


def _add(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    archive.addfile(info, io.BytesIO(data))


def main() -> None:
    args = parse()
    args.out.mkdir(parents=True, exist_ok=True)
    report: dict = {"dry_run": args.dry_run, "environment": environment(args.dry_run)}
    step_seconds = 1.0 if args.dry_run else args.step_seconds
    # The paper preset's step: d = 20, 41 points, 12 layers, width 256, batch 64 (tiny dry run).
    dim, n_points, model = (20, 41, "paper") if not args.dry_run else (5, 11, "tiny")
    config = TrainConfig(
        prior=DenseLinear(dim=dim),
        n_points=n_points,
        model=model,
        batch_size=64,
        steps=10**9,
        warmup_steps=0,
        steps_per_call=10 if args.dry_run else 100,
        eval_every=10 if args.dry_run else 100,
        checkpoint_every=10 if args.dry_run else 100,
    )
    report["project_step"] = {}
    for precision in ("float32", "bfloat16"):
        log(f"timing the project's {config.model} step ({precision} products)")
        timed = dataclasses.replace(config, precision=precision)
        report["project_step"][precision] = time_step(timed, step_seconds)
    shape = config.model_config()
    log("timing the PyTorch reference on the same device")
    report["torch_step"] = time_torch_reference(
        config.dim, config.n_points, shape.width, shape.layers, shape.heads, step_seconds
    )
    log(json.dumps({"project": report["project_step"], "torch": report["torch_step"]}))
    s = study("smoke" if args.dry_run else "small")
    configs = member_configs(s, args.dry_run)
    seconds = 5.0 if args.dry_run else args.train_seconds
    log(f"training {len(configs)} models of the linear study's `{s.name}` preset, {seconds:.0f} s")
    report["ensemble"] = train_ensemble(configs, seconds, args.out)
    (args.out / "report.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    log(f"wrote {args.out / 'report.json'} and {args.out / 'runs.tar.gz'}")


if __name__ == "__main__":
    main()
