"""The transformer in-context learner."""

from icl_theory.model.gpt2 import GPT2, PRESETS, ModelConfig, parameter_count, preset

__all__ = ["GPT2", "PRESETS", "ModelConfig", "parameter_count", "preset"]
