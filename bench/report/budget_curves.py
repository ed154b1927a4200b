"""Budgets as an axis: how each framework's score grows with its time budget.

A run (or several runs) holding results at more than one budget is never aggregated across
budgets: the leaderboard and every comparison of the report are computed at one budget, the
largest (:func:`focus`), and this module adds what only several budgets can show:

- **normalised score versus budget** per framework, averaged over tasks, with 95% intervals
  from resampling tasks (folds nested inside; :mod:`automl_bench.report.intervals`). The score is the
  report's normalised score (constant predictor = 0, best = 1) with the best taken over every
  framework *and every budget* of the task, so that the points of a curve share one scale:
  1 is the best mean result any framework reached on the task at any budget;
- **best at each budget**: the leader (best mean rank, as the leaderboard orders), the
  runner-up, and whether the leader's margin is significant (the paired difference of the
  headline result over task folds, with its 95% interval from resampling tasks, excludes 0);
- **where a framework stops improving** (:data:`PLATEAU_RULE`);
- **cost versus score** at each budget (cost from the price table in use).

With fewer than ``intervals.MIN_TASKS`` tasks no interval is given and the plateau rule falls
back on point estimates (:data:`PLATEAU_TOL`), which the report says.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from automl_bench.report import aggregate as ag
from automl_bench.report import intervals as iv
from automl_bench.report.document import Image, Section, SectionResult
from automl_bench.report.load import Loaded
from automl_bench.report.metric import choose
from automl_bench.report.tables import Table, interval, num, text, usd

PLATEAU_TOL = 0.01  # without intervals: a gain of the mean normalised score above this counts
PLATEAU_RULE = (
    "A framework's plateau is the smallest budget B such that no larger budget improves its "
    "mean normalised score over B significantly: for every larger budget, the 95% interval "
    "of the paired gain (same tasks and folds, resampling tasks) reaches down to 0 or below. "
    f"With fewer than {iv.MIN_TASKS} tasks there is no interval, and a larger budget counts "
    f"as improving when it raises the mean normalised score by more than {PLATEAU_TOL:g}. "
    "A plateau at the largest budget run means the framework was still improving there."
)


def budgets(loaded: Loaded) -> list[float]:
    """The distinct budgets (seconds) of the loaded results, smallest first."""
    df = loaded.results
    if df.empty or "budget_s" not in df:
        return []
    return sorted(float(b) for b in pd.to_numeric(df["budget_s"], errors="coerce").dropna().unique())


def fmt(budget: float) -> str:
    return f"{budget:g} s"


def at_budget(loaded: Loaded, budget: float) -> Loaded:
    """The results at one budget, as a Loaded every aggregation of the report accepts."""
    df = loaded.results
    sub = df[pd.to_numeric(df["budget_s"], errors="coerce") == float(budget)]
    return Loaded(loaded.runs, sub.reset_index(drop=True), loaded.profiles, list(loaded.notes),
                  set(loaded.constant_labels))  # fmt: skip


def focus(loaded: Loaded) -> tuple[Loaded, str | None]:
    """(the results the report's comparisons use, a sentence saying which budget they are at).

    One budget: everything, unchanged (and no sentence). Several: the largest budget only."""
    axis = budgets(loaded)
    if len(axis) < 2:
        return loaded, None
    top = axis[-1]
    other = ", ".join(fmt(b) for b in axis[:-1])
    note = (f"The runs hold results at {len(axis)} budgets ({other} and {fmt(top)}): the "
            f"leaderboard and every comparison in this report are at the largest budget, "
            f"{fmt(top)}, except Budget curves, which compares the budgets, and the sections "
            "about jobs (cost, budget adherence, CPU contention, starved jobs), which count "
            "every job.")  # fmt: skip
    return at_budget(loaded, top), note


def caption(loaded: Loaded) -> str:
    """For a table computed at the largest budget: which budget, out of which."""
    axis = budgets(loaded)
    return (f"At {fmt(axis[-1])}, the largest of {len(axis)} budgets "
            f"({', '.join(f'{b:g}' for b in axis)} s).")  # fmt: skip


@dataclass
class Curves:
    """Everything the budget section shows, also written as CSV tables."""

    budgets: list[float]
    tasks: list[str]
    points: pd.DataFrame  # framework, budget_s, normalised, lo, hi, mean_rank, cost_usd, ...
    best: pd.DataFrame  # budget_s, leader, runner_up, diff, lo, hi, significant, ...
    plateaus: pd.DataFrame  # framework, plateau_s, still_improving, gains
    metric: str
    notes: list[str] = field(default_factory=list)

    @property
    def with_intervals(self) -> bool:
        return len(self.tasks) >= iv.MIN_TASKS


def _normalised_cells(cells: pd.DataFrame, const: pd.Series, span: pd.Series) -> pd.DataFrame:
    """The grid's cells with ``norm``: (score - constant) / (best - constant) of the task,
    worse than the constant predictor counting 0."""
    out = cells.copy()
    out["norm"] = ((out["score"] - out["task"].map(const)) / out["task"].map(span)).clip(lower=0)
    return out


def curves(loaded: Loaded, prices, impute_missing: bool = False,
           n_boot: int = iv.N_BOOT, metric=None) -> Curves:  # fmt: skip
    """Per framework and budget: normalised score with intervals, rank, cost; the leader at each
    budget; each framework's plateau."""
    axis = budgets(loaded)
    notes: list[str] = []
    views = {b: at_budget(loaded, b) for b in axis}
    metric = metric or choose(None, loaded.results)
    grids = {b: ag.build_grid(v, impute_missing, metric) for b, v in views.items()}
    tasks_at = {b: set(g.cells["task"]) for b, g in grids.items() if not g.cells.empty}
    common = sorted(set.intersection(*tasks_at.values())) if tasks_at else []
    left = sorted(set.union(*tasks_at.values()) - set(common)) if tasks_at else []
    if left:
        notes.append(f"Task(s) {', '.join(left)} were not compared at every budget and are left "
                     "out of the budget curves, so that every point averages the same tasks.")  # fmt: skip
    # one scale for every budget: constant = 0, best of any framework at any budget = 1
    best = pd.Series(-np.inf, index=common, dtype=float)
    const = pd.Series(np.nan, index=common, dtype=float)
    for g in grids.values():
        m = ag.task_matrix(g).reindex(common)
        if not m.empty:
            best = np.maximum(best, m.max(axis=1).fillna(-np.inf))
        if not g.constant.empty:
            c = g.constant["score"].groupby(level="task").mean().reindex(common)
            const = const.fillna(c)
    span = (best - const).where(lambda s: s > 0)
    flat = sorted(t for t in common if pd.isna(span.get(t)))
    if flat:
        notes.append(f"On {', '.join(flat)} no framework beats the constant predictor at any "
                     "budget (or its result is unknown): no normalised score there, so the "
                     "curves average the other tasks.")  # fmt: skip
    tasks = [t for t in common if t not in flat]
    shaky = sorted(t for t in tasks if span[t] < 0.02 * max(abs(const[t]), 1e-12))
    if shaky:
        notes.append(f"On {', '.join(shaky)} the best framework beats the constant predictor by "
                     "less than 2%: normalised scores there divide by a small margin and can "
                     "swing the means; read mean ranks alongside.")  # fmt: skip

    rows, norm_cells = [], {}
    for b in axis:
        g, view = grids[b], views[b]
        cells = g.cells[g.cells["task"].isin(tasks)]
        nc = _normalised_cells(cells, const, span)
        norm_cells[b] = nc
        ranks = ag.mean_ranks(ag.task_matrix(g).reindex(tasks)) if tasks else pd.Series(dtype=float)
        df = view.results
        # machine time plus what a vendor billed (a managed service's jobs)
        cost = (ag.job_costs(df, prices) + ag.with_bills(df, prices)["vendor_usd"].fillna(0.0)
                if not df.empty else pd.Series(dtype=float))  # fmt: skip
        fit = df["training_duration"].where(df["status"] == "ok")
        for label in g.frameworks:
            mine = nc[nc["label"] == label]
            if mine.empty:
                continue
            m, lo, hi = iv.task_bootstrap(ag._fold_matrix(mine, "norm", tasks), n_boot=n_boot)
            jobs = df["label"] == label
            rows.append({
                "framework": label, "budget_s": b, "tasks": len(tasks), "normalised": m,
                "lo": lo, "hi": hi, "mean_rank": ranks.get(label, np.nan),
                "result": float(mine.groupby("task")["score"].mean().mean()),
                "imputed": int(mine["imputed"].sum()), "jobs": int(jobs.sum()),
                "train_s": float(fit[jobs].mean()) if fit[jobs].notna().any() else np.nan,
                "cost_usd": float(cost[jobs].sum()),
                "cost_per_job_usd": float(cost[jobs].mean()) if jobs.any() else np.nan,
            })  # fmt: skip
    points = pd.DataFrame(rows, columns=[
        "framework", "budget_s", "tasks", "normalised", "lo", "hi", "mean_rank", "result",
        "imputed", "jobs", "train_s", "cost_usd", "cost_per_job_usd"])  # fmt: skip
    return Curves(axis, tasks, points, _best(points, grids, tasks, n_boot),
                  _plateaus(points, norm_cells, tasks, n_boot), metric.name, notes)  # fmt: skip


def _best(points: pd.DataFrame, grids: dict, tasks: list[str], n_boot: int) -> pd.DataFrame:
    """At each budget: leader and runner-up in the leaderboard's order (mean rank, then mean
    normalised score), and the paired difference of their headline result."""
    rows = []
    for b, g in grids.items():
        p = points[points["budget_s"] == b].sort_values(
            ["mean_rank", "normalised", "framework"], ascending=[True, False, True],
            na_position="last")  # fmt: skip
        if p.empty:
            continue
        lead = p.iloc[0]
        row = {"budget_s": b, "leader": lead["framework"], "leader_normalised": lead["normalised"],
               "leader_rank": lead["mean_rank"], "runner_up": None, "runner_up_normalised": np.nan,
               "runner_up_rank": np.nan, "diff": np.nan, "lo": np.nan, "hi": np.nan,
               "tasks": len(tasks), "significant": None}  # fmt: skip
        if len(p) > 1:
            second = p.iloc[1]
            sub = ag.Grid(g.cells[g.cells["task"].isin(tasks)], g.frameworks, g.excluded,
                          g.constant)  # fmt: skip
            pw = ag.pairwise(sub, [lead["framework"], second["framework"]], n_boot=n_boot)
            d = pw.iloc[0] if not pw.empty else None
            row.update({"runner_up": second["framework"],
                        "runner_up_normalised": second["normalised"],
                        "runner_up_rank": second["mean_rank"]})  # fmt: skip
            if d is not None:
                row.update({"diff": d["diff"], "lo": d["lo"], "hi": d["hi"]})
                if pd.notna(d["lo"]):
                    row["significant"] = bool(d["lo"] > 0 or d["hi"] < 0)
        rows.append(row)
    return pd.DataFrame(rows)


def _gain(cells_from: pd.DataFrame, cells_to: pd.DataFrame, tasks, n_boot: int):
    """Mean over tasks of the paired (task, fold) gain in normalised score, with interval."""
    a = cells_from.set_index(["task", "fold"])["norm"]
    b = cells_to.set_index(["task", "fold"])["norm"]
    d = (b - a).dropna().rename("d").reset_index()
    if d.empty:
        return np.nan, np.nan, np.nan
    return iv.task_bootstrap(ag._fold_matrix(d, "d", tasks), n_boot=n_boot)


def _plateaus(points, norm_cells: dict, tasks: list[str], n_boot: int) -> pd.DataFrame:
    rows = []
    for label, p in points.groupby("framework", sort=True):
        own = sorted(p["budget_s"])
        if len(own) < 2:
            continue
        cells = {b: norm_cells[b][norm_cells[b]["label"] == label] for b in own}
        improves = {}  # (i, j) -> (gain, lo, hi, improving)
        for i, bi in enumerate(own):
            for bj in own[i + 1 :]:
                m, lo, hi = _gain(cells[bi], cells[bj], tasks, n_boot)
                up = (lo > 0) if pd.notna(lo) else (pd.notna(m) and m > PLATEAU_TOL)
                improves[(bi, bj)] = (m, lo, hi, bool(up))
        plateau = next(bi for bi in own
                       if not any(improves[(bi, bj)][3] for bj in own if bj > bi))  # fmt: skip
        last = (own[-2], own[-1])
        m, lo, hi, _ = improves[last]
        rows.append({
            "framework": label, "budgets": len(own), "plateau_s": plateau,
            "still_improving": plateau == own[-1],
            "last_gain": m, "last_gain_lo": lo, "last_gain_hi": hi,
            "last_step": f"{fmt(last[0])} to {fmt(last[1])}",
        })  # fmt: skip
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------ what the reader sees


def _verdict(r) -> str:
    if r["runner_up"] is None or pd.isna(r["diff"]):
        return "no runner-up" if r["runner_up"] is None else "-"
    if r["significant"] is None:
        return f"cannot tell (no interval with fewer than {iv.MIN_TASKS} tasks)"
    return "significant" if r["significant"] else "not significant"


def best_table(c: Curves) -> Table:
    how = ("95% interval of the difference from resampling tasks (folds nested inside)"
           if c.with_intervals else f"no interval: fewer than {iv.MIN_TASKS} tasks")  # fmt: skip
    rows = []
    for _, r in c.best.iterrows():
        rows.append([
            fmt(r["budget_s"]), text(r["leader"]), num(r["leader_rank"], 3),
            num(r["leader_normalised"], 3), text(r["runner_up"]) or "-",
            num(r["runner_up_rank"], 3), interval(r["diff"], r["lo"], r["hi"]), _verdict(r),
        ])  # fmt: skip
    return Table(["budget", "leader", "leader mean rank", "leader normalised", "runner-up",
                  "runner-up mean rank", f"leader - runner-up ({c.metric})", "margin"], rows,
                 "Best at each budget: the leader in the leaderboard's order (best mean rank over "
                 "tasks, then normalised score) and its paired difference in the headline result "
                 f"to the runner-up over the same task folds; {how}.")  # fmt: skip


def points_table(c: Curves) -> Table:
    rows = [[text(r["framework"]), fmt(r["budget_s"]), interval(r["normalised"], r["lo"], r["hi"], 3),
             num(r["mean_rank"], 3), num(r["train_s"], 3), usd(r["cost_usd"]),
             usd(r["cost_per_job_usd"]), str(int(r["jobs"])), str(int(r["imputed"]))]
            for _, r in c.points.sort_values(["framework", "budget_s"]).iterrows()]  # fmt: skip
    how = ("95% intervals from resampling tasks" if c.with_intervals
           else f"no interval: fewer than {iv.MIN_TASKS} tasks")  # fmt: skip
    return Table(["framework", "budget", "normalised score", "mean rank", "mean fit s",
                  "cost", "cost per job", "jobs", "imputed values"], rows,
                 f"Score and cost at each budget, over {len(c.tasks)} task(s) ({how}). Cost is "
                 "the compute of every job at that budget (wall time x cores x price per "
                 "vCPU-hour).")  # fmt: skip


def plateau_table(c: Curves) -> Table:
    rows = []
    for _, r in c.plateaus.iterrows():
        where = (f"not reached: still improving at {fmt(r['plateau_s'])}" if r["still_improving"]
                 else fmt(r["plateau_s"]))  # fmt: skip
        rows.append([text(r["framework"]), where, r["last_step"],
                     interval(r["last_gain"], r["last_gain_lo"], r["last_gain_hi"], 3)])  # fmt: skip
    return Table(["framework", "stops improving at", "last step", "gain in normalised score"],
                 rows, "Where more budget stops helping. " + PLATEAU_RULE)


def sentences(c: Curves) -> list[str]:
    """One line per budget (who leads, how clearly) and one per framework's plateau."""
    out = []
    for _, r in c.best.iterrows():
        line = f"At {fmt(r['budget_s'])}, {r['leader']} leads"
        if r["runner_up"] is not None:
            line += f" ahead of {r['runner_up']}; the margin: {_verdict(r)}"
        out.append(line + ".")
    for _, r in c.plateaus.iterrows():
        if r["still_improving"]:
            out.append(f"{r['framework']} is still improving at the largest budget, "
                       f"{fmt(r['plateau_s'])}.")  # fmt: skip
        else:
            out.append(f"{r['framework']} stops improving at {fmt(r['plateau_s'])}.")
    return out


def build(ctx) -> SectionResult:
    """The Budget curves section (runs at several budgets only), its CSV tables and the
    conclusions it adds."""
    if not ctx.at_one_budget:
        return SectionResult(None)
    s, csvs, said = section(ctx.full, ctx.prices, ctx.impute_missing, metric=ctx.metric)
    return SectionResult(s, csvs, said)


def section(loaded: Loaded, prices, impute_missing: bool = False, n_boot: int = iv.N_BOOT,
            metric=None):  # fmt: skip
    """(the report's Budget curves section, its CSV tables, the conclusions it adds)."""
    from automl_bench.report import budget_plots as plots

    c = curves(loaded, prices, impute_missing, n_boot, metric)
    s = Section("budget-curves", "Budget curves")
    s.p(f"Every framework ran at {len(c.budgets)} budgets ({', '.join(fmt(b) for b in c.budgets)}). "
        f"Normalised score on {c.metric}: the constant predictor = 0 and the best mean result of "
        "any framework at any budget on the task = 1 (worse than the constant predictor = 0), "
        f"so the points of every curve share one scale; averaged over {len(c.tasks)} task(s).")  # fmt: skip
    s.items(c.notes)
    if c.points.empty or c.points["normalised"].isna().all():
        s.p("No normalised score could be computed, so no budget curve is drawn.")
        csvs = {"budget_curves": c.points, "budget_best": c.best, "budget_plateaus": c.plateaus}
        return s, csvs, []
    s.img(Image("budget_curves", plots.budget_curves(c.points),
                "Normalised score versus budget"))  # fmt: skip
    s.table(best_table(c))
    s.items(sentences(c))
    if not c.plateaus.empty:
        s.table(plateau_table(c))
    s.img(Image("budget_cost", plots.budget_cost(c.points), "Normalised score versus cost at "
                "each budget"))  # fmt: skip
    s.table(points_table(c))
    csvs = {"budget_curves": c.points, "budget_best": c.best, "budget_plateaus": c.plateaus}
    return s, csvs, ["Budget curves: " + " ".join(sentences(c))]
