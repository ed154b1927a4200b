"""Report tables as plain strings (columns + rows), shared by the HTML, Markdown and console
renderers. Values stay raw text here; each renderer escapes for its own format."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import pandas as pd

# a cell that reads as a number: 0.52, -0.0419, +0.0563, $0.0005680, 12.3 s, 1,000,
# 0.81 [0.75, 0.86] *, 0 (worse than constant)
_NUMBER = re.compile(r"[-+]?\$?\d[\d,]*(\.\d+)?( s| ms| MB|%)?( \[[-+\d.,]+, [-+\d.,]+\])?"
                     r"( \([^)]*\))?( \*)?")  # fmt: skip


@dataclass
class Table:
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    caption: str = ""

    @property
    def empty(self) -> bool:
        return not self.rows

    @property
    def numeric(self) -> list[bool]:
        """Per column: True when every filled cell reads as a number (right-aligned)."""
        out = []
        for i in range(len(self.columns)):
            cells = [r[i] for r in self.rows if i < len(r) and r[i] not in ("", "-")]
            out.append(bool(cells) and all(_NUMBER.fullmatch(c) for c in cells))
        return out

    def cell_is_number(self, row: list[str], cols: list[bool] | None = None) -> list[bool]:
        """Per cell of ``row``: right-aligned (its column is numeric, or it reads as a number);
        ``cols``: :attr:`numeric`, when the caller has it."""
        cols = self.numeric if cols is None else cols
        return [cols[i] or bool(_NUMBER.fullmatch(c)) for i, c in enumerate(row)]


MAX_DECIMALS = 6


def _missing(v) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))


def _decimals(v: float, digits: int) -> int:
    """Decimals that show ``digits`` significant digits of ``v`` in fixed point."""
    if v == 0 or not math.isfinite(v):
        return 0
    return min(MAX_DECIMALS, max(0, digits - 1 - math.floor(math.log10(abs(v)))))


def num(v, digits: int = 4) -> str:
    """Fixed point (never scientific notation), ``digits`` significant digits, thousands
    separated: 0.000792, 12.35, 284,117."""
    if _missing(v):
        return "-"
    if isinstance(v, int) or (isinstance(v, float) and v.is_integer() and abs(v) >= 1000):
        return f"{int(v):,}"
    v = float(v)
    return f"{v:,.{_decimals(v, digits)}f}"


def interval(m, lo, hi, digits: int = 4) -> str:
    if m is None or pd.isna(m):
        return "-"
    if lo is None or pd.isna(lo) or hi is None or pd.isna(hi):
        return f"{m:.{digits}f}"
    return f"{m:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


def dollars(v) -> str:
    """Dollars to 4 significant digits, fixed point: $0.0005680, $12.35, $1,235."""
    if _missing(v):
        return "-"
    if v == 0:
        return "$0"
    return f"${v:,.{_decimals(float(v), 4)}f}"


usd = dollars


def seconds(v) -> str:
    """Seconds to 0.1: 12.3 s."""
    return "-" if _missing(v) else f"{float(v):,.1f} s"


def text(v) -> str:
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)


def leaderboard(board: pd.DataFrame, metric) -> Table:
    """``metric``: the report's decision metric (:mod:`automl_bench.report.metric`)."""
    from automl_bench.report.intervals import MIN_TASKS

    n_tasks = int(board["tasks"].max()) if not board.empty and "tasks" in board else 0
    repaired = "repaired_rows" in board and board["repaired_rows"].fillna(0).sum() > 0
    if n_tasks >= MIN_TASKS:
        how = ("95% intervals from resampling tasks (folds nested inside): what a new task of "
               "this kind would show.")  # fmt: skip
    else:
        how = (f"No interval: {n_tasks} task{'s' if n_tasks != 1 else ''} cannot tell what a "
               f"new task would show (intervals need at least {MIN_TASKS}).")  # fmt: skip
    t = Table(
        ["framework", "accuracy [95%]", "log loss [95%]", "balanced acc. [95%]", "mean rank",
         "normalised score", "jobs", "failures", "imputed", *(["repaired rows"] if repaired else []),
         "mean fit s", "cost"],
        caption=(f"Ranked on {metric.named}, the report's decision metric. Means over tasks of "
                 f"the fold means. {how} Mean rank: over tasks on {metric.name} (1 = best). "
                 f"Normalised score on {metric.name}: constant predictor = 0, best framework on "
                 "the task = 1, worse than the constant predictor = 0. "
                 "* = includes values imputed with the constant predictor's result."
                 + vendor_caption(board)),
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
            *([str(int(r["repaired_rows"]))] if repaired else []),
            f"{r['train_s']:.1f}" if pd.notna(r["train_s"]) else "-", cost_cell(r),
        ])  # fmt: skip
    return t


