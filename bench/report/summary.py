"""The summary: the decision first (the best system on the decision metric at this budget,
its margin and whether it is significant, ties named; the cheapest system statistically
indistinguishable from it, with cost, latency and model size of both), then what can and
cannot be concluded from these runs."""

from __future__ import annotations

import numpy as np
import pandas as pd

from automl_bench.report import aggregate as ag
from automl_bench.report import stats
from automl_bench.report.context import ReportContext
from automl_bench.report.deploy import per_framework
from automl_bench.report.document import SectionResult
from automl_bench.report.intervals import MIN_TASKS
from automl_bench.report.tables import dollars, num, seconds


def names(xs) -> str:
    xs = list(xs)
    return xs[0] if len(xs) == 1 else ", ".join(xs[:-1]) + " and " + xs[-1]


def _budget(ctx: ReportContext) -> str:
    b = pd.to_numeric(ctx.loaded.results.get("budget_s"), errors="coerce").dropna()
    return f"at {b.median():g} s per job" if len(b) else "at this budget"


def _value(ctx: ReportContext, label: str) -> float:
    """The framework's mean over tasks of the decision metric, in the metric's own sign."""
    v = ctx.matrix[label].mean() if label in ctx.matrix else np.nan
    return v if ctx.metric.higher_is_better else -v


def _pvalue(ctx: ReportContext, a: str, b: str) -> float | None:
    cd = ctx.cd
    if cd is None or not cd.available or a not in cd.pvalues.index or b not in cd.pvalues.index:
        return None
    return float(cd.pvalues.loc[a, b])


def _margin(ctx: ReportContext, top: list[str], rank: float, rest: pd.DataFrame) -> str:
    """The difference to the next group of frameworks (ties among them named)."""
    nxt = rest["mean_rank"].iloc[0]
    group = list(rest.loc[(rest["mean_rank"] - nxt).abs() < 1e-9, "framework"])
    metric, best = ctx.metric, top[0]
    diff = abs(_value(ctx, best) - _value(ctx, group[0]))
    tie = " (tied)" if len(group) > 1 else ""
    line = (f"the next, {names(group)}{tie} (mean rank {nxt:.2f}, {metric.name} "
            f"{num(_value(ctx, group[0]), 4)}), {'is' if len(group) == 1 else 'are'} "
            f"{num(diff, 3)} {metric.name} behind")  # fmt: skip
    ps = [p for p in (_pvalue(ctx, a, b) for a in top for b in group) if p is not None]
    if not ps:
        return line + "; significance not tested (needs at least two tasks)"
    p = min(ps)
    verdict = "a significant difference" if p < stats.ALPHA else "not a significant difference"
    return line + f", {verdict} (Nemenyi p = {p:.3g})"


def decision(ctx: ReportContext) -> str | None:
    """First sentence of the summary: the best system on the metric at this budget."""
    board = ctx.board
    if board.empty or len(ctx.grid.frameworks) < 2:
        return None
    best_rank = board["mean_rank"].min()
    top = list(board.loc[(board["mean_rank"] - best_rank).abs() < 1e-9, "framework"])
    rest = board[(board["mean_rank"] - best_rank).abs() >= 1e-9]
    n = ctx.grid.cells["task"].nunique()
    values = names(num(_value(ctx, f), 4) for f in top)
    tasks = f"{best_rank:.2f} over {n} task{'s' if n != 1 else ''}"
    who = (f"{names(top)} share the best mean rank ({tasks}), {ctx.metric.name} {values}"
           if len(top) > 1 else f"best: {top[0]} (mean rank {tasks}), {ctx.metric.name} {values}")  # fmt: skip
    line = f"Decision on {ctx.metric.named} {_budget(ctx)}: {who}"
    if not rest.empty:
        line += "; " + _margin(ctx, top, best_rank, rest)
    cd = ctx.cd
    if cd is not None and cd.pvalue is not None and cd.pvalue >= stats.ALPHA:
        line += "; the Friedman test finds no significant difference among all frameworks"
    return line + "."


