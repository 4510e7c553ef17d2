"""Run: `python experiments/dense_sparse_mixture/run.py --preset small --jobs 2`
(presets smoke, small, paper; `--replot` redraws tables and figures from saved results).

See README.md in this folder for the question, and icl_theory/studies/ for the settings.
"""

from icl_theory.studies.linear_experiments import main

if __name__ == "__main__":
    main("dense_sparse_mixture")
