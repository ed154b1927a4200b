"""From result rows to the numbers a decision needs: imputed score grid, leaderboard,
per-task table, Pareto points, budget adherence, failures and cost.

Imputation rule (AMLB's): a job that did not produce a scored result (failed, timeout,
memory, skipped for one task, or missing from the run) takes the constant predictor's result
on the same task and fold. Every aggregate that includes an imputed value says so
(``imputed`` counts and flags). A framework none of whose jobs ran (every job skipped, e.g.
not installed) is left out of comparisons and listed instead. Tasks that some compared
framework never ran (several runs with different task sets) are left out of the comparison
and listed (``Grid.dropped``), unless imputing them is asked for.

Raced-out jobs (``run --race`` dropped their framework before they started) are never
imputed: a framework the race dropped is compared on the folds it ran (see
:mod:`automl_bench.race.report_section`), and raced-out jobs count neither as failures nor as jobs that ran.

This is the only aggregation: ``run`` and ``show`` print the leaderboard computed here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from automl_bench.report import intervals as iv
from automl_bench.report import vendor_bill as vb
from automl_bench.report.load import EXTRA_PROFILE, Loaded
from automl_bench.report.metric import Metric, choose
from automl_bench.results.baseline import constant_scores
from automl_bench.results.cost import PriceTable

SCORES = ("result", "acc", "balacc", "logloss")
FAILED = ("failed", "timeout", "memory")
RACED_OUT = "raced_out"
NOT_RUN = ("skipped", RACED_OUT)  # jobs that never started


def _ran_rows(df: pd.DataFrame) -> pd.DataFrame:
    return df[~df["status"].isin(NOT_RUN)]


@dataclass
class Grid:
    """One row per (framework, task, fold) compared, with imputed values filled in."""

    cells: pd.DataFrame  # label, task, fold, SCORES..., score, status, imputed
    frameworks: list[str]
    excluded: dict[str, str]  # label -> why it is not compared
    constant: pd.DataFrame  # task, fold -> SCORES + score of the constant predictor
    notes: list[str] = field(default_factory=list)
    dropped: dict[str, list[str]] = field(default_factory=dict)  # task -> frameworks lacking it
    impute_missing: bool = False
    metric: Metric | None = None  # the decision metric; ``score`` is it, higher is better


def constant_logloss(loaded: Loaded) -> pd.Series:
    """The constant predictor's test log loss per (task, fold) (from the run, else recomputed
    from the task files)."""
    return _constant_table(loaded)[0]["logloss"]


def _constant_table(loaded: Loaded) -> tuple[pd.DataFrame, list[str]]:
    """The constant predictor's scores per (task, fold): from the run, else from task files."""
    df = loaded.results
    pairs = df[["task", "fold"]].drop_duplicates()
    ok_const = df[df["label"].isin(loaded.constant_labels) & (df["status"] == "ok")]
    ok_const = ok_const.drop_duplicates(["task", "fold"]).set_index(["task", "fold"])
    rows, recomputed, unknown = [], 0, 0
    for task, fold in pairs.itertuples(index=False):
        if (task, fold) in ok_const.index:
            vals = ok_const.loc[(task, fold), list(SCORES)].to_dict()
        else:
            vals = None
            for run in loaded.runs:
                vals = constant_scores(run.path / "tasks" / str(task), int(fold))
                if vals:
                    recomputed += 1
                    break
            if vals is None:
                unknown += 1
                vals = dict.fromkeys(SCORES, np.nan)
        rows.append({"task": task, "fold": fold, **{k: vals.get(k, np.nan) for k in SCORES}})
    notes = []
    if recomputed:
        notes.append(
            f"the constant predictor's result for {recomputed} task folds was recomputed from "
            "the run's task files (class prior of the training fold), as the run has no "
            "constant job for them"
        )
    if unknown:
        notes.append(
            f"for {unknown} task folds the constant predictor's result is unknown (no constant "
            "job and no task files): failures there cannot be imputed and normalised scores "
            "cannot be computed"
        )
    table = pd.DataFrame(rows, columns=["task", "fold", *SCORES]).set_index(["task", "fold"])
    return table, notes


