"""Studies: the settings and shared runs behind the scripted experiments in `experiments/`."""
