"""Assemble the report from run directories: numbers (aggregate, stats), figures (plots) and
the sentences that say what can and cannot be concluded. Rendering is elsewhere."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

import pandas as pd

from automl_bench.data import catalogue
from automl_bench.report import aggregate as ag
from automl_bench.report import budget_curves, deploy, plots, stats, tables
from automl_bench.report import contention_section as rc
from automl_bench.report import starved as starved_jobs
from automl_bench.report.anytime import section as anytime_section
from automl_bench.report.load import Loaded
from automl_bench.report.tables import Table
from automl_bench.results.cost import PriceTable

IMPUTATION_RULE = (
    "Imputation rule (as in the AMLB paper): a job without a scored result (failed, timeout, "
    "memory kill, or missing from a task the framework ran) takes the constant predictor's "
    "result on the same task and fold, so a framework that fails is ranked as if it had "
    "predicted the class prior. Tasks a framework never ran are left out of the comparison "
    "(see Coverage) unless the report was built with --impute-missing. When the run "
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


def build(loaded: Loaded, prices: PriceTable, n_boot: int = 1000,
          impute_missing: bool = False, race_section=None) -> Report:  # fmt: skip
    """``race_section(loaded, Section) -> (section or None, drops, notes)``: the racing
    stage's section, handed in by the caller (the report does not import the race)."""
    full = loaded  # every budget; the comparisons are at one budget (the largest)
    loaded, at_one_budget = budget_curves.focus(full)
    df = full.results
    grid = ag.build_grid(loaded, impute_missing)
    board = ag.leaderboard(loaded, grid, prices)
    matrix = ag.task_matrix(grid)
    order = list(board["framework"]) if not board.empty else []
    pw = ag.pairwise(grid, order)
    imputed = set(grid.cells.loc[grid.cells["imputed"], "label"]) if not grid.cells.empty else set()
    cov = ag.coverage(loaded)
    cd = stats.critical_difference(matrix) if len(grid.frameworks) else None
    wins = stats.win_rates(matrix) if len(grid.frameworks) >= 2 else pd.DataFrame()
    anchor = next((f for f in grid.frameworks if f in loaded.constant_labels), None)
    rat = stats.bradley_terry(matrix, anchor, n_boot=n_boot) if len(grid.frameworks) >= 2 else None
    pt = ag.per_task(loaded, grid)
    par = ag.pareto_table(loaded, board, prices)
    bud = ag.budget_table(full)
    fails = ag.failures(loaded, grid)
    costs = ag.cost_table(full, prices)
    metric = _metric_name(loaded)

    conclusions = _conclusions(loaded, grid, board, cd, rat)
    curves = budget_curves.section(full, prices, impute_missing) if at_one_budget else None
    if curves:
        conclusions[1:1] = [at_one_budget, *curves[2]]
    starved = starved_jobs.jobs(df)
    if starved_jobs.conclusion(starved):
        conclusions.append(starved_jobs.conclusion(starved))
    sections = []

    s = Section("leaderboard", "Leaderboard")
    if at_one_budget:
        s.p(at_one_budget)
    if board.empty:
        s.p("No framework has results to rank.")
    else:
        s.table(tables.leaderboard(board))
    if not starved.empty:
        s.p("Starved: " + starved_jobs.conclusion(starved))
    if grid.excluded:
        s.p("Not compared (no job ran):")
        s.items(f"{k}: {v}" for k, v in sorted(grid.excluded.items()))
    if not pw.empty:
        s.table(tables.pairwise(pw, metric))
    sections.append(s)
    if curves:
        sections.append(curves[0])

    raced, race_drops, race_notes = (race_section(loaded, Section) if race_section  # run --race
                                     else (None, None, []))
    if raced is not None:
        sections.append(raced)
        conclusions.extend(race_notes)

    if len(loaded.runs) > 1 or grid.dropped:
        s = Section("coverage", "Coverage")
        if grid.dropped and not grid.impute_missing:
            s.p(f"Compared on the {grid.cells['task'].nunique() if not grid.cells.empty else 0} "
                "task(s) every framework ran. Left out, as not every framework ran them "
                "(use --impute-missing to count them with the constant predictor's result "
                "for the frameworks that did not run them):")  # fmt: skip
        elif grid.dropped:
            s.p("Tasks not run by every framework are included: the frameworks that did not run "
                "them take the constant predictor's result there (--impute-missing):")  # fmt: skip
        s.items(f"{t}: not run by {', '.join(fs)}" for t, fs in sorted(grid.dropped.items()))
        s.table(tables.coverage(cov, grid.dropped, grid.impute_missing))
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
        s.table(tables.matrix(cd.pvalues, "Nemenyi p-values (pairwise)", 4, imputed))
    else:
        s.p(
            "Critical difference diagram not drawn: "
            + "; ".join(cd.caveats if cd else ["no results"])
        )
    if not wins.empty and matrix.dropna().shape[0] >= 1:
        s.img(Image("win_rates", plots.win_rate_heatmap(wins), "Pairwise win-rate matrix"))
        s.table(tables.matrix(wins, "Win rate of the row framework against the column framework "
                              "over tasks (a tie counts one half).", imputed=imputed))  # fmt: skip
    if rat is not None and not rat.table.empty:
        cap = (f"Bradley-Terry ratings on the Elo scale ({rat.anchor} = 1000), fitted on every "
               f"pair of frameworks on every task; 95% intervals from {rat.n_boot} bootstrap "
               "resamples of the tasks (as TabArena does).")  # fmt: skip
        s.img(Image("ratings", plots.ratings(rat.table, rat.anchor), "Elo ratings"))
        s.p(stats.prior_note())
        s.items(rat.caveats)
        s.table(tables.ratings(rat.table, cap, imputed))
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
        s.table(tables.pareto(par, score_name, imputed))
    sections.append(s)

    named = not par.empty and par["normalised"].notna().any()
    s, deploy_table = deploy.section(loaded, par if not par.empty else pd.DataFrame(),
                                     "normalised score" if named else f"mean {metric}")  # fmt: skip
    sections.append(s)

    s, anytime_curves = anytime_section(loaded)
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
        r = ag.ratios(full)
        if r["fit_ratio"].notna().any() or r["status"].isin(["timeout", "memory"]).any():
            s.img(Image("budget", plots.budget(r), "Fit time over budget per framework"))
        s.table(tables.budget(bud))
    sections.append(s)

    s = Section("contention", "CPU contention")
    flag = rc.flag(df)
    shares = rc.per_framework(df)
    s.p(flag or ("No job of a CPU-bound backend got less than "
                 f"{rc.contention.LOW_SHARE:.0%} of its cores." if not shares.empty else
                 "No job recorded its CPU share."))  # fmt: skip
    if not shares.empty:
        s.table(rc.table(shares))
    sections.append(s)
    if flag:
        conclusions.append("Contention: " + flag)

    s = Section("starved", "Starved jobs")
    if starved.empty:
        s.p("No job was starved: every backend could search for at least half its budget.")
    else:
        s.table(starved_jobs.table(starved))
    sections.append(s)

    s = Section("failures", "Failures and imputation")
    s.p(IMPUTATION_RULE)
    n_imp = int(grid.cells["imputed"].sum()) if not grid.cells.empty else 0
    s.p(f"{len(fails)} jobs did not finish ok; {n_imp} framework x task x fold values in the "
        "comparisons are imputed.")  # fmt: skip
    if not fails.empty:
        s.table(tables.failures(fails))
    rep = _repaired(df)
    if not rep.empty:
        s.p(f"{len(rep)} jobs finished ok after the harness repaired a few of their predicted "
            "rows (NaN or negative probabilities, probability on an unknown class, or rows not "
            "summing to 1; at most 0.1% of a job's rows, more fails the job as BadPredictions):")  # fmt: skip
        s.table(tables.Table(["framework", "task", "fold", "repaired rows"],
                             [[str(r.label), str(r.task), str(int(r.fold)), str(int(r.repaired_rows))]
                              for r in rep.itertuples()]))  # fmt: skip
    sections.append(s)

    s = Section("environment", "Environment")
    for block in _environment(full, prices):
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
        "pairwise": pw,
        "coverage": cov,
        "win_rates": wins,
        "nemenyi_pvalues": cd.pvalues if cd is not None and cd.available else pd.DataFrame(),
        "ratings": _flag(rat.table, "framework", imputed) if rat is not None else pd.DataFrame(),
        "pareto": _flag(par, "framework", imputed),
        "deployability": deploy_table,
        "budget": bud,
        "starved": starved,
        "failures": fails,
        "cost": costs,
        "contention": shares,
        **({"race": race_drops} if raced is not None else {}),
        "anytime": anytime_curves,
        "results": df.assign(cost_usd=ag.job_costs(df, prices)) if not df.empty else df,
        **(curves[1] if curves else {}),
    }
    title = "AutoML benchmark report: " + ", ".join(r.name for r in loaded.runs)
    generated = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    return Report(title, generated, conclusions, sections, csvs, tables.leaderboard(board))