def ran(loaded: Loaded) -> pd.DataFrame:
    """Tasks x frameworks: True where the framework has a job on the task that ran (any
    status but skipped), i.e. the task was part of that framework's runs."""
    df = loaded.results
    if df.empty:
        return pd.DataFrame()
    return (df.assign(ran=df["status"] != "skipped")
            .pivot_table(index="task", columns="label", values="ran", aggfunc="any")
            .fillna(False).astype(bool))  # fmt: skip


def coverage(loaded: Loaded) -> pd.DataFrame:
    """Tasks x frameworks: "ok / jobs" per cell, "-" where the framework never ran the task."""
    df = loaded.results
    if df.empty:
        return pd.DataFrame()
    jobs = (df[df["status"] != RACED_OUT]
            .pivot_table(index="task", columns="label", values="fold", aggfunc="count")
            .reindex(index=sorted(df["task"].unique()), columns=sorted(df["label"].unique())))
    raced = (df[df["status"] == RACED_OUT]
             .pivot_table(index="task", columns="label", values="fold", aggfunc="count")
             .reindex_like(jobs))  # fmt: skip
    ok = (df[df["status"] == "ok"]
          .pivot_table(index="task", columns="label", values="fold", aggfunc="count")
          .reindex_like(jobs))  # fmt: skip
    r = ran(loaded).reindex_like(jobs).fillna(False)
    out = pd.DataFrame("-", index=jobs.index, columns=jobs.columns)
    for t in jobs.index:
        for f in jobs.columns:
            if r.loc[t, f]:
                n = int(jobs.loc[t, f]) if pd.notna(jobs.loc[t, f]) else 0
                out.loc[t, f] = f"{int(ok.loc[t, f]) if pd.notna(ok.loc[t, f]) else 0} / {n}"
                if pd.notna(raced.loc[t, f]):
                    out.loc[t, f] += f" (+{int(raced.loc[t, f])} raced out)"
            elif pd.notna(jobs.loc[t, f]):
                out.loc[t, f] = "skipped"
    return out


def build_grid(loaded: Loaded, impute_missing: bool = False, metric: Metric | None = None) -> Grid:
    """The score grid the comparisons use. Tasks that some compared framework never ran are
    left out (``dropped``) unless ``impute_missing``, which fills them with the constant
    predictor's result like any failure. ``score`` is the decision metric (``metric``, by
    default :func:`automl_bench.report.metric.choose`'s), turned higher-is-better."""
    df = loaded.results
    metric = metric or choose(None, df)
    empty = pd.DataFrame(columns=["label", "task", "fold", *SCORES, "score", "status", "imputed"])
    if df.empty:
        return Grid(empty, [], {}, pd.DataFrame(columns=[*SCORES, "score"]),
                    ["the runs hold no results"], metric=metric)  # fmt: skip
    excluded = {}
    for label, g in df.groupby("label"):
        if (g["status"] == "skipped").all():
            msg = next((m for m in g["error_message"] if m), "skipped")
            excluded[label] = f"not run: {msg}"
    frameworks = sorted(set(df["label"]) - set(excluded))
    constant, notes = _constant_table(loaded)
    constant["score"] = metric.score(pd.to_numeric(constant[metric.column], errors="coerce"))
    pairs = df[["task", "fold"]].drop_duplicates().sort_values(["task", "fold"])
    dropped: dict[str, list[str]] = {}
    if frameworks:
        r = ran(loaded).reindex(columns=frameworks).fillna(False).astype(bool)
        for task, row in r.iterrows():
            if not row.all():
                dropped[str(task)] = [f for f in frameworks if not row[f]]
    if dropped and not impute_missing:
        pairs = pairs[~pairs["task"].isin(list(dropped))]
    by_key = df.set_index(["label", "task", "fold"])
    rows = []
    for label in frameworks:
        for task, fold in pairs.itertuples(index=False):
            key = (label, task, fold)
            row = by_key.loc[key] if key in by_key.index else None
            status = row["status"] if row is not None else "missing"
            if status == RACED_OUT:  # never imputed: compared on the folds it ran
                continue
            if status == "ok" and pd.notna(row["result"]):
                vals, imputed = {k: row[k] for k in SCORES}, False
            else:
                vals, imputed = constant.loc[(task, fold)].to_dict(), True
            vals = {k: vals[k] for k in SCORES}
            rows.append({"label": label, "task": task, "fold": fold, **vals,
                         "status": status, "imputed": imputed})  # fmt: skip
    cells = pd.DataFrame(rows, columns=empty.columns)
    for c in SCORES:
        cells[c] = pd.to_numeric(cells[c], errors="coerce")
    cells["score"] = metric.score(cells[metric.column])
    cells["imputed"] = cells["imputed"].astype(bool)
    return Grid(cells, frameworks, excluded, constant, notes, dropped, impute_missing, metric)


