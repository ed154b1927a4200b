"""Starved jobs: a backend that could search for less than half its budget.

A job is ``starved`` when the seconds its backend was allowed to search (``search_s``: the
limit the adapter handed the backend, or the budget left after a setup that ran past its
allowance) are under ``STARVED_SHARE`` of ``budget_s``. Such a job keeps ``status ok`` (it
produced a scored model) but its score says more about the harness than about the system,
so ``show`` and the report list every starved job with the seconds it got, and never show
its score without the flag.
"""

from __future__ import annotations

import math

import pandas as pd

STARVED_SHARE = 0.5
LIST_COLUMNS = ["framework", "task", "fold", "search_s", "budget_s", "setup_duration",
                "setup_allowance_s", "acc", "result"]  # fmt: skip


def budget_columns(budget_s: float, outcome) -> dict:
    """The row's budget-contract columns from the executor's outcome and the worker's."""
    w = outcome.worker or {}
    setup = outcome.setup_duration
    if setup is None:
        setup = w.get("setup_duration")
    search = w.get("search_s")
    starved = None
    if outcome.status == "ok" and search is not None:
        starved = bool(float(search) < STARVED_SHARE * float(budget_s))
    return {
        "setup_duration": setup,
        "setup_allowance_s": (outcome.limits or {}).get("setup_allowance_s"),
        "margin_s": (outcome.limits or {}).get("margin_s"),
        "predict_allowance_s": (outcome.limits or {}).get("predict_allowance_s"),
        "search_s": search,
        "starved": starved,
        "best_model": w.get("best_model"),
        "stop_reason": w.get("stop_reason"),
        "rounds": w.get("rounds"),
    }


def _flag(v) -> bool:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return False
    if isinstance(v, str):
        return v.strip().lower() in ("true", "1")
    return bool(v)


def starved_jobs(results: pd.DataFrame) -> pd.DataFrame:
    """Every starved job of a results frame (store rows or results.csv), worst first."""
    if results.empty or "starved" not in results:
        return pd.DataFrame(columns=LIST_COLUMNS)
    mask = results["starved"].map(_flag)
    out = results.loc[mask].copy()
    for c in LIST_COLUMNS:
        if c not in out:
            out[c] = None
    out["share"] = pd.to_numeric(out["search_s"], errors="coerce") / pd.to_numeric(
        out["budget_s"], errors="coerce"
    )
    return out.sort_values(["share", "framework", "task", "fold"])[LIST_COLUMNS].reset_index(
        drop=True
    )


def describe(row) -> str:
    """One line per starved job: who, where, how many seconds of the budget it got."""

    def num(v, fmt):
        return _fmt(v, fmt, missing="?")

    return (
        f"{row['framework']} on {row['task']} fold {row['fold']}: searched at most "
        f"{num(row['search_s'], '.1f')} s of its {num(row['budget_s'], 'g')} s budget "
        f"(setup {num(row['setup_duration'], '.1f')} s, allowance "
        f"{num(row['setup_allowance_s'], 'g')} s); accuracy {num(row['acc'], '.4f')} "
        "[starved]"
    )


def caption(n: int) -> str:
    return (
        f"{n} job(s) ran with status ok but their backend could search for less than "
        f"{STARVED_SHARE:.0%} of its budget (starved): their scores are included in the "
        "tables above but do not show what the system does with its full budget."
    )


def render(results: pd.DataFrame):
    """A rich table of the starved jobs for ``show`` (None when there are none)."""
    jobs = starved_jobs(results)
    if jobs.empty:
        return None
    from rich.table import Table
    from rich.text import Text  # cells are plain text, never markup

    t = Table(title="Starved jobs (score shown only with this flag)", caption=caption(len(jobs)))
    for col in ("framework", "task", "fold", "search_s", "budget_s", "setup_s", "acc", "flag"):
        t.add_column(col, justify="left" if col in ("framework", "task", "flag") else "right")
    for _, r in jobs.iterrows():
        cells = [r["framework"], r["task"], r["fold"], _fmt(r["search_s"], ".1f"),
                 _fmt(r["budget_s"], "g"), _fmt(r["setup_duration"], ".1f"), _fmt(r["acc"], ".4f"),
                 "starved"]  # fmt: skip
        t.add_row(*(Text(str(c)) for c in cells))
    return t


def _fmt(v, fmt: str, missing: str = "-") -> str:
    try:
        v = float(v)
    except (TypeError, ValueError):
        return missing
    return missing if math.isnan(v) else format(v, fmt)