def _flag(table: pd.DataFrame, col: str, imputed: set) -> pd.DataFrame:
    """The table with an ``imputed`` column: True where the row's values include imputed ones."""
    if table.empty:
        return table
    return table.assign(imputed=table[col].isin(imputed))


def _repaired(df: pd.DataFrame) -> pd.DataFrame:
    if df.empty or "repaired_rows" not in df:
        return pd.DataFrame()
    n = pd.to_numeric(df["repaired_rows"], errors="coerce").fillna(0)
    keep = (n > 0) & (df["status"] == "ok")
    out = df[keep].copy()
    out["repaired_rows"] = n[keep]
    return out


def _names(xs) -> str:
    xs = list(xs)
    return xs[0] if len(xs) == 1 else ", ".join(xs[:-1]) + " and " + xs[-1]


def _conclusions(loaded, grid, board, cd, rat) -> list[str]:
    df = loaded.results
    out = []
    counts = df["status"].value_counts().to_dict() if not df.empty else {}
    tasks, fws = loaded.tasks, grid.frameworks
    compared = grid.cells["task"].nunique() if not grid.cells.empty else (
        0 if grid.dropped else len(tasks))  # fmt: skip
    of = f" of {len(tasks)}" if compared != len(tasks) else ""
    out.append(
        f"{len(df)} jobs from {len(loaded.runs)} run(s): {len(fws)} framework(s) compared on "
        f"{compared}{of} task(s); status " + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none")
    )  # fmt: skip
    if df.empty:
        out.append("The runs hold no results: nothing can be concluded.")
        return out
    if not fws:
        out.append("No framework ran any job (all skipped): nothing can be compared.")
        return out
    if grid.cells.empty and grid.dropped:
        out.append("No task was run by every framework, so nothing is compared (see Coverage). "
                   "Compare runs that share tasks, or build the report with --impute-missing to "
                   "give each framework the constant predictor's result where it did not run.")  # fmt: skip
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
    if grid.dropped:
        verb = "imputed for the frameworks that did not run them" if grid.impute_missing else \
            "left out of the comparison"
        out.append(f"{len(grid.dropped)} task(s) were not run by every framework and are {verb}: "
                   + ", ".join(sorted(grid.dropped)) + " (see Coverage).")  # fmt: skip
    n_cmp = grid.cells["task"].nunique() if not grid.cells.empty else 0
    if len(fws) >= 2 and n_cmp >= 2 and not board.empty and cd is not None and cd.available:
        best_rank = board["mean_rank"].min()
        top = board[(board["mean_rank"] - best_rank).abs() < 1e-9]
        rest = board[(board["mean_rank"] - best_rank).abs() >= 1e-9]
        if len(top) > 1:
            line = (f"{_names(top['framework'])} share the best mean rank "
                    f"({best_rank:.2f} over {cd.n_tasks} tasks)")  # fmt: skip
        else:
            line = f"Best mean rank: {top.iloc[0]['framework']} ({best_rank:.2f} over {cd.n_tasks} tasks)"
        if not rest.empty:
            second = rest.iloc[0]
            p = min(cd.pvalues.loc[f, second["framework"]] for f in top["framework"])
            verdict = "significant" if p < stats.ALPHA else "not significant"
            line += (f"; the difference to the next, {second['framework']} "
                     f"({second['mean_rank']:.2f}), is {verdict} (Nemenyi p = {p:.3g})")  # fmt: skip
        if cd.pvalue is not None and cd.pvalue >= stats.ALPHA:
            line += "; the Friedman test finds no significant difference among all frameworks"
        out.append(line + ".")
    from automl_bench.report.intervals import MIN_TASKS

    if len(fws) >= 2 and 0 < n_cmp < MIN_TASKS:
        out.append(f"Only {n_cmp} task(s) compared: too few to say how the frameworks would do "
                   f"on a new task, so no confidence interval is given (at least {MIN_TASKS} "
                   "tasks are needed); read the ranking as a description of these tasks only.")  # fmt: skip
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
        data = catalogue.for_suite(suite)
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