def task_matrix(grid: Grid, metric: str = "score") -> pd.DataFrame:
    """Tasks x frameworks: the mean over folds (imputed values included) of the decision
    metric (higher is better), or of another column of the grid."""
    if grid.cells.empty:
        return pd.DataFrame()
    m = grid.cells.pivot_table(index="task", columns="label", values=metric, aggfunc="mean")
    return m.reindex(columns=grid.frameworks)


NORMALISED_RULE = (
    "Normalised score per task = (score - constant) / (best - constant), where score is the "
    "framework's mean over folds of the decision metric, constant the constant predictor's "
    "(the class prior) and best the best framework's on the task; a framework worse than the "
    "constant predictor counts 0 (marked in the per-task table), so every value lies in "
    "[0, 1]. Where no framework beats the constant predictor, every framework counts 0."
)


def normalised(grid: Grid, bounded: bool = True) -> pd.DataFrame:
    """Tasks x frameworks: (score - constant) / (best - constant) on the task-mean decision
    score; bounded: values below 0 (worse than the constant predictor) count 0, and tasks
    where no framework beats it count 0 for every framework (see ``NORMALISED_RULE``)."""
    m = task_matrix(grid)
    if m.empty or grid.constant.empty:
        return pd.DataFrame()
    const = grid.constant["score"].groupby(level="task").mean().reindex(m.index)
    best = m.max(axis=1)
    span = (best - const).where(lambda s: s > 0)
    raw = m.sub(const, axis=0).div(span, axis=0).round(12)  # constant: exactly 0
    if not bounded:
        return raw
    flat = span.isna() & const.notna()
    raw.loc[flat] = m.loc[flat].where(m.loc[flat].isna(), 0.0)
    return raw.clip(lower=0.0)


def below_constant(grid: Grid) -> pd.DataFrame:
    """Tasks x frameworks: True where the framework's mean score is worse than the constant
    predictor's (its normalised score counts 0)."""
    m = task_matrix(grid)
    if m.empty or grid.constant.empty:
        return pd.DataFrame()
    const = grid.constant["score"].groupby(level="task").mean().reindex(m.index)
    return m.lt(const, axis=0)


def unstable_normalisation(grid: Grid, rel: float = 0.02) -> list[str]:
    """Tasks where the best framework barely beats the constant predictor: dividing by that
    small margin makes normalised scores there large in magnitude (and dominate means)."""
    m = task_matrix(grid)
    if m.empty or grid.constant.empty:
        return []
    const = grid.constant["score"].groupby(level="task").mean().reindex(m.index)
    span = m.max(axis=1) - const
    return sorted(t for t in m.index if 0 < span[t] < rel * max(abs(const[t]), 1e-12))


def mean_ranks(matrix: pd.DataFrame) -> pd.Series:
    """Mean over tasks of each framework's rank (1 = best, ties share the average rank)."""
    if matrix.empty:
        return pd.Series(dtype=float)
    complete = matrix.dropna()
    return complete.rank(axis=1, ascending=False, method="average").mean()