def _costs(ctx: ReportContext) -> pd.DataFrame:
    """Per framework: dollars (machine time plus what a vendor billed), CPU-hours and the
    vendor's part per job (ran jobs at the compared budget)."""
    df = ctx.loaded.results
    df = ag.with_bills(df[~df["status"].isin(ag.NOT_RUN)], ctx.prices)
    cpu_h = df["duration"].fillna(0) * df["cores"].fillna(1) / 3600.0
    vendor = df["vendor_usd"].fillna(0.0)
    out = pd.DataFrame({"label": df["label"], "usd": ag.job_costs(df, ctx.prices) + vendor,
                        "cpu_h": cpu_h, "vendor_usd": vendor})  # fmt: skip
    return out.groupby("label").mean()


def _equivalent(ctx: ReportContext, best: str) -> tuple[list[str], str]:
    """Frameworks indistinguishable from ``best``, and the rule that said so."""
    fws = [f for f in ctx.board["framework"] if f == best or f not in ctx.loaded.constant_labels]
    if ctx.tolerance is not None:
        norm = ctx.board.set_index("framework")["normalised"]
        keep = [f for f in fws if norm[f] >= norm[best] - ctx.tolerance]
        return keep, f"within {ctx.tolerance:g} normalised score of the best (--tolerance)"
    if ctx.cd is None or not ctx.cd.available:
        return [best], ""
    keep = [f for f in fws if f == best or (_pvalue(ctx, best, f) or 0) >= stats.ALPHA]
    return keep, f"not significantly worse on {ctx.metric.name}, Nemenyi p >= {stats.ALPHA}"


def _deployed(ctx: ReportContext, label: str, dep: pd.DataFrame) -> str:
    if dep.empty or label not in set(dep["framework"]):
        return "latency and model size not measured"
    r = dep.set_index("framework").loc[label]
    lat = f"{num(r['infer_1_ms'], 3)} ms to predict 1 row" if pd.notna(r["infer_1_ms"]) else \
        "latency not measured"  # fmt: skip
    size = f"model {num(r['model_size_mb'], 3)} MB" if pd.notna(r["model_size_mb"]) else \
        "model size not measured"  # fmt: skip
    return f"{lat}, {size}"


def cheapest(ctx: ReportContext) -> str | None:
    """The cheapest system indistinguishable from the best, with cost, latency and size."""
    board = ctx.board
    if board.empty or len(ctx.grid.frameworks) < 2:
        return None
    best = board.iloc[0]["framework"]
    keep, rule = _equivalent(ctx, best)
    if not rule:
        return ("Cheapest system as good as the best: not tested (too few tasks for the "
                "Nemenyi test; set --tolerance to compare by normalised score).")  # fmt: skip
    costs = _costs(ctx).reindex(keep)
    pick = costs["usd"].idxmin() if costs["usd"].notna().any() else best
    dep = per_framework(ctx.loaded, ctx.pareto if not ctx.pareto.empty else pd.DataFrame())
    price = ctx.prices.usd_per_vcpu_hour

    def cost(f):
        c = _costs(ctx).loc[f]
        billed = (f", {dollars(c['vendor_usd'] * 1000)} of it billed by the vendor"
                  if c["vendor_usd"] > 0 else "")  # fmt: skip
        return (f"{dollars(c['usd'] * 1000)} per 1,000 jobs ({num(c['cpu_h'] * 1000, 3)} "
                f"CPU-hours at {dollars(price)} per CPU-hour{billed}), "
                f"{seconds(ctx.board.set_index('framework').loc[f, 'train_s'])} mean fit")  # fmt: skip

    others = [f for f in keep if f != best]
    head = f"Cheapest system as good as the best ({rule}): "
    line = (head + pick if pick != best else head + f"{best} itself"
            + (f" (also as good: {names(others)})" if others else " (no other system is)"))  # fmt: skip
    line += f": {cost(pick)}; {_deployed(ctx, pick, dep)}"
    if pick != best:
        line += f". The best, {best}: {cost(best)}; {_deployed(ctx, best, dep)}"
    return line + "."


