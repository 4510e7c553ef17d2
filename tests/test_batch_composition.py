"""How a mixture fills its batches (per prompt, balanced, one class per batch, round robin), warm
starts from another run, and the provenance of every training segment."""

import dataclasses
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from icl_theory.priors import build_prior
from icl_theory.records import unclean_segments
from icl_theory.training import RunFolderError, TrainConfig, Trainer, load_model, resume, train
from icl_theory.training.composition import (
    balanced_counts,
    check_composition,
    round_robin_cycle,
)
from icl_theory.training.ensemble import train_ensemble

MIXTURE = TrainConfig(
    prior=build_prior("0.5*dense + 0.5*sparse(k=1)", dim=4),
    n_points=6,
    batch_size=8,
    steps=40,
    steps_per_call=10,
    eval_every=20,
    checkpoint_every=20,
    model="tiny",
    learning_rate=1e-3,
    warmup_steps=5,
)


def class_counts(config: TrainConfig, steps: int) -> np.ndarray:
    """The number of prompts of each class in the batches of the first `steps` steps."""
    trainer = Trainer(config, jax.devices()[:1])
    key = trainer.init_state().data_key
    classes = [
        np.asarray(trainer.prompts_at(key, jnp.asarray(t)).class_index) for t in range(steps)
    ]
    n_classes = len(config.prior.classes)
    return np.stack([np.bincount(c, minlength=n_classes) for c in classes])


def test_balanced_batches_hold_each_class_share_exactly():
    config = dataclasses.replace(
        MIXTURE, prior=build_prior("0.25*dense + 0.75*sparse(k=1)", dim=4), batch_size=12
    )
    config = dataclasses.replace(config, batch_composition="balanced")
    assert np.all(class_counts(config, 12) == [3, 9])
    # Largest remainders: 64 prompts of a 0.1 / 0.9 mixture are 6 + 58 (6.4 and 57.6).
    assert balanced_counts((0.1, 0.9), 64).tolist() == [6, 58]
    assert balanced_counts((1 / 3, 1 / 3, 1 / 3), 64).tolist() == [22, 21, 21]


def test_round_robin_takes_one_class_per_step_in_turn():
    config = dataclasses.replace(MIXTURE, batch_composition="round-robin")
    counts = class_counts(config, 10)
    assert np.all(counts[0::2] == [8, 0]) and np.all(counts[1::2] == [0, 8])
    # Unequal weights: a cycle in which each class has its share of steps.
    assert round_robin_cycle((0.1, 0.9)).tolist() == [0] + [1] * 9
    with pytest.raises(ValueError, match="multiples of 1/cycle"):
        dataclasses.replace(
            MIXTURE,
            prior=build_prior("0.3333*dense + 0.6667*sparse(k=1)", dim=4),
            batch_composition="round-robin",
        )


def test_one_class_batches_draw_the_class_per_step_with_the_weights():
    """Every batch is one class; over 400 steps the class frequencies pass a binomial test of
    the weights (two-sided, alpha = 0.001, so this fails by chance once in 1,000 seeds)."""
    config = dataclasses.replace(
        MIXTURE,
        prior=build_prior("0.3*dense + 0.7*sparse(k=1)", dim=4),
        batch_composition="one-class",
    )
    counts = class_counts(config, 400)
    assert np.all(counts.max(axis=1) == config.batch_size)
    dense_steps = int(np.sum(counts[:, 0] == config.batch_size))
    assert stats.binomtest(dense_steps, 400, 0.3).pvalue > 1e-3


def test_per_prompt_batches_are_the_prior_drawing_each_class():
    """The default leaves the batch to the prior: the same prompts as before the option
    existed (no class array passed), mixed classes within a batch."""
    counts = class_counts(MIXTURE, 20)
    assert np.any((counts[:, 0] > 0) & (counts[:, 1] > 0))


def test_compositions_need_a_mixture_and_name_the_field():
    with pytest.raises(ValueError, match=r"TrainConfig\.batch_composition='balanced'.*mixture"):
        dataclasses.replace(
            MIXTURE, prior=build_prior("dense", dim=4), batch_composition="balanced"
        )
    # (A config with an unknown name is refused by its type annotation under the tests' type
    # checking; without it, by the same check as above.)
    with pytest.raises(ValueError, match=r"TrainConfig\.batch_composition='sorted'"):
        check_composition("sorted", (0.5, 0.5), 8)


