"""The jobs behind the `icl-theory` commands, importable so that scripts can call them: evaluate
trained runs, the quickstart, and a summary of sampled prompts."""

from icl_theory.jobs.evaluate_runs import evaluate_runs
from icl_theory.jobs.quickstart import run_quickstart
from icl_theory.jobs.summary import ClassSummary, summarise

__all__ = ["ClassSummary", "evaluate_runs", "run_quickstart", "summarise"]
