"""Results: what a finished job becomes. Scoring from the saved predictions (never the
adapter's own numbers), the result store and its results.csv, run directories and their
ownership, cost, starvation flags, the constant predictor's baseline and MLflow tracking.

It may import execution (the job's output files), planning, data and the top-level utility
modules; report, race, run and cli import it.
"""