def job_costs(results: pd.DataFrame, prices: PriceTable) -> pd.Series:
    """Each job's cost recomputed from the price table in use (wall x cores x $/vCPU-h)."""
    wall = results["duration"].fillna(0.0)
    cores = results["cores"].fillna(1.0)
    return wall / 3600.0 * cores * prices.usd_per_vcpu_hour


def _fold_matrix(cells: pd.DataFrame, metric: str, tasks: list) -> np.ndarray:
    """tasks x folds array of one framework's values (NaN padding), tasks in ``tasks`` order."""
    per_task = {t: g.sort_values("fold")[metric].to_numpy(dtype=float)
                for t, g in cells.groupby("task")}  # fmt: skip
    return iv.as_matrix([per_task.get(t, np.array([])) for t in tasks])


def leaderboard(loaded: Loaded, grid: Grid, prices: PriceTable,
                n_boot: int = iv.N_BOOT) -> pd.DataFrame:  # fmt: skip
    """One row per compared framework, best mean rank first (ties: higher normalised score).

    Intervals come from resampling tasks (folds nested inside), see
    :mod:`automl_bench.report.intervals`; NaN with fewer than ``intervals.MIN_TASKS`` tasks."""
    df = with_bills(loaded.results.assign(cost_usd=job_costs(loaded.results, prices)), prices)
    ranks = mean_ranks(task_matrix(grid))
    norm = normalised(grid)
    tasks = sorted(grid.cells["task"].unique()) if not grid.cells.empty else []
    rows = []
    for label in grid.frameworks:
        cells = grid.cells[grid.cells["label"] == label]
        jobs = _ran_rows(df[df["label"] == label])
        row = {"framework": label, "tasks": len(tasks)}
        for metric in ("acc", "balacc", "logloss"):
            m, lo, hi = iv.task_bootstrap(_fold_matrix(cells, metric, tasks), n_boot=n_boot)
            lo, hi = iv.clip(lo, hi, iv.metric_range(metric))
            row.update({metric: m, f"{metric}_lo": lo, f"{metric}_hi": hi})
        row["metric"] = grid.metric.key if grid.metric else "result"
        row["mean_rank"] = ranks.get(label, np.nan)
        row["normalised"] = norm[label].mean() if label in norm else np.nan
        row["jobs"] = len(jobs)
        row["ok"] = int((jobs["status"] == "ok").sum())
        row["failures"] = int(jobs["status"].isin(FAILED).sum())
        row["imputed"] = int(cells["imputed"].sum())
        rep = pd.to_numeric(jobs["repaired_rows"], errors="coerce") if "repaired_rows" in jobs else None
        row["repaired_rows"] = int(rep.fillna(0).sum()) if rep is not None else 0
        row["train_s"] = jobs["training_duration"].mean()
        row["cost_usd"] = jobs["cost_usd"].sum()
        row["vendor_cost_usd"] = jobs["vendor_usd"].sum(min_count=1)
        row["billed_by"] = vb.billed_frameworks(jobs, jobs["label"]).get(label, "")
        rows.append(row)
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    return table.sort_values(["mean_rank", "normalised", "framework"], ascending=[True, False, True],
                             na_position="last").reset_index(drop=True)  # fmt: skip


def pairwise(grid: Grid, order: list[str], metric: str = "score",
             n_boot: int = iv.N_BOOT) -> pd.DataFrame:  # fmt: skip
    """Every pair (a before b in ``order``): mean over tasks of a's minus b's score, paired by
    fold, with a 95% interval from resampling tasks (folds nested inside)."""
    cells = grid.cells
    if cells.empty or len(order) < 2:
        return pd.DataFrame(columns=["a", "b", "metric", "diff", "lo", "hi", "tasks"])
    tasks = sorted(cells["task"].unique())
    wide = cells.pivot_table(index=["task", "fold"], columns="label", values=metric)
    rows = []
    for i, a in enumerate(order):
        for b in order[i + 1 :]:
            d = (wide[a] - wide[b]).rename(metric).reset_index()
            d["label"] = "d"
            m, lo, hi = iv.task_bootstrap(_fold_matrix(d, metric, tasks), n_boot=n_boot)
            lo, hi = iv.clip(lo, hi, iv.metric_range(metric, difference=True))
            imputed = bool(cells[cells["label"].isin([a, b])]["imputed"].any())
            rows.append({"a": a, "b": b, "metric": metric, "diff": m, "lo": lo, "hi": hi,
                         "tasks": len(tasks), "imputed": imputed})  # fmt: skip
    return pd.DataFrame(rows)


