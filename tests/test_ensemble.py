"""Ensembles: several seeds of one config trained in one vmapped step, each member in its own run
folder; a member against the single run of its config, and the ensemble's resume."""

import dataclasses
import json
import shutil

import equinox as eqx
import jax
import numpy as np
import pytest

from icl_theory.cli import main
from icl_theory.priors import build_prior
from icl_theory.training import RunFolderError, TrainConfig, load_model, resume, train
from icl_theory.training.ensemble import resume_ensemble, train_ensemble
from icl_theory.training.reuse import ensemble_groups, train_all
from icl_theory.training.trainer import Trainer, evaluation_set

CONFIG = TrainConfig(
    prior=build_prior("0.5*dense + 0.5*sparse(k=2)", dim=4),
    n_points=6,
    batch_size=8,
    steps=40,
    steps_per_call=10,
    eval_every=20,
    checkpoint_every=20,
    eval_prompts=16,
    warmup_steps=5,
)
SEEDS = (0, 3, 7)


def leaves(model):
    return [np.asarray(x) for x in jax.tree.leaves(eqx.filter(model, eqx.is_array))]


def members(seeds=SEEDS):
    return [dataclasses.replace(CONFIG, seed=seed) for seed in seeds]


def records(folder):
    lines = (folder / "metrics.jsonl").read_text().splitlines()
    return [
        {k: v for k, v in json.loads(x).items() if k not in ("steps_per_s", "check")} for x in lines
    ]


@pytest.mark.slow  # several compiled training steps: in CI, not in the default run
def test_each_member_is_the_single_run_of_its_seed(tmp_path):
    outs = [tmp_path / f"seed{seed}" for seed in SEEDS]
    results = train_ensemble(members(), outs, progress=False)
    for config, result in zip(members(), results, strict=True):
        single = train(config, tmp_path / f"single{config.seed}", progress=False)
        for a, b in zip(leaves(result.model), leaves(single.model), strict=True):
            # Round-off flips the sign of near-zero gradients, and Adam turns any gradient into a
            # step of up to about the learning rate: such a coordinate may differ by about one
            # step (observed: 1% of one); every other agrees to 1e-5 relative.
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=config.learning_rate)
        # What the models compute agrees much more closely than single coordinates.
        prompts = evaluation_set(Trainer(config))
        np.testing.assert_allclose(
            result.model.batched(prompts.xs, prompts.ys),
            single.model.batched(prompts.xs, prompts.ys),
            atol=1e-4,  # of outputs of order one (the dense and sparse classes' scales)
        )
        # The member's folder is a run folder like any other: its config, and its model loads.
        saved = TrainConfig.loads((result.out / "config.json").read_text())
        assert saved == config
        for a, b in zip(leaves(load_model(result.out)), leaves(result.model), strict=True):
            np.testing.assert_array_equal(a, b)
        # Its monitoring curve is the single run's, up to the same round-off.
        own, alone = records(result.out), records(tmp_path / f"single{config.seed}")
        assert [r["step"] for r in own] == [r["step"] for r in alone]
        for mine, theirs in zip(own, alone, strict=True):
            if "eval_error" in mine:
                np.testing.assert_allclose(mine["eval_error"], theirs["eval_error"], rtol=1e-3)


@pytest.mark.slow  # several compiled training steps: in CI, not in the default run
def test_a_resumed_ensemble_is_the_uninterrupted_one_bit_for_bit(tmp_path):
    whole = train_ensemble(members(), [tmp_path / f"whole{s}" for s in SEEDS], progress=False)
    split = [tmp_path / f"split{s}" for s in SEEDS]
    first = train_ensemble(members(), split, progress=False, stop_at=20)
    assert all(r.interrupted and r.step == 20 for r in first)
    second = resume_ensemble(split, progress=False)
    for a_result, b_result in zip(whole, second, strict=True):
        assert b_result.step == 40
        for a, b in zip(leaves(a_result.model), leaves(b_result.model), strict=True):
            np.testing.assert_array_equal(a, b)
        assert records(a_result.out) == records(b_result.out)


@pytest.mark.slow  # compiles ensembles (CI runs -m slow)
def test_members_must_share_their_config_but_the_seed(tmp_path):
    outs = [tmp_path / "a", tmp_path / "b"]
    other = [CONFIG, dataclasses.replace(CONFIG, seed=1, learning_rate=1e-3)]
    with pytest.raises(ValueError, match="differ in learning_rate"):
        train_ensemble(other, outs, progress=False)
    with pytest.raises(ValueError, match="seeds repeat"):
        train_ensemble([CONFIG, CONFIG], outs, progress=False)
    # Members at different steps cannot continue together (each can alone).
    train_ensemble(members((0, 1)), outs, progress=False, stop_at=20)
    resume(outs[0], progress=False, stop_at=40)
    with pytest.raises(RunFolderError, match="different steps"):
        resume_ensemble(outs, progress=False)


