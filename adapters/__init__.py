"""Adapters: one module per AutoML backend, all behind one scikit-learn style interface.

See :mod:`automl_bench_adapters.base` for the contract and ``adapters/frameworks.yaml`` for the
framework variants (name -> adapter + parameters) the harness knows.
"""
