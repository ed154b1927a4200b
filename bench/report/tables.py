"""Report tables as plain strings (columns + rows), shared by the HTML, Markdown and console
renderers. Values stay raw text here; each renderer escapes for its own format."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd


@dataclass
class Table:
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    caption: str = ""

    @property
    def empty(self) -> bool:
        return not self.rows


def num(v, digits: int = 4) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
        return "-"
    if isinstance(v, (int,)) or (isinstance(v, float) and v.is_integer() and abs(v) >= 1000):
        return f"{int(v)}"
    return f"{v:.{digits}g}" if abs(v) >= 1e-3 or v == 0 else f"{v:.2e}"


def interval(m, lo, hi, digits: int = 4) -> str:
    if m is None or pd.isna(m):
        return "-"
    if lo is None or pd.isna(lo) or hi is None or pd.isna(hi):
        return f"{m:.{digits}f}"
    return f"{m:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


def usd(v) -> str:
    if v is None or pd.isna(v):
        return "-"
    if v == 0:
        return "$0"
    return f"${v:.6f}" if v < 0.01 else f"${v:.4f}" if v < 1 else f"${v:,.2f}"


def text(v) -> str:
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)


def leaderboard(board: pd.DataFrame) -> Table:
    t = Table(
        ["framework", "accuracy [95%]", "log loss [95%]", "balanced acc. [95%]", "mean rank",
         "normalised score", "jobs", "failures", "imputed", "mean fit s", "cost"],
        caption=("Means over tasks of the fold means; 95% intervals resample folds within each "
                 "task. Normalised score: constant predictor = 0, best framework on the task = 1. "
                 "* = includes values imputed with the constant predictor's result."),
    )  # fmt: skip
    for _, r in board.iterrows():
        star = " *" if r["imputed"] else ""
        t.rows.append([
            text(r["framework"]),
            interval(r["acc"], r["acc_lo"], r["acc_hi"]) + star,
            interval(r["logloss"], r["logloss_lo"], r["logloss_hi"]) + star,
            interval(r["balacc"], r["balacc_lo"], r["balacc_hi"]) + star,
            num(r["mean_rank"], 3) + star if pd.notna(r["mean_rank"]) else "-",
            num(r["normalised"], 3) + star if pd.notna(r["normalised"]) else "-",
            str(r["jobs"]), str(r["failures"]), str(r["imputed"]),
            num(r["train_s"], 3), usd(r["cost_usd"]),
        ])  # fmt: skip
    return t


def per_task(pt: pd.DataFrame, metric_name: str) -> Table:
    extra = [c for c in ("imbalance", "sparsity", "missing_ratio")
             if c in pt.columns and pt[c].notna().any()]  # fmt: skip
    t = Table(
        ["task", "rows", "features", "classes", *[c.replace("_", " ") for c in extra],
         "framework", "rank", f"result ({metric_name})", "accuracy", "log loss",
         "balanced acc.", "folds", "imputed"],
        caption=("Mean and 95% t-interval over folds (clipped to the metric's range). rows / features / classes: the task's "
                 "profile (- when the run does not record it); imbalance = majority / minority "
                 "class rows, sparsity = share of zero cells. * = imputed folds included."),
    )  # fmt: skip
    for _, r in pt.iterrows():
        star = " *" if r["imputed"] else ""
        t.rows.append([
            text(r["task"]), num(r.get("rows")), num(r.get("features")), num(r.get("classes")),
            *[num(r[c], 3) for c in extra], text(r["framework"]), num(r["rank"], 3),
            interval(r["result"], r["result_lo"], r["result_hi"]) + star,
            interval(r["acc"], r["acc_lo"], r["acc_hi"]) + star,
            interval(r["logloss"], r["logloss_lo"], r["logloss_hi"]) + star,
            interval(r["balacc"], r["balacc_lo"], r["balacc_hi"]) + star,
            str(r["folds"]), str(r["imputed"]),
        ])  # fmt: skip
    return t


def matrix(m: pd.DataFrame, caption: str, digits: int = 3) -> Table:
    t = Table(["", *[text(c) for c in m.columns]], caption=caption)
    for idx, r in m.iterrows():
        t.rows.append([text(idx), *[("-" if pd.isna(v) else f"{v:.{digits}f}") for v in r]])
    return t


def ratings(rt: pd.DataFrame, caption: str) -> Table:
    t = Table(["framework", "Elo", "95% interval"], caption=caption)
    for _, r in rt.iterrows():
        iv = "-" if pd.isna(r["lo"]) else f"[{r['lo']:.0f}, {r['hi']:.0f}]"
        t.rows.append([text(r["framework"]), f"{r['elo']:.0f}", iv])
    return t


def pareto(p: pd.DataFrame, score_name: str) -> Table:
    t = Table(["framework", score_name, "mean fit s per job", "total cost", "front (time)",
               "front (cost)"])  # fmt: skip
    for _, r in p.sort_values("score", ascending=False).iterrows():
        t.rows.append([
            text(r["framework"]), num(r["score"], 3), num(r["train_s"], 3), usd(r["cost_usd"]),
            "yes" if r["front_time"] else "", "yes" if r["front_cost"] else "",
        ])  # fmt: skip
    return t


def budget(b: pd.DataFrame) -> Table:
    t = Table(
        ["framework", "jobs", "budget s", "fit/budget median", "p95", "max", "wall/budget max",
         "fit over budget", "timeouts", "memory kills", "peak RSS MB"],
        caption=("fit/budget: the adapter's fit time over the job's budget (the harness times "
                 "it). Timeouts and memory kills: jobs the driver killed at budget + grace or at "
                 "the memory limit."),
    )  # fmt: skip
    for _, r in b.iterrows():
        t.rows.append([
            text(r["framework"]), str(r["jobs"]), num(r["budget_s"]),
            num(r["fit_ratio_median"], 3), num(r["fit_ratio_p95"], 3), num(r["fit_ratio_max"], 3),
            num(r["wall_ratio_max"], 3), str(r["over_budget"]), str(r["timeouts"]),
            str(r["memory_kills"]), num(r["peak_rss_mb_max"], 4),
        ])  # fmt: skip
    return t


def failures(f: pd.DataFrame, limit: int = 600) -> Table:
    t = Table(["run", "framework", "task", "fold", "status", "error", "message", "imputed"])
    for _, r in f.iterrows():
        msg = text(r["error_message"])
        if len(msg) > limit:
            msg = msg[:limit] + " ... (full text in failures.csv)"
        t.rows.append([
            text(r["run"]), text(r["framework"]), text(r["task"]), num(r["fold"]),
            text(r["status"]), text(r["error_type"]), msg, text(r["imputed"]),
        ])  # fmt: skip
    return t


def cost(c: pd.DataFrame, projections) -> Table:
    cols = ["framework", "jobs", "wall h", "vCPU h", "cost (measured)", "per job"]
    cols += [f"{p.name} (projection)" for p in projections]
    t = Table(cols)
    for _, r in c.iterrows():
        t.rows.append([
            text(r["framework"]), str(int(r["jobs"])), f"{r['wall_h']:.4f}", f"{r['vcpu_h']:.4f}",
            usd(r["cost_usd"]), usd(r["cost_per_job_usd"]),
            *[usd(r[f"{p.name}_usd"]) for p in projections],
        ])  # fmt: skip
    return t


def prices(table) -> Table:
    ref = table.reference
    t = Table(["price", "value", "per vCPU-hour", "source", "date"],
              caption=f"Price table: {table.path}")  # fmt: skip
    t.rows.append([f"reference: {ref.name}", f"${ref.usd_per_hour}/h for {ref.vcpus} vCPU",
                   f"${ref.usd_per_vcpu_hour:.4f}", ref.source, str(ref.date)])  # fmt: skip
    for p in table.projections:
        t.rows.append([f"projection: {p.name}", f"${p.usd}/{p.unit}", "-", p.source, str(p.date)])
    return t


def key_values(pairs, caption: str = "") -> Table:
    return Table(["", "value"], [[text(k), text(v)] for k, v in pairs], caption)
