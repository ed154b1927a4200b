"""Execution: isolated job workers under enforced budgets, locally or on Dask, and what they measure."""
