"""The sections about how the runs went: cost, budget adherence, CPU contention, starved
jobs, failures and imputation, environment and notes on the input. Each is a section
builder: ``build(ctx) -> SectionResult``."""

from __future__ import annotations

import json

import pandas as pd

from automl_bench.data import catalogue
from automl_bench.report import aggregate as ag
from automl_bench.report import contention_section as rc
from automl_bench.report import plots, tables
from automl_bench.report import starved as starved_jobs
from automl_bench.report import vendor_bill as vb
from automl_bench.report.context import ReportContext
from automl_bench.report.document import Image, Section, SectionResult
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


def cost(ctx: ReportContext) -> SectionResult:
    s, prices = Section("cost", "Cost"), ctx.prices
    costs = ag.cost_table(ctx.full, prices)
    ref = prices.reference
    s.p(f"Job cost = wall time x cores x ${ref.usd_per_vcpu_hour:.4f} per vCPU-hour "
        f"({ref.name}: ${ref.usd_per_hour}/h for {ref.vcpus} vCPU; {ref.source}; {ref.date}). "
        "Projection columns price the same job hours at a managed service's rate, one node per "
        "job: what-if figures, not measurements.")  # fmt: skip
    billed = vb.job_bills(ctx.full.results, prices) if not ctx.full.results.empty else None
    frameworks = {} if billed is None else vb.billed_frameworks(billed, ctx.full.results["label"])
    if frameworks:
        s.p(vb.note(frameworks, prices))
    if not costs.empty:
        s.table(tables.cost(costs, prices.projections))
    s.table(tables.prices(prices))
    if frameworks:
        s.table(tables.service_prices(prices, set(billed["service"]) - {""}))
    df = ctx.results
    every = df.assign(cost_usd=ag.job_costs(df, prices)) if not df.empty else df
    return SectionResult(s, {"cost": costs, "results": every})


def budget(ctx: ReportContext) -> SectionResult:
    s = Section("budget", "Budget adherence")
    bud = ag.budget_table(ctx.full)
    if bud.empty:
        s.p("No job ran.")
        return SectionResult(s, {"budget": bud})
    r = ag.ratios(ctx.full)
    if r["fit_ratio"].notna().any() or r["status"].isin(["timeout", "memory"]).any():
        s.img(Image("budget", plots.budget(r), "Fit time over budget per framework"))
    s.table(tables.budget(bud))
    return SectionResult(s, {"budget": bud})


def contention(ctx: ReportContext) -> SectionResult:
    s, df = Section("contention", "CPU contention"), ctx.results
    flag = rc.flag(df)
    shares = rc.per_framework(df)
    s.p(flag or ("No job of a CPU-bound backend got less than "
                 f"{rc.contention.LOW_SHARE:.0%} of its cores." if not shares.empty else
                 "No job recorded its CPU share."))  # fmt: skip
    if not shares.empty:
        s.table(rc.table(shares))
    return SectionResult(s, {"contention": shares}, ["Contention: " + flag] if flag else [])


def starved(ctx: ReportContext) -> SectionResult:
    s, jobs = Section("starved", "Starved jobs"), ctx.starved
    if jobs.empty:
        s.p("No job was starved: every backend could search for at least half its budget.")
    else:
        s.table(starved_jobs.table(jobs))
    line = starved_jobs.conclusion(jobs)
    return SectionResult(s, {"starved": jobs}, [line] if line else [])


def _repaired(df: pd.DataFrame) -> pd.DataFrame:
    if df.empty or "repaired_rows" not in df:
        return pd.DataFrame()
    n = pd.to_numeric(df["repaired_rows"], errors="coerce").fillna(0)
    keep = (n > 0) & (df["status"] == "ok")
    out = df[keep].copy()
    out["repaired_rows"] = n[keep]
    return out


def failures(ctx: ReportContext) -> SectionResult:
    s, grid = Section("failures", "Failures and imputation"), ctx.grid
    fails = ag.failures(ctx.loaded, grid)
    s.p(IMPUTATION_RULE)
    n_imp = int(grid.cells["imputed"].sum()) if not grid.cells.empty else 0
    s.p(f"{len(fails)} jobs did not finish ok; {n_imp} framework x task x fold values in the "
        "comparisons are imputed.")  # fmt: skip
    if not fails.empty:
        s.table(tables.failures(fails))
    rep = _repaired(ctx.results)
    if not rep.empty:
        s.p(f"{len(rep)} jobs finished ok after the harness repaired a few of their predicted "
            "rows (NaN or negative probabilities, probability on an unknown class, or rows not "
            "summing to 1; at most 0.1% of a job's rows, more fails the job as BadPredictions):")  # fmt: skip
        s.table(Table(["framework", "task", "fold", "repaired rows"],
                      [[str(r.label), str(r.task), str(int(r.fold)), str(int(r.repaired_rows))]
                       for r in rep.itertuples()]))  # fmt: skip
    return SectionResult(s, {"failures": fails})


def _run_table(run, rows: pd.DataFrame, prices: PriceTable) -> Table:
    env = run.environment or {}
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
    return tables.key_values(pairs, f"Run {run.name}")


def environment_tables(loaded: Loaded, prices: PriceTable) -> list[Table]:
    out = []
    df = loaded.results
    fingerprints = df["environment"].dropna().unique() if not df.empty else []
    for run in loaded.runs:
        out.append(_run_table(run, df[df["run"] == run.name], prices))
        data = catalogue.for_suite(run.suite or {})
        if data:
            out.append(Table(
                ["task", "dataset", "source", "licence", "citation"],
                [[task, d["title"], d["source"], d["licence"], d["citation"]] for task, d in data],
                f"Data of run {run.name}: datasets shipped with automl-bench",
            ))  # fmt: skip
    if len(fingerprints) > 1:
        out[-1].caption += (f" (note: results come from {len(fingerprints)} different "
                            "environments, machine or package versions: compare with care)")  # fmt: skip
    return out


def environment(ctx: ReportContext) -> SectionResult:
    s = Section("environment", "Environment")
    for block in environment_tables(ctx.full, ctx.prices):
        s.table(block)
    return SectionResult(s)


def notes(ctx: ReportContext) -> SectionResult:
    said = ctx.loaded.notes + ctx.grid.notes
    if not said:
        return SectionResult(None)
    s = Section("notes", "Notes on the input")
    s.items(said)
    return SectionResult(s)