@pytest.mark.slow  # CLI training in subprocesses (CI runs -m slow)
def test_the_cli_trains_and_resumes_an_ensemble_by_its_folder(tmp_path):
    arguments = ["train", "--prior", "dense", "--dim", "3", "--n-points", "5", "--steps", "20"]
    arguments += ["--batch-size", "4", "--steps-per-call", "10", "--eval-every", "10"]
    arguments += ["--checkpoint-every", "10", "--eval-prompts", "8", "--warmup-steps", "2"]
    assert main([*arguments, "--seeds", "1", "2", "--out", str(tmp_path), "--no-progress"]) == 0
    for seed in (1, 2):
        saved = TrainConfig.loads((tmp_path / f"seed{seed}" / "config.json").read_text())
        assert saved.seed == seed and saved.steps == 20
    # Finished: resuming the ensemble's folder finds nothing left to do.
    assert main(["train", "--resume", str(tmp_path), "--no-progress"]) == 0


def test_runs_differing_only_in_seed_and_at_the_same_step_are_grouped():
    dense = dataclasses.replace(CONFIG, prior=build_prior("dense", dim=4))
    configs = {
        "mix0": CONFIG,
        "mix1": dataclasses.replace(CONFIG, seed=1),
        "mix2": dataclasses.replace(CONFIG, seed=2),
        "dense0": dense,
        "dense1": dataclasses.replace(dense, seed=1),
        "mix3": dataclasses.replace(CONFIG, seed=3),
    }
    at = {"mix0": -1, "mix1": -1, "mix2": -1, "dense0": 20, "dense1": 10, "mix3": 20}
    assert ensemble_groups(configs, at) == [
        ["mix0", "mix1", "mix2"],
        ["dense0"],
        ["dense1"],
        ["mix3"],
    ]
    # Fewer groups than workers: the largest is halved until every worker has one.
    alike = {name: configs[name] for name in ("mix0", "mix1", "mix2")}
    assert ensemble_groups(alike, at, jobs=2) == [["mix0", "mix1"], ["mix2"]]
    assert ensemble_groups(alike, at, jobs=5) == [["mix0"], ["mix1"], ["mix2"]]


@pytest.mark.slow  # several compiled training steps: in CI, not in the default run
def test_train_all_trains_the_seeds_of_a_config_together_and_continues_them_together(tmp_path):
    configs = {f"seed{seed}": dataclasses.replace(CONFIG, seed=seed) for seed in range(4)}
    configs["dense"] = dataclasses.replace(CONFIG, prior=build_prior("dense", dim=4))
    # Seeds 0 and 1 were cut short at step 20 (an ensemble); seeds 2 and 3 are missing, and 3
    # was killed before its first checkpoint, leaving its config behind.
    train_ensemble(
        members((0, 1)), [tmp_path / "seed0", tmp_path / "seed1"], progress=False, stop_at=20
    )
    (tmp_path / "seed3").mkdir()
    (tmp_path / "seed3" / "config.json").write_text("{}")
    train_all(configs, tmp_path, progress=False)
    for pair in ((0, 1), (2, 3)):  # each pair: the uninterrupted ensemble of its seeds
        references = train_ensemble(
            members(pair), [tmp_path / f"reference{seed}" for seed in pair], progress=False
        )
        for seed, reference in zip(pair, references, strict=True):
            provenance = json.loads((tmp_path / f"seed{seed}" / "provenance.json").read_text())
            assert provenance["ensemble"] == 2
            trained = load_model(tmp_path / f"seed{seed}")
            for a, b in zip(leaves(trained), leaves(reference.model), strict=True):
                np.testing.assert_array_equal(a, b)
    assert "ensemble" not in json.loads((tmp_path / "dense" / "provenance.json").read_text())


def test_ctrl_c_stops_train_all_after_the_interrupted_group(tmp_path, monkeypatch):
    """A run stopped by Ctrl-C (its result `interrupted`) ends the queue: no further group
    starts, in the calling process and in a worker alike."""
    from icl_theory.training import reuse

    started = []

    def stopped_by_ctrl_c(config, folder, *, progress=True):  # as if Ctrl-C came at step 10
        started.append(folder.name)
        return train(config, folder, progress=progress, stop_at=10)

    monkeypatch.setattr(reuse, "train", stopped_by_ctrl_c)
    configs = {
        "dense": dataclasses.replace(CONFIG, prior=build_prior("dense", dim=4)),
        "mixture": CONFIG,
    }
    with pytest.raises(KeyboardInterrupt):
        train_all(configs, tmp_path, progress=False)
    assert started == ["dense"]
    started.clear()
    shutil.rmtree(tmp_path / "dense")
    work = [[[str(tmp_path / name), config.dumps()]] for name, config in configs.items()]
    with pytest.raises(SystemExit) as exit_:
        reuse._worker(json.dumps(work))
    assert exit_.value.code == 130 and started == ["dense"]
