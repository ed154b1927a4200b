"""Data, the lowest stage: task sources (OpenML, files, scikit-learn's bundled data sets,
generated problems), validation, dataset profiles, folds, the columnar task cache and the
catalogue of the datasets that ship with the package.

It imports nothing of the harness but the top-level utility modules (errors, paths, yamlio,
timeline); every other stage may import it.
"""