def per_task(loaded: Loaded, grid: Grid) -> pd.DataFrame:
    """One row per (task, framework): mean over folds with the fold range (fewer than
    ``intervals.MIN_FOLDS`` folds) or a 95% t-interval (``interval`` says which)."""
    rows = []
    for (task, label), g in grid.cells.groupby(["task", "label"], sort=True):
        row = {
            "task": task,
            "framework": label,
            "folds": len(g),
            "imputed": int(g["imputed"].sum()),
        }
        for metric in (*SCORES, "score"):
            m, lo, hi, kind = iv.fold_summary(g[metric], metric)
            row.update({metric: m, f"{metric}_lo": lo, f"{metric}_hi": hi})
            row["interval"] = kind
        rows.append(row)
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    prof = loaded.profiles.reindex(columns=["rows", "features", "classes", *EXTRA_PROFILE])
    table = table.join(prof, on="task")
    table["rank"] = table.groupby("task")["score"].rank(ascending=False, method="average")
    norm, below = normalised(grid), below_constant(grid)
    key = list(zip(table["task"], table["framework"], strict=True))
    table["normalised"] = [norm.at[t, f] if t in norm.index and f in norm else np.nan
                           for t, f in key]  # fmt: skip
    table["below_constant"] = [bool(below.at[t, f]) if t in below.index and f in below else False
                               for t, f in key]  # fmt: skip
    return table.sort_values(["task", "rank"]).reset_index(drop=True)


def pareto(points: pd.DataFrame, x: str, y: str) -> pd.Series:
    """True where no other point has lower-or-equal ``x`` and higher-or-equal ``y`` (one strict)."""
    ok = points[[x, y]].notna().all(axis=1)
    front = pd.Series(False, index=points.index)
    p = points[ok]
    for i, r in p.iterrows():
        dominated = (
            (p[x] <= r[x]) & (p[y] >= r[y]) & ((p[x] < r[x]) | (p[y] > r[y]))
        ).any()  # fmt: skip
        front[i] = not dominated
    return front


def pareto_table(loaded: Loaded, board: pd.DataFrame, grid: Grid) -> pd.DataFrame:
    """Per framework: normalised score (else the mean decision score), fit time, cost and
    whether it is on the time and the cost front."""
    if board.empty:
        return pd.DataFrame()
    df = _ran_rows(loaded.results)
    fit = df["training_duration"].fillna(df["duration"])
    per = pd.DataFrame({"label": df["label"], "fit": fit})
    t = board[["framework", "normalised", "mean_rank", "cost_usd", "billed_by"]].copy()
    t["cost_usd"] += board["vendor_cost_usd"].fillna(0.0)  # total: what a vendor billed too
    t["train_s"] = t["framework"].map(per.groupby("label")["fit"].mean())
    t["score"] = t["normalised"]
    if t["score"].isna().all():  # no constant predictor to normalise against: mean score
        t["score"] = t["framework"].map(task_matrix(grid).mean())
    t["front_time"] = pareto(t, "train_s", "score")
    t["front_cost"] = pareto(t, "cost_usd", "score")
    return t


