"""The report's list of starved jobs (see :mod:`automl_bench.results.starvation`): jobs that ran ``ok`` but
whose backend could search for less than half its budget. Their scores enter the tables
like any other; this section and a line in the conclusions name every one, with the
seconds it got, so no such score is shown without the flag."""

from __future__ import annotations

import pandas as pd

from automl_bench.report.tables import Table, num, text
from automl_bench.results import starvation


def jobs(results: pd.DataFrame) -> pd.DataFrame:
    df = results.copy()
    if "label" in df:
        df["framework"] = df["label"]
    return starvation.starved_jobs(df)


def table(starved: pd.DataFrame) -> Table:
    t = Table(["framework", "task", "fold", "searched at most (s)", "budget (s)", "setup (s)",
               "setup allowance (s)", "accuracy", "flag"],
              caption=starvation.caption(len(starved)))  # fmt: skip
    for _, r in starved.iterrows():
        t.rows.append([text(r["framework"]), text(r["task"]), text(r["fold"]),
                       num(_f(r["search_s"]), 3), num(_f(r["budget_s"])),
                       num(_f(r["setup_duration"]), 3), num(_f(r["setup_allowance_s"])),
                       num(_f(r["acc"])), "starved"])  # fmt: skip
    return t


def conclusion(starved: pd.DataFrame) -> str | None:
    if starved.empty:
        return None
    who = ", ".join(sorted(starved["framework"].astype(str).unique()))
    return (f"{len(starved)} job(s) of {who} were starved: their backend could search for less "
            f"than half its budget (see Starved jobs); their scores are in the tables but do not "
            "show what the system does with its full budget.")  # fmt: skip


def _f(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None
