"""The production version of notebooks/handoff-research.ipynb: a feature module and a training script."""
