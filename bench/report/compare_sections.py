"""The sections that compare frameworks on the decision metric: leaderboard, coverage, are
the differences real, per task, and score versus time and cost. Each is a section builder:
``build(ctx) -> SectionResult``."""

from __future__ import annotations

from automl_bench.report import aggregate as ag
from automl_bench.report import plots, stats, tables
from automl_bench.report import starved as starved_jobs
from automl_bench.report.context import ReportContext
from automl_bench.report.document import Image, Section, SectionResult


def _flag(table, col: str, imputed: set):
    """The table with an ``imputed`` column: True where the row's values include imputed ones."""
    if table.empty:
        return table
    return table.assign(imputed=table[col].isin(imputed))


def leaderboard(ctx: ReportContext) -> SectionResult:
    s = Section("leaderboard", "Leaderboard")
    if ctx.at_one_budget:
        s.p(ctx.at_one_budget)
    if ctx.board.empty:
        s.p("No framework has results to rank.")
    else:
        s.table(tables.leaderboard(ctx.board, ctx.metric))
    if not ctx.starved.empty:
        s.p("Starved: " + starved_jobs.conclusion(ctx.starved))
    if ctx.grid.excluded:
        s.p("Not compared (no job ran):")
        s.items(f"{k}: {v}" for k, v in sorted(ctx.grid.excluded.items()))
    if not ctx.pairwise.empty:
        s.table(tables.pairwise(ctx.pairwise, ctx.metric))
    csvs = {"leaderboard": ctx.board, "pairwise": ctx.pairwise,
            "scores_imputed": ctx.grid.cells}  # fmt: skip
    return SectionResult(s, csvs)


def coverage(ctx: ReportContext) -> SectionResult:
    grid = ctx.grid
    cov = ag.coverage(ctx.loaded)
    if len(ctx.loaded.runs) <= 1 and not grid.dropped:
        return SectionResult(None, {"coverage": cov})
    s = Section("coverage", "Coverage")
    if grid.dropped and not grid.impute_missing:
        n = grid.cells["task"].nunique() if not grid.cells.empty else 0
        s.p(f"Compared on the {n} task(s) every framework ran. Left out, as not every framework "
            "ran them (use --impute-missing to count them with the constant predictor's result "
            "for the frameworks that did not run them):")  # fmt: skip
    elif grid.dropped:
        s.p("Tasks not run by every framework are included: the frameworks that did not run "
            "them take the constant predictor's result there (--impute-missing):")  # fmt: skip
    s.items(f"{t}: not run by {', '.join(fs)}" for t, fs in sorted(grid.dropped.items()))
    s.table(tables.coverage(cov, grid.dropped, grid.impute_missing))
    return SectionResult(s, {"coverage": cov})


def _critical_difference(s: Section, ctx: ReportContext) -> None:
    cd = ctx.cd
    if cd is None or not cd.available:
        s.p("Critical difference diagram not drawn: "
            + "; ".join(cd.caveats if cd else ["no results"]))  # fmt: skip
        return
    stat = "" if cd.statistic is None else (
        f"Friedman test over {cd.n_tasks} tasks: chi-square = {cd.statistic:.3f}, "
        f"p = {cd.pvalue:.4g}. "
    )  # fmt: skip
    s.p(stat + f"Nemenyi post-hoc critical difference at alpha 0.05: {cd.cd:.3f} (mean ranks "
        "further apart than this differ significantly). Ranks use the per-task mean of "
        f"{ctx.metric.named}.")  # fmt: skip
    png, _ = plots.cd_diagram(cd.ranks, cd.pvalues, cd.cd, ctx.metric.name)
    s.img(Image("cd_diagram", png, f"Critical difference diagram ({ctx.metric.name})"))
    s.items(cd.caveats)
    s.table(tables.matrix(cd.pvalues, f"Nemenyi p-values (pairwise), ranks on {ctx.metric.name}.",
                          4, ctx.imputed))  # fmt: skip


def significance(ctx: ReportContext) -> SectionResult:
    s = Section("significance", "Are the differences real?")
    _critical_difference(s, ctx)
    wins, rat, name = ctx.wins, ctx.ratings, ctx.metric.name
    if not wins.empty and ctx.matrix.dropna().shape[0] >= 1:
        s.img(Image("win_rates", plots.win_rate_heatmap(wins, name),
                    f"Pairwise win-rate matrix ({name})"))  # fmt: skip
        s.table(tables.matrix(wins, "Win rate of the row framework against the column framework "
                              f"over tasks on {name} (a tie counts one half).",
                              imputed=ctx.imputed))  # fmt: skip
    if rat is not None and not rat.table.empty:
        cap = (f"Bradley-Terry ratings on the Elo scale ({rat.anchor} = 1000), fitted on every "
               f"pair of frameworks on every task by {name}; 95% intervals from {rat.n_boot} "
               "bootstrap resamples of the tasks (as TabArena does).")  # fmt: skip
        s.img(Image("ratings", plots.ratings(rat.table, rat.anchor), f"Elo ratings ({name})"))
        s.p(stats.prior_note())
        s.items(rat.caveats)
        s.table(tables.ratings(rat.table, cap, ctx.imputed))
    elif rat is not None:
        s.items(rat.caveats)
    cd = ctx.cd
    csvs = {
        "win_rates": wins,
        "nemenyi_pvalues": cd.pvalues if cd is not None and cd.available else None,
        "ratings": _flag(rat.table, "framework", ctx.imputed) if rat is not None else None,
    }
    return SectionResult(s, {k: v for k, v in csvs.items() if v is not None})


def per_task(ctx: ReportContext) -> SectionResult:
    s = Section("tasks", "Per task")
    if ctx.per_task.empty:
        s.p("No task has results.")
    else:
        s.p(ag.NORMALISED_RULE)
        s.table(tables.per_task(ctx.per_task, ctx.metric))
    return SectionResult(s, {"per_task": ctx.per_task})


def pareto(ctx: ReportContext) -> SectionResult:
    s, par = Section("pareto", "Score versus time and cost"), ctx.pareto
    if par.empty or par["score"].isna().all():
        s.p("No scores to put on a Pareto front.")
        return SectionResult(s, {"pareto": par})
    score_name = ctx.score_name
    s.p(f"Each point is a framework: {score_name} (higher is better) against mean fit time "
        "per job and against total compute cost. Red points are on the Pareto front: no "
        "other framework is both at least as good and at most as expensive.")  # fmt: skip
    s.img(Image("pareto_time", plots.pareto(par, "train_s", "front_time",
                "mean fit time per job (s)", score_name), "Pareto front: score vs time"))  # fmt: skip
    s.img(Image("pareto_cost", plots.pareto(par, "cost_usd", "front_cost",
                "total compute cost (USD)", score_name), "Pareto front: score vs cost"))  # fmt: skip
    s.table(tables.pareto(par, score_name, ctx.imputed))
    return SectionResult(s, {"pareto": _flag(par, "framework", ctx.imputed)})

