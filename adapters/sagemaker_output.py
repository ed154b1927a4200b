"""Reading a batch transform's output from an Autopilot model asked for the keys
``labels,probabilities``: one CSV line per input row, each field a list written as Python
writes it, e.g. ``"['c0', 'c1', 'c2']","[0.1, 0.2, 0.7]"``. Labels are the codes the adapter
wrote (``c0``..``cK``), so each probability lands in its class's column."""

from __future__ import annotations

import ast
import csv
import io

import numpy as np

from automl_bench_adapters.base import AdapterError


def read_probabilities(text: str, n_rows: int, n_classes: int) -> np.ndarray:
    """(n_rows, n_classes) probabilities in code order; a class the model never predicts
    keeps 0."""
    lines = [r for r in csv.reader(io.StringIO(text)) if r]
    if len(lines) != n_rows:
        raise AdapterError(f"the batch transform returned {len(lines)} rows for {n_rows}")
    proba = np.zeros((n_rows, n_classes))
    for i, fields in enumerate(lines):
        if len(fields) != 2:
            raise AdapterError(f"batch transform output row {i + 1}: expected labels and "
                               f"probabilities, got {len(fields)} fields")  # fmt: skip
        labels, values = (_as_list(f, i) for f in fields)
        if len(labels) != len(values):
            raise AdapterError(f"batch transform output row {i + 1}: {len(labels)} labels "
                               f"but {len(values)} probabilities")  # fmt: skip
        for label, p in zip(labels, values, strict=True):
            code = _code(str(label), n_classes, i)
            proba[i, code] = float(p)
    return proba


def _as_list(field: str, i: int) -> list:
    try:
        value = ast.literal_eval(field)
    except (ValueError, SyntaxError):
        raise AdapterError(f"batch transform output row {i + 1}: {field[:80]!r} is not a "
                           "list") from None
    if not isinstance(value, (list, tuple)):
        raise AdapterError(f"batch transform output row {i + 1}: {field[:80]!r} is not a list")
    return list(value)


def _code(label: str, n_classes: int, i: int) -> int:
    if label.startswith("c") and label[1:].isdigit() and int(label[1:]) < n_classes:
        return int(label[1:])
    raise AdapterError(f"batch transform output row {i + 1}: unknown label {label!r}")
