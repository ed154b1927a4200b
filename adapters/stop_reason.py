"""Why a backend's search ended: the one rule every adapter applies.

``STOP_REASONS`` (:mod:`automl_bench_adapters.base`, checked by the harness's worker):
``converged`` (the backend ran out of things to try), ``budget`` (its own time limit ended
the search), ``deadline`` (the adapter cut the search short, or lowered the backend's limit,
to finish inside ``time_limit``).
"""

from __future__ import annotations

# A search that used at least this share of the seconds it was allowed is taken to have been
# ended by them; one that stopped sooner ran out of things to try. Below 1: backends stop a
# little before their limit (no next model fits in what is left), and the seconds they were
# allowed and the seconds they report using are measured by different clocks.
BUDGET_USED = 0.9


def stop_reason(used_s: float, allowed_s: float, *, cut_short: bool = False,
                lowered: bool = False) -> str:  # fmt: skip
    """``deadline`` when the adapter stopped the search (``cut_short``); else ``converged``
    when it used less than ``BUDGET_USED`` of ``allowed_s``; else ``deadline`` when the
    adapter had lowered the backend's own limit to keep to ``time_limit`` (``lowered``),
    ``budget`` when it had not."""
    if cut_short:
        return "deadline"
    if float(used_s) < BUDGET_USED * float(allowed_s):
        return "converged"
    return "deadline" if lowered else "budget"