def cost_cell(r) -> str:
    """Machine-time cost, plus the vendor's bill marked † for a framework a service bills."""
    if not r.get("billed_by"):
        return dollars(r["cost_usd"])
    bill = dollars(r["vendor_cost_usd"]) if pd.notna(r["vendor_cost_usd"]) else "unpriced"
    return f"{dollars(r['cost_usd'])} + {bill} †"


def vendor_caption(board: pd.DataFrame) -> str:
    if "billed_by" not in board or not board["billed_by"].fillna("").astype(bool).any():
        return ""
    who = "; ".join(f"{r['framework']}: {r['billed_by']}" for _, r in board.iterrows()
                    if r["billed_by"])  # fmt: skip
    return (" Cost: the time of the machine that ran the jobs; † + what the vendor billed in "
            f"your account ({who}); prices and their date under Cost.")


def pairwise(pw: pd.DataFrame, metric) -> Table:
    from automl_bench.report.intervals import MIN_TASKS

    n = int(pw["tasks"].max()) if not pw.empty else 0
    how = ("95% interval from resampling tasks (folds nested inside); an interval that "
           "excludes 0 says the order would likely hold on a new task of this kind"
           if n >= MIN_TASKS else
           f"no interval: {n} task{'s' if n != 1 else ''} are too few (at least {MIN_TASKS})")  # fmt: skip
    better = "lower" if not metric.higher_is_better else "higher"
    t = Table(["framework", "minus", f"mean difference ({metric.name})", "95% interval"],
              caption=(f"Pairwise differences of the per-task mean {metric.name}, paired by fold "
                       f"(first framework minus second; {better} is better); {how}. "
                       "* = includes imputed values."))  # fmt: skip
    for _, r in pw.iterrows():
        star = " *" if r["imputed"] else ""
        sign = 1 if metric.higher_is_better else -1  # the grid's score is higher-is-better
        lo, hi = sorted((sign * r["lo"], sign * r["hi"])) if pd.notna(r["lo"]) else (None, None)
        iv = "-" if lo is None else f"[{lo:.4f}, {hi:.4f}]"
        t.rows.append([text(r["a"]), text(r["b"]), f"{sign * r['diff']:+.4f}{star}", iv])
    return t


def coverage(c: pd.DataFrame, dropped: dict, impute: bool) -> Table:
    what = ("imputed with the constant predictor's result (--impute-missing)" if impute
            else "left out of every comparison")  # fmt: skip
    t = Table(["task", *[text(f) for f in c.columns]],
              caption=("Jobs finished ok / jobs per task and framework; - = the framework never "
                       f"ran the task. Tasks not run by every framework are {what}."))  # fmt: skip
    for task, r in c.iterrows():
        mark = " (not compared)" if task in dropped and not impute else (
            " (imputed)" if task in dropped else "")  # fmt: skip
        t.rows.append([text(task) + mark, *[text(v) for v in r]])
    return t


def _normalised_cell(r) -> str:
    if pd.isna(r.get("normalised")):
        return "-"
    return "0 (worse than constant)" if r.get("below_constant") else f"{r['normalised']:.3f}"


def _suspect_mark(r) -> str:
    n = int(r.get("suspect") or 0)
    return f" (suspect: {n} fold{'s' if n > 1 else ''})" if n else ""


