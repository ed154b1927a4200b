"""The report stage: the comparison report from one or several run directories.

It owns everything from stored result rows to the documents a reader opens: loading runs
(load), the one aggregation (aggregate, with the decision metric of metric, intervals and
stats), the document types (document), the context every section reads (context), the
section builders (summary, compare_sections, budget_curves, reference, deploy, anytime,
run_sections, each ``build(ctx) -> SectionResult``; published results for the reference
section are read by reference_file), the report as their ordered list (build), and the
renderers (html, markdown, terminal). It may import results, execution, planning and data;
never race, run or cli: a section from a higher stage (the race) is handed in as a builder.

``write_report(run_dirs, out_dir)`` writes ``index.html`` (self-contained), ``report.md``
(with ``img/*.png`` beside it) and the underlying tables as ``tables/*.csv``; it returns the
built :class:`~automl_bench.report.document.Report` (whose ``leaderboard`` table the CLI
prints).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from automl_bench.results.cost import load_prices


@dataclass
class Written:
    report: object  # automl_bench.report.document.Report
    out_dir: Path
    html: Path
    markdown: Path
    tables: list[Path]


def default_out_dir(run_dirs) -> Path:
    """One run: ``<run>/report``; several: ``reports/<run names joined>``."""
    if len(run_dirs) == 1:
        return Path(run_dirs[0]) / "report"
    from automl_bench.paths import reports_dir

    names = "+".join(Path(r).resolve().name for r in run_dirs)
    return reports_dir() / names[:120]


def write_report(run_dirs, out_dir: Path | None = None, prices: str | Path | None = None,
                 n_boot: int = 1000, impute_missing: bool = False, race_section=None,
                 metric: str | None = None, tolerance: float | None = None,
                 references=()) -> Written:  # fmt: skip
    """``race_section``: the race section's builder (``build(ctx) -> SectionResult``), handed
    in by the caller; ``metric``: the decision metric (``logloss``, ``accuracy``,
    ``balanced_accuracy``; None: log loss for multi-class); ``tolerance``: a normalised-score
    gap within which a cheaper system counts as good as the best; ``references``: published
    results files, each ``FILE[:SOURCE[,CONSTRAINT]]`` (automl_bench.report.reference_file),
    shown beside the run and never ranked with it."""
    from automl_bench.report import destination, html, markdown
    from automl_bench.report.build import build
    from automl_bench.report.load import load_runs
    from automl_bench.report.reference_file import read_references

    price_table = load_prices(prices)  # bad price file: BadInput before anything is written
    published = read_references(references)  # likewise a bad results file
    out = Path(out_dir) if out_dir else default_out_dir(run_dirs)
    destination.check(out)  # a directory of the user's files: BadInput, nothing written
    loaded = load_runs([Path(r) for r in run_dirs])
    report = build(loaded, price_table, n_boot=n_boot, impute_missing=impute_missing,
                   race_section=race_section, metric=metric, tolerance=tolerance,
                   references=published)  # fmt: skip
    destination.claim(out)
    _write = destination.write_file
    (out / "img").mkdir(parents=True, exist_ok=True)
    (out / "tables").mkdir(parents=True, exist_ok=True)
    for image in report.images:
        _write(out / "img" / f"{image.name}.png", image.png)
    written = []
    for name, frame in report.csvs.items():
        path = out / "tables" / f"{name}.csv"
        _write(path, frame.to_csv(index=name in ("win_rates", "nemenyi_pvalues", "coverage")))
        written.append(path)
    _write(out / "report.md", markdown.render(report))
    _write(out / "index.html", html.render(report))
    return Written(report, out, out / "index.html", out / "report.md", written)
