"""Assemble the report: the context every section reads, then the report's sections in
order, each built by a section builder with one signature (``build(ctx) -> SectionResult``).
Rendering is elsewhere (html, markdown, terminal)."""

from __future__ import annotations

import datetime as dt

from automl_bench.report import (
    anytime,
    budget_curves,
    compare_sections,
    deploy,
    reference,
    run_sections,
    summary,
    tables,
    validation,
)
from automl_bench.report.context import ReportContext, make_context
from automl_bench.report.document import Report, SectionBuilder, SectionResult
from automl_bench.report.load import Loaded
from automl_bench.results.cost import PriceTable


def _no_race(ctx: ReportContext) -> SectionResult:
    return SectionResult(None)


def sections(race: SectionBuilder | None = None) -> list[SectionBuilder]:
    """The report in order. ``race``: the race section's builder, handed in by the caller
    (the report does not import the racing stage)."""
    return [
        summary.build,
        compare_sections.leaderboard,
        budget_curves.build,
        race or _no_race,
        compare_sections.coverage,
        compare_sections.significance,
        compare_sections.per_task,
        reference.build,
        validation.build,
        compare_sections.pareto,
        deploy.build,
        anytime.build,
        run_sections.cost,
        run_sections.budget,
        run_sections.contention,
        run_sections.starved,
        run_sections.failures,
        run_sections.environment,
        run_sections.notes,
    ]


def build(loaded: Loaded, prices: PriceTable, n_boot: int = 1000, impute_missing: bool = False,
          race_section: SectionBuilder | None = None, metric: str | None = None,
          tolerance: float | None = None, references=()) -> Report:  # fmt: skip
    """The report of ``loaded`` (every budget; the comparisons are at the largest);
    ``references``: published results (automl_bench.report.reference_file.Reference) for the
    "Published results" section, which nothing else reads."""
    ctx = make_context(loaded, prices, n_boot, impute_missing, metric, tolerance, references)
    conclusions, parts, csvs = [], [], {}
    for builder in sections(race_section):
        got = builder(ctx)
        conclusions += got.conclusions
        if got.section is not None:
            parts.append(got.section)
        csvs.update(got.csvs)
    title = "AutoML benchmark report: " + ", ".join(r.name for r in loaded.runs)
    generated = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    return Report(title, generated, conclusions, parts, csvs,
                  tables.leaderboard(ctx.board, ctx.metric))  # fmt: skip