@pytest.mark.parametrize("composition", ["one-class", "round-robin"])
def test_a_composed_run_resumes_bit_for_bit(tmp_path, composition):
    config = dataclasses.replace(MIXTURE, batch_composition=composition)
    whole = train(config, tmp_path / "whole", progress=False)
    train(config, tmp_path / "split", progress=False, stop_at=20)
    second = resume(tmp_path / "split", progress=False)
    for a, b in zip(leaves(whole.model), leaves(second.model), strict=True):
        np.testing.assert_array_equal(a, b)
    recorded = json.loads((tmp_path / "split" / "config.json").read_text())
    assert recorded["batch_composition"] == composition
    segments = json.loads((tmp_path / "split" / "provenance.json").read_text())["segments"]
    assert [(s["kind"], s["from_step"]) for s in segments] == [("start", 0), ("resume", 20)]
    assert all({"commit", "dirty"} <= set(s["git"]) for s in segments)


def test_a_warm_start_begins_from_the_source_parameters(tmp_path):
    source = dataclasses.replace(MIXTURE, prior=build_prior("sparse(k=1)", dim=4))
    train(source, tmp_path / "source", progress=False)
    warm = dataclasses.replace(MIXTURE, steps=10, init_from=str(tmp_path / "source"))
    # Step 0 of the warm run is the source's model, with a fresh optimiser state.
    trainer = Trainer(warm, jax.devices()[:1])
    from icl_theory.training.run import initial_state

    state = initial_state(trainer)
    for a, b in zip(leaves(state.params), leaves(load_model(tmp_path / "source")), strict=True):
        np.testing.assert_array_equal(a, b)
    # A fresh optimiser: Adam's moments and counts are all zero, and the run is at step 0.
    assert int(state.step) == 0
    assert all(np.all(np.asarray(x) == 0) for x in jax.tree.leaves(state.opt_state))
    train(warm, tmp_path / "warm", progress=False)
    provenance = json.loads((tmp_path / "warm" / "provenance.json").read_text())
    assert provenance["init_from"]["run"] == str(tmp_path / "source")
    assert provenance["init_from"]["step"] == source.steps
    assert len(provenance["init_from"]["sha256"]) == 64
    assert provenance["segments"][0]["kind"] == "warm start"


def test_a_warm_start_from_another_model_is_refused_before_writing(tmp_path):
    train(dataclasses.replace(MIXTURE, n_points=5), tmp_path / "source", progress=False)
    warm = dataclasses.replace(MIXTURE, init_from=str(tmp_path / "source"))
    with pytest.raises(RunFolderError, match="a warm start needs the same model"):
        train(warm, tmp_path / "warm", progress=False)
    assert not (tmp_path / "warm").exists()
    missing = dataclasses.replace(MIXTURE, init_from=str(tmp_path / "nowhere"))
    with pytest.raises(RunFolderError, match="holds no checkpoint"):
        train(missing, tmp_path / "warm", progress=False)


@pytest.mark.slow  # an ensemble compiled alongside single runs (CI runs -m slow)
def test_an_ensemble_warm_starts_each_member_from_its_own_source(tmp_path):
    sources = []
    for seed in (0, 1):
        config = dataclasses.replace(
            MIXTURE, prior=build_prior("sparse(k=1)", dim=4), seed=seed, steps=20
        )
        train(config, tmp_path / f"source{seed}", progress=False)
        sources.append(str(tmp_path / f"source{seed}"))
    configs = [
        dataclasses.replace(MIXTURE, seed=seed, steps=10, init_from=source)
        for seed, source in enumerate(sources)
    ]
    results = train_ensemble(configs, [tmp_path / "m0", tmp_path / "m1"], progress=False)
    assert len(results) == 2
    for member, source in zip(("m0", "m1"), sources, strict=True):
        provenance = json.loads((tmp_path / member / "provenance.json").read_text())
        assert provenance["init_from"]["run"] == source


def test_unclean_segments_flag_any_segment_with_uncommitted_code():
    clean = {"git": {"commit": "a", "dirty": False}}
    dirty = {"git": {"commit": "b", "dirty": True}}
    assert unclean_segments({"segments": [clean, clean]}) == []
    assert unclean_segments({"segments": [clean, dirty]}) == [dirty]
    assert unclean_segments({"git": {"dirty": None}}) != []  # unknown counts as unclean


def leaves(tree):
    import equinox as eqx

    return [np.asarray(x) for x in jax.tree.leaves(eqx.filter(tree, eqx.is_array))]
