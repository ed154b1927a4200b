"""The report's contention section: which jobs of CPU-bound backends got less than
``LOW_SHARE`` of their cores (``cpu_share``), and the machine's load when they started."""

from __future__ import annotations

import pandas as pd

from automl_bench.execution import contention
from automl_bench.report.tables import Table, num, text


def per_framework(df: pd.DataFrame) -> pd.DataFrame:
    """framework, jobs judged, median and min cpu_share, flagged jobs, median load at start."""
    if df.empty or "cpu_share" not in df.columns:
        return pd.DataFrame()
    d = df.assign(cpu_share=pd.to_numeric(df["cpu_share"], errors="coerce"),
                  load_at_start=pd.to_numeric(df.get("load_at_start"), errors="coerce"))  # fmt: skip
    d = d[d["cpu_share"].notna()]
    if d.empty:
        return pd.DataFrame()
    flagged = contention.contended(d)
    rows = []
    for fw, g in d.groupby("framework", sort=True):
        rows.append({
            "framework": fw, "cpu_bound": contention.is_cpu_bound(fw), "jobs": len(g),
            "cpu_share_median": g["cpu_share"].median(), "cpu_share_min": g["cpu_share"].min(),
            "below": int((flagged["framework"] == fw).sum()),
            "load_at_start_median": g["load_at_start"].median(),
        })  # fmt: skip
    return pd.DataFrame(rows)


def table(t: pd.DataFrame) -> Table:
    out = Table(
        ["framework", "CPU-bound", "jobs", "CPU share median", "min",
         f"jobs below {contention.LOW_SHARE:g}", "load at start (median)"],
        caption=("CPU share = CPU time of the job's processes / (wall time x cores): 1 when the "
                 "job kept its cores busy throughout. Load: the machine's 1-minute load average "
                 "when the job started."),
    )  # fmt: skip
    for _, r in t.iterrows():
        out.rows.append([
            text(r["framework"]), "yes" if r["cpu_bound"] else "no", str(r["jobs"]),
            num(r["cpu_share_median"], 3), num(r["cpu_share_min"], 3), str(r["below"]),
            num(r["load_at_start_median"], 3),
        ])  # fmt: skip
    return out


def flag(df: pd.DataFrame) -> str | None:
    """The contention flag (a sentence), or None when no job is below the threshold."""
    if df.empty or "cpu_share" not in df.columns:
        return None
    return contention.summary(df)
