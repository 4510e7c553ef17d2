"""Experiment 2: the linear study's models on sparse prompts with 1 .. d nonzero coefficients."""

# The own-class Bayes predictor is skipped beyond this many sparse supports (d = 20 with 10
# nonzeros has 184,756 supports to enumerate).
MAX_SUPPORTS = 20_000