def budget_table(loaded: Loaded) -> pd.DataFrame:
    df = _ran_rows(loaded.results).copy()
    if df.empty:
        return pd.DataFrame()
    df["fit_ratio"] = df["training_duration"] / df["budget_s"]
    df["wall_ratio"] = df["duration"] / df["budget_s"]
    rows = []
    for label, g in df.groupby("label"):
        fr = g["fit_ratio"].dropna()
        rows.append({
            "framework": label,
            "jobs": len(g),
            "budget_s": g["budget_s"].median(),
            "fit_ratio_median": fr.median() if len(fr) else np.nan,
            "fit_ratio_p95": fr.quantile(0.95) if len(fr) else np.nan,
            "fit_ratio_max": fr.max() if len(fr) else np.nan,
            "wall_ratio_max": g["wall_ratio"].max(),
            "over_budget": int((g["training_duration"] > g["budget_s"]).sum()),
            "timeouts": int((g["status"] == "timeout").sum()),
            "memory_kills": int((g["status"] == "memory").sum()),
            "peak_rss_mb_max": g["peak_rss_mb"].max(),
        })  # fmt: skip
    return pd.DataFrame(rows)


def ratios(loaded: Loaded) -> pd.DataFrame:
    """Per job: fit time / budget and wall time / budget (for the distribution plot)."""
    df = _ran_rows(loaded.results)
    return pd.DataFrame({
        "framework": df["label"],
        "fit_ratio": df["training_duration"] / df["budget_s"],
        "wall_ratio": df["duration"] / df["budget_s"],
        "kill_ratio": (df["budget_s"] + df["grace_s"]) / df["budget_s"],
        "status": df["status"],
    })  # fmt: skip


def failures(loaded: Loaded, grid: Grid) -> pd.DataFrame:
    df = loaded.results[~loaded.results["status"].isin(("ok", RACED_OUT))]
    cols = ["run", "label", "task", "fold", "status", "error_type", "error_message"]
    out = df[cols].rename(columns={"label": "framework"}).copy()
    compared = set(grid.frameworks)
    out["imputed"] = [
        "yes (constant predictor)" if f in compared else "no (framework not compared)"
        for f in out["framework"]
    ]
    return out.reset_index(drop=True)


def with_bills(df: pd.DataFrame, prices: PriceTable) -> pd.DataFrame:
    """``df`` with what a managed service billed per job: ``vendor_usd``, ``vendor_h``
    (instance-hours) and ``service`` (see :mod:`automl_bench.report.vendor_bill`)."""
    if df.empty:
        return df.assign(vendor_usd=pd.Series(dtype=float), vendor_h=pd.Series(dtype=float),
                         service=pd.Series(dtype=object))  # fmt: skip
    bills = vb.job_bills(df, prices)
    return df.assign(vendor_usd=bills["vendor_usd"], vendor_h=bills["vendor_h"],
                     service=bills["service"])  # fmt: skip


def cost_table(loaded: Loaded, prices: PriceTable) -> pd.DataFrame:
    df = loaded.results[loaded.results["status"] != RACED_OUT]
    df = with_bills(df.assign(cost_usd=job_costs(df, prices)), prices)
    if df.empty:
        return pd.DataFrame()
    df["wall_h"] = df["duration"].fillna(0) / 3600.0
    df["vcpu_h"] = df["wall_h"] * df["cores"].fillna(1)
    g = df.groupby("label")
    t = pd.DataFrame({
        "jobs": g.size(), "wall_h": g["wall_h"].sum(), "vcpu_h": g["vcpu_h"].sum(),
        "cost_usd": g["cost_usd"].sum(), "cost_per_job_usd": g["cost_usd"].mean(),
    })  # fmt: skip
    if (df["service"] != "").any():  # frameworks run on a managed service: its bill beside
        t["vendor_h"] = g["vendor_h"].sum(min_count=1)
        t["vendor_usd"] = g["vendor_usd"].sum(min_count=1)
    for p in prices.projections:
        t[f"{p.name}_usd"] = [p.cost(w, v) for w, v in zip(t["wall_h"], t["vcpu_h"], strict=True)]
    t = t.reset_index().rename(columns={"label": "framework"})
    total = t.drop(columns=["framework"]).sum(numeric_only=True)
    total["cost_per_job_usd"] = total["cost_usd"] / max(total["jobs"], 1)
    return pd.concat([t, pd.DataFrame([{"framework": "total", **total}])], ignore_index=True)
