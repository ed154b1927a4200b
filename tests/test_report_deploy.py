"""The deployability section's wording: notes told once per framework with job counts, and
the latency-budget line."""

from __future__ import annotations

import pandas as pd

from automl_bench.report.deploy import budget_line, summarise_notes


def test_notes_are_told_once_with_the_jobs_they_concern():
    notes = [
        "21.4s left of the 30s allowance (the fit ran late); 21.4s to measure: 2 one-row and "
        "2 batch repetitions; no MOJO for this model, saved H2O's binary model (x)",
        "30s to measure: 3 one-row and 2 batch repetitions; no MOJO for this model, saved "
        "H2O's binary model (x)",
        "not measured: the measurement did not finish within the 3.94s it had (allowance 30s)",
    ]
    assert summarise_notes(notes) == (
        "fewer repetitions in the time there was (2 jobs); no MOJO for this model, saved "
        "H2O's binary model (x) (2 jobs); not measured in the time there was (1 job); "
        "the fit ran late, less time to measure (1 job)"
    )
    assert summarise_notes([]) == ""


def test_budget_line_names_who_fits_who_does_not_and_the_best_within():
    t = pd.DataFrame({"framework": ["a", "b", "c", "d"], "infer_1_ms": [5.0, 50.0, 12.0, None],
                      "score": [0.5, 0.9, 0.7, 0.8]})  # fmt: skip
    assert budget_line(t, 20) == (
        "Fits your latency budget (20 ms to predict 1 row, median): c (12 ms), a (5 ms); "
        "over it: b (50 ms); not measured: d. Best score within the budget: c."
    )
    assert budget_line(t, 1).startswith(
        "Fits your latency budget (1 ms to predict 1 row, median): none; over it: a (5 ms)"
    )