def per_task(pt: pd.DataFrame, metric) -> Table:
    from automl_bench.report.intervals import MIN_FOLDS

    extra = [c for c in ("imbalance", "sparsity", "missing_ratio")
             if c in pt.columns and pt[c].notna().any()]  # fmt: skip
    t = Table(
        ["task", "rows", "features", "classes", *[c.replace("_", " ") for c in extra],
         "framework", f"rank ({metric.name})", "normalised score", "accuracy", "log loss",
         "balanced acc.", "folds", "imputed"],
        caption=(f"Ranked on {metric.named}. Mean over folds; with fewer than {MIN_FOLDS} folds the brackets show the "
                 "lowest and highest fold value, from {MIN_FOLDS} folds on a 95% t-interval "
                 "(clipped to the metric's range). rows / features / classes: the task's "
                 "profile (- when the run does not record it); imbalance = majority / minority "
                 "class rows, sparsity = share of zero cells. * = imputed folds included. "
                 "suspect: folds whose test log loss is implausibly worse than the backend's "
                 "own validation (see Validation vs test)."
                 ).replace("{MIN_FOLDS}", str(MIN_FOLDS)),
    )  # fmt: skip
    for _, r in pt.iterrows():
        star = " *" if r["imputed"] else ""
        t.rows.append([
            text(r["task"]), num(r.get("rows")), num(r.get("features")), num(r.get("classes")),
            *[num(r[c], 3) for c in extra], text(r["framework"]) + _suspect_mark(r),
            num(r["rank"], 3),
            _normalised_cell(r) + star,
            interval(r["acc"], r["acc_lo"], r["acc_hi"]) + star,
            interval(r["logloss"], r["logloss_lo"], r["logloss_hi"]) + star,
            interval(r["balacc"], r["balacc_lo"], r["balacc_hi"]) + star,
            str(r["folds"]), str(r["imputed"]),
        ])  # fmt: skip
    return t


def matrix(m: pd.DataFrame, caption: str, digits: int = 3, imputed=()) -> Table:
    """A frameworks x frameworks table; names in ``imputed`` (their values include imputed
    ones) are marked *."""
    imputed = set(imputed)

    def name(f):
        return text(f) + (" *" if f in imputed else "")

    if imputed:
        caption += " * = this framework's values include imputed ones."
    t = Table(["", *[name(c) for c in m.columns]], caption=caption)
    for idx, r in m.iterrows():
        t.rows.append([name(idx), *[("-" if pd.isna(v) else f"{v:.{digits}f}") for v in r]])
    return t


def ratings(rt: pd.DataFrame, caption: str, imputed=()) -> Table:
    imputed = set(imputed)
    if imputed:
        caption += " * = includes imputed values."
    t = Table(["framework", "Elo", "95% interval"], caption=caption)
    for _, r in rt.iterrows():
        iv = "-" if pd.isna(r["lo"]) else f"[{r['lo']:.0f}, {r['hi']:.0f}]"
        star = " *" if r["framework"] in imputed else ""
        t.rows.append([text(r["framework"]) + star, f"{r['elo']:.0f}", iv])
    return t


def pareto(p: pd.DataFrame, score_name: str, imputed=()) -> Table:
    imputed = set(imputed)
    t = Table(["framework", score_name, "mean fit s per job", "total cost", "front (time)",
               "front (cost)"],
              caption=" ".join(c for c in (
                  "* = the score includes imputed values." if imputed else "",
                  "† = includes what the vendor billed in your account."
                  if "billed_by" in p and p["billed_by"].fillna("").astype(bool).any() else "",
              ) if c))  # fmt: skip
    for _, r in p.sort_values("score", ascending=False).iterrows():
        t.rows.append([
            text(r["framework"]), num(r["score"], 3) + (" *" if r["framework"] in imputed else ""),
            seconds(r["train_s"]), dollars(r["cost_usd"]) + (" †" if r.get("billed_by") else ""),
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
    vendor = "vendor_usd" in c
    cols = ["framework", "jobs", "wall h", "vCPU h", "cost (measured)", "per job"]
    cols += ["billed instance h †", "billed by the vendor †"] if vendor else []
    cols += [f"{p.name} (projection)" for p in projections]
    t = Table(cols)
    for _, r in c.iterrows():
        billed = [num(r["vendor_h"], 4) if pd.notna(r["vendor_h"]) else "-",
                  usd(r["vendor_usd"]) if pd.notna(r["vendor_usd"]) else "-"] if vendor else []
        t.rows.append([
            text(r["framework"]), str(int(r["jobs"])), f"{r['wall_h']:.4f}", f"{r['vcpu_h']:.4f}",
            usd(r["cost_usd"]), usd(r["cost_per_job_usd"]), *billed,
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


def service_prices(table, services: set[str]) -> Table:
    """The table's prices of the managed services that billed jobs of the report."""
    t = Table(["service", "instance type", "per instance-hour", "source", "date"],
              caption=f"Prices of the vendors' billed compute: {table.path}")  # fmt: skip
    for p in table.services:
        if p.service in services:
            t.rows.append([p.service, p.instance_type, f"${p.usd_per_hour}", p.source,
                           str(p.date)])  # fmt: skip
    return t


def key_values(pairs, caption: str = "") -> Table:
    return Table(["", "value"], [[text(k), text(v)] for k, v in pairs], caption)