def _overview(ctx: ReportContext) -> str:
    df, grid, tasks = ctx.loaded.results, ctx.grid, ctx.loaded.tasks
    counts = df["status"].value_counts().to_dict() if not df.empty else {}
    compared = grid.cells["task"].nunique() if not grid.cells.empty else (
        0 if grid.dropped else len(tasks))  # fmt: skip
    of = f" of {len(tasks)}" if compared != len(tasks) else ""
    status = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none"
    return (f"{len(df)} jobs from {len(ctx.loaded.runs)} run(s): {len(grid.frameworks)} "
            f"framework(s) compared on {compared}{of} task(s); status {status}")  # fmt: skip


def _nothing_to_compare(ctx: ReportContext) -> str | None:
    """Why nothing can be concluded, when that is so."""
    df, grid = ctx.loaded.results, ctx.grid
    if df.empty:
        return "The runs hold no results: nothing can be concluded."
    if not grid.frameworks:
        return "No framework ran any job (all skipped): nothing can be compared."
    if grid.cells.empty and grid.dropped:
        return ("No task was run by every framework, so nothing is compared (see Coverage). "
                "Compare runs that share tasks, or build the report with --impute-missing to "
                "give each framework the constant predictor's result where it did not run.")  # fmt: skip
    ok = df[df["label"].isin(grid.frameworks) & (df["status"] == "ok")]
    if ok.empty:
        return ("Every job failed: every score in this report is the constant predictor's "
                "imputed result, so it says nothing about the frameworks' accuracy. See Failures.")  # fmt: skip
    return None


def _caveats(ctx: ReportContext) -> list[str]:
    df, grid, fws, tasks = ctx.loaded.results, ctx.grid, ctx.grid.frameworks, ctx.loaded.tasks
    out = []
    if len(fws) == 1:
        out.append(f"Only one framework ({fws[0]}): nothing to compare it with; ranks, win rates, "
                   "the critical difference diagram and ratings are not computed.")  # fmt: skip
    if len(tasks) == 1:
        out.append(f"Only one task ({tasks[0]}): mean ranks, the Friedman test, the critical "
                   "difference and rating intervals need at least two tasks, and results on one "
                   "dataset do not tell how the frameworks do on other data.")  # fmt: skip
    ok = df[df["status"] == "ok"]
    out += [f"{f}: no job finished ok; its numbers are entirely imputed."
            for f in fws if ok[ok["label"] == f].empty]  # fmt: skip
    n_imp = int(grid.cells["imputed"].sum())
    if n_imp:
        out.append(f"{n_imp} of {len(grid.cells)} framework x task x fold values had no result "
                   "and were imputed with the constant predictor's result (marked * where they "
                   "enter).")  # fmt: skip
    below = ag.below_constant(grid)
    if not below.empty and below.to_numpy().any():
        pairs = [f"{f} on {t}" for t in below.index for f in below.columns if below.at[t, f]]
        out.append(f"Worse than the constant predictor on {ctx.metric.name} (normalised score "
                   f"counted 0, marked in Per task): {', '.join(pairs)}.")  # fmt: skip
    if grid.dropped:
        verb = "imputed for the frameworks that did not run them" if grid.impute_missing else \
            "left out of the comparison"  # fmt: skip
        out.append(f"{len(grid.dropped)} task(s) were not run by every framework and are {verb}: "
                   + ", ".join(sorted(grid.dropped)) + " (see Coverage).")  # fmt: skip
    n_cmp = grid.cells["task"].nunique() if not grid.cells.empty else 0
    if len(fws) >= 2 and 0 < n_cmp < MIN_TASKS:
        out.append(f"Only {n_cmp} task(s) compared: too few to say how the frameworks would do "
                   f"on a new task, so no confidence interval is given (at least {MIN_TASKS} "
                   "tasks are needed); read the ranking as a description of these tasks only.")  # fmt: skip
    return out


def build(ctx: ReportContext) -> SectionResult:
    """The summary's sentences (no section of its own: they open the report)."""
    stop = _nothing_to_compare(ctx)
    if stop:
        return SectionResult(None, conclusions=[_overview(ctx), stop])
    lines = [decision(ctx), cheapest(ctx), _overview(ctx)]
    if ctx.at_one_budget:
        lines.append(ctx.at_one_budget)
    return SectionResult(None, conclusions=[x for x in lines if x] + _caveats(ctx))
