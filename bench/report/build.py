"""Assemble the report from run directories: numbers (aggregate, stats), figures (plots) and
the sentences that say what can and cannot be concluded. Rendering is elsewhere."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

import pandas as pd

from bench import datasets_catalogue
from bench.cost import PriceTable
from bench.report import aggregate as ag
from bench.report import deploy, plots, stats, tables
from bench.report.load import Loaded
from bench.report.tables import Table

IMPUTATION_RULE = (
    "Imputation rule (as in the AMLB paper): a job without a scored result (failed, timeout, "
    "memory kill, or missing) takes the constant predictor's result on the same task and fold, "
    "so a framework that fails is ranked as if it had predicted the class prior. When the run "
    "has no constant job for a fold, that result is recomputed from the run's task files. "
    "Leaderboard, ranks, normalised scores, win rates, the critical difference diagram and the "
    "ratings all include imputed values; cells that do are marked *. Frameworks none of whose "
    "jobs ran (not installed) are not imputed: they are listed and left out."
)


@dataclass
class Image:
    name: str  # file stem, e.g. "cd_diagram"
    png: bytes
    alt: str


@dataclass
class Section:
    id: str
    title: str
    blocks: list = field(
        default_factory=list
    )  # ("p", str) | ("list", [str]) | ("table", Table) | ("img", Image)

    def p(self, s: str):
        self.blocks.append(("p", s))

    def items(self, xs):
        if xs:
            self.blocks.append(("list", list(xs)))

    def table(self, t: Table):
        self.blocks.append(("table", t))

    def img(self, i: Image):
        self.blocks.append(("img", i))


@dataclass
class Report:
    title: str
    generated: str
    conclusions: list[str]
    sections: list[Section]
    csvs: dict[str, pd.DataFrame]
    leaderboard: Table

    @property
    def images(self) -> list[Image]:
        return [b[1] for s in self.sections for b in s.blocks if b[0] == "img"]


def _metric_name(loaded: Loaded) -> str:
    names = loaded.results["metric"].dropna().unique()
    return ", ".join(map(str, names)) if len(names) else "result"


def build(loaded: Loaded, prices: PriceTable, n_boot: int = 200) -> Report:
    df = loaded.results
    grid = ag.build_grid(loaded)
    board = ag.leaderboard(loaded, grid, prices)
    matrix = ag.task_matrix(grid)
    cd = stats.critical_difference(matrix) if len(grid.frameworks) else None
    wins = stats.win_rates(matrix) if len(grid.frameworks) >= 2 else pd.DataFrame()
    anchor = next((f for f in grid.frameworks if f in loaded.constant_labels), None)
    rat = stats.bradley_terry(matrix, anchor, n_boot=n_boot) if len(grid.frameworks) >= 2 else None
    pt = ag.per_task(loaded, grid)
    par = ag.pareto_table(loaded, board, prices)
    bud = ag.budget_table(loaded)
    fails = ag.failures(loaded, grid)
    costs = ag.cost_table(loaded, prices)
    metric = _metric_name(loaded)

    conclusions = _conclusions(loaded, grid, board, cd, rat)
    sections = []

    s = Section("leaderboard", "Leaderboard")
    if board.empty:
        s.p("No framework has results to rank.")
    else:
        s.table(tables.leaderboard(board))
    if grid.excluded:
        s.p("Not compared (no job ran):")
        s.items(f"{k}: {v}" for k, v in sorted(grid.excluded.items()))
    sections.append(s)

    s = Section("significance", "Are the differences real?")
    if cd is not None and cd.available:
        stat = "" if cd.statistic is None else (
            f"Friedman test over {cd.n_tasks} tasks: chi-square = {cd.statistic:.3f}, "
            f"p = {cd.pvalue:.4g}. "
        )  # fmt: skip
        s.p(stat + f"Nemenyi post-hoc critical difference at alpha 0.05: {cd.cd:.3f} "
            "(mean ranks further apart than this differ significantly). Ranks use the per-task "
            f"mean of `result` ({metric}, higher is better).")  # fmt: skip
        png, _ = plots.cd_diagram(cd.ranks, cd.pvalues, cd.cd)
        s.img(Image("cd_diagram", png, "Critical difference diagram"))
        s.items(cd.caveats)
        s.table(tables.matrix(cd.pvalues, "Nemenyi p-values (pairwise)", 4))
    else:
        s.p(
            "Critical difference diagram not drawn: "
            + "; ".join(cd.caveats if cd else ["no results"])
        )
    if not wins.empty and matrix.dropna().shape[0] >= 1:
        s.img(Image("win_rates", plots.win_rate_heatmap(wins), "Pairwise win-rate matrix"))
        s.table(tables.matrix(wins, "Win rate of the row framework against the column framework "
                              "over tasks (a tie counts one half)."))  # fmt: skip
    if rat is not None and not rat.table.empty:
        cap = (f"Bradley-Terry ratings on the Elo scale ({rat.anchor} = 1000), fitted on every "
               f"pair of frameworks on every task; 95% intervals from {rat.n_boot} bootstrap "
               "resamples of the tasks (as TabArena does).")  # fmt: skip
        s.img(Image("ratings", plots.ratings(rat.table, rat.anchor), "Elo ratings"))
        s.items(rat.caveats)
        s.table(tables.ratings(rat.table, cap))
    elif rat is not None:
        s.items(rat.caveats)
    sections.append(s)

    s = Section("tasks", "Per task")
    if pt.empty:
        s.p("No task has results.")
    else:
        s.table(tables.per_task(pt, metric))
    sections.append(s)

    s = Section("pareto", "Score versus time and cost")
    if par.empty or par["score"].isna().all():
        s.p("No scores to put on a Pareto front.")
    else:
        score_name = "normalised score" if par["normalised"].notna().any() else f"mean {metric}"
        s.p(f"Each point is a framework: {score_name} (higher is better) against mean fit time "
            "per job and against total compute cost. Red points are on the Pareto front: no "
            "other framework is both at least as good and at most as expensive.")  # fmt: skip
        s.img(Image("pareto_time", plots.pareto(par, "train_s", "front_time",
                    "mean fit time per job (s)", score_name), "Pareto front: score vs time"))  # fmt: skip
        s.img(Image("pareto_cost", plots.pareto(par, "cost_usd", "front_cost",
                    "total compute cost (USD)", score_name), "Pareto front: score vs cost"))  # fmt: skip
        s.table(tables.pareto(par, score_name))
    sections.append(s)

    named = not par.empty and par["normalised"].notna().any()
    s, deploy_table = deploy.section(loaded, par if not par.empty else pd.DataFrame(),
                                     "normalised score" if named else f"mean {metric}")  # fmt: skip
    sections.append(s)

    s = Section("cost", "Cost")
    ref = prices.reference
    s.p(f"Job cost = wall time x cores x ${ref.usd_per_vcpu_hour:.4f} per vCPU-hour "
        f"({ref.name}: ${ref.usd_per_hour}/h for {ref.vcpus} vCPU; {ref.source}; {ref.date}). "
        "Projection columns price the same job hours at a managed service's rate, one node per "
        "job: what-if figures, not measurements.")  # fmt: skip
    if not costs.empty:
        s.table(tables.cost(costs, prices.projections))
    s.table(tables.prices(prices))
    sections.append(s)

    s = Section("budget", "Budget adherence")
    if bud.empty:
        s.p("No job ran.")
    else:
        r = ag.ratios(loaded)
        if r["fit_ratio"].notna().any() or r["status"].isin(["timeout", "memory"]).any():
            s.img(Image("budget", plots.budget(r), "Fit time over budget per framework"))
        s.table(tables.budget(bud))
    sections.append(s)

    s = Section("failures", "Failures and imputation")
    s.p(IMPUTATION_RULE)
    n_imp = int(grid.cells["imputed"].sum()) if not grid.cells.empty else 0
    s.p(f"{len(fails)} jobs did not finish ok; {n_imp} framework x task x fold values in the "
        "comparisons are imputed.")  # fmt: skip
    if not fails.empty:
        s.table(tables.failures(fails))
    sections.append(s)

    s = Section("environment", "Environment")
    for block in _environment(loaded, prices):
        s.table(block)
    sections.append(s)

    if loaded.notes or grid.notes:
        s = Section("notes", "Notes on the input")
        s.items(loaded.notes + grid.notes)
        sections.append(s)

    csvs = {
        "leaderboard": board,
        "per_task": pt,
        "scores_imputed": grid.cells,
        "win_rates": wins,
        "nemenyi_pvalues": cd.pvalues if cd is not None and cd.available else pd.DataFrame(),
        "ratings": rat.table if rat is not None else pd.DataFrame(),
        "pareto": par,
        "deployability": deploy_table,
        "budget": bud,
        "failures": fails,
        "cost": costs,
        "results": df.assign(cost_usd=ag.job_costs(df, prices)) if not df.empty else df,
    }
    title = "AutoML benchmark report: " + ", ".join(r.name for r in loaded.runs)
    generated = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    return Report(title, generated, conclusions, sections, csvs, tables.leaderboard(board))


def _conclusions(loaded, grid, board, cd, rat) -> list[str]:
    df = loaded.results
    out = []
    counts = df["status"].value_counts().to_dict() if not df.empty else {}
    tasks, fws = loaded.tasks, grid.frameworks
    out.append(
        f"{len(df)} jobs from {len(loaded.runs)} run(s): {len(fws)} framework(s) compared on "
        f"{len(tasks)} task(s); status " + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none")
    )  # fmt: skip
    if df.empty:
        out.append("The runs hold no results: nothing can be concluded.")
        return out
    if not fws:
        out.append("No framework ran any job (all skipped): nothing can be compared.")
        return out
    ok = df[df["label"].isin(fws) & (df["status"] == "ok")]
    if ok.empty:
        out.append(
            "Every job failed: every score in this report is the constant predictor's imputed "
            "result, so it says nothing about the frameworks' accuracy. See Failures."
        )
        return out
    if len(fws) == 1:
        out.append(f"Only one framework ({fws[0]}): nothing to compare it with; ranks, win rates, "
                   "the critical difference diagram and ratings are not computed.")  # fmt: skip
    if len(tasks) == 1:
        out.append(
            f"Only one task ({tasks[0]}): mean ranks, the Friedman test, the critical difference "
            "and rating intervals need at least two tasks, and results on one dataset do not "
            "tell how the frameworks do on other data."
        )
    for label in fws:
        real = ok[ok["label"] == label]
        if real.empty:
            out.append(f"{label}: no job finished ok; its numbers are entirely imputed.")
    n_imp = int(grid.cells["imputed"].sum())
    if n_imp:
        out.append(
            f"{n_imp} of {len(grid.cells)} framework x task x fold values had no result and were "
            "imputed with the constant predictor's result (marked * where they enter)."
        )
    shaky = ag.unstable_normalisation(grid)
    if shaky:
        out.append(
            f"On {', '.join(shaky)} no framework beats the constant predictor by more than 2%: "
            "normalised scores there divide by a tiny margin and can be large negative numbers "
            "that dominate the mean; compare mean ranks instead."
        )
    if len(fws) >= 2 and len(tasks) >= 2 and not board.empty and cd is not None and cd.available:
        best, second = board.iloc[0], board.iloc[1] if len(board) > 1 else None
        line = (
            f"Best mean rank: {best['framework']} ({best['mean_rank']:.2f} over {cd.n_tasks} tasks)"
        )
        if second is not None and abs(second["mean_rank"] - best["mean_rank"]) < 1e-9:
            line = (f"{best['framework']} and {second['framework']} share the best mean rank "
                    f"({best['mean_rank']:.2f} over {cd.n_tasks} tasks)")  # fmt: skip
        elif second is not None:
            p = cd.pvalues.loc[best["framework"], second["framework"]]
            verdict = "significant" if p < stats.ALPHA else "not significant"
            line += (f"; its difference to the runner-up {second['framework']} "
                     f"({second['mean_rank']:.2f}) is {verdict} (Nemenyi p = {p:.3g})")  # fmt: skip
        if cd.pvalue is not None and cd.pvalue >= stats.ALPHA:
            line += "; the Friedman test finds no significant difference among all frameworks"
        out.append(line + ".")
    return out


def _environment(loaded: Loaded, prices: PriceTable) -> list[Table]:
    out = []
    df = loaded.results
    fingerprints = df["environment"].dropna().unique() if not df.empty else []
    for run in loaded.runs:
        env = run.environment or {}
        rows = df[df["run"] == run.name]
        suite = run.suite or {}
        constraint = suite.get("constraint")
        pairs = [
            ("run directory", str(run.path)),
            ("suite", suite.get("name", "unknown")),
            ("suite constraint", json.dumps(constraint) if constraint else "unknown"),
            ("constraints in results", ", ".join(sorted(rows["constraint"].dropna().unique()))),
            ("jobs (results / planned)", f"{len(rows)} / {run.planned if run.planned is not None else '?'}"),
            ("results from (UTC)", f"{rows['utc'].min()} to {rows['utc'].max()}" if len(rows) else "-"),
            ("harness version", env.get("app_version", "unknown")),
            ("python", env.get("python", "unknown")),
            ("platform", env.get("platform", "unknown")),
            ("CPU model", env.get("cpu_model", "unknown")),
            ("CPU count", env.get("cpu_count", "unknown")),
            ("memory MB", env.get("memory_mb", "unknown")),
            ("packages", ", ".join(f"{k} {v}" for k, v in sorted((env.get("packages") or {}).items())) or "unknown"),
            ("price table", f"{prices.path} ({prices.reference.name}, {prices.reference.date})"),
        ]  # fmt: skip
        out.append(tables.key_values(pairs, f"Run {run.name}"))
        data = datasets_catalogue.for_suite(suite)
        if data:
            out.append(tables.Table(
                ["task", "dataset", "source", "licence", "citation"],
                [[task, d["title"], d["source"], d["licence"], d["citation"]] for task, d in data],
                f"Data of run {run.name}: datasets shipped with automl-bench",
            ))  # fmt: skip
    if len(fingerprints) > 1:
        out[-1].caption += (f" — note: results come from {len(fingerprints)} different "
                            "environments (machine or package versions): compare with care")  # fmt: skip
    return out
