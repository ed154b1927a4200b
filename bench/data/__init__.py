"""Data: task sources, validation, profiles, folds, the task cache and the shipped catalogue."""
