"""The report's "Deployability" section: how fast each framework's models predict, how big they
are on disk and how much memory prediction takes, next to how good they are.

Figures come from the result rows' inference columns (measured by :mod:`automl_bench.execution.inference` in
each job's worker after fit): medians over a framework's jobs that finished ok. A framework
whose jobs could not be measured shows the reason instead of a number.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from automl_bench.execution.inference import BATCH_ROWS
from automl_bench.report import plots
from automl_bench.report.aggregate import pareto
from automl_bench.report.document import Image, Section, SectionResult
from automl_bench.report.load import Loaded
from automl_bench.report.tables import Table, num, text

if TYPE_CHECKING:
    from automl_bench.report.context import ReportContext

MEASURES = ("infer_first_ms", "infer_1_ms", "infer_1k_ms", "infer_rows_per_s",
            "infer_peak_rss_mb", "model_size_mb")  # fmt: skip


def per_framework(loaded: Loaded, scores: pd.DataFrame) -> pd.DataFrame:
    """One row per framework: median inference figures over its ok jobs, formats, notes and
    the score of the report's Pareto table (``scores``: framework, score)."""
    df = loaded.results
    if df.empty:
        return pd.DataFrame()
    ok = df[df["status"] == "ok"].copy()
    rows = []
    for label in sorted(ok["label"].unique()):
        g = ok[ok["label"] == label]
        row = {"framework": label, "jobs": len(g)}
        for m in MEASURES:
            vals = pd.to_numeric(g.get(m), errors="coerce").dropna() if m in g else pd.Series()
            row[m] = float(vals.median()) if len(vals) else float("nan")
            row[f"{m}_n"] = int(len(vals))
        fmts = g["model_format"].dropna().unique() if "model_format" in g else []
        row["model_format"] = ", ".join(sorted(map(str, fmts)))
        row["notes"] = summarise_notes(g["infer_note"].dropna() if "infer_note" in g else [])
        rows.append(row)
    t = pd.DataFrame(rows)
    if t.empty:
        return t
    score = dict(zip(scores["framework"], scores["score"], strict=True)) if not scores.empty else {}
    t["score"] = t["framework"].map(score)
    t["front_latency"] = pareto(t, "infer_1_ms", "score")
    t["front_size"] = pareto(t, "model_size_mb", "score")
    return t


# the measurement's notes that carry per-job numbers, told once per framework with a count
_KINDS = (
    ("left of the", "the fit ran late, less time to measure"),
    ("to measure:", "fewer repetitions in the time there was"),
    ("did not finish within", "not measured in the time there was"),
)


def summarise_notes(notes) -> str:
    """Each distinct note of a framework's jobs once, with the number of jobs it concerns."""
    counts: dict[str, int] = {}
    for note in notes:
        for part in {p.strip() for p in str(note).split("; ") if p.strip()}:
            text = next((label for key, label in _KINDS if key in part), part)
            counts[text] = counts.get(text, 0) + 1
    return "; ".join(f"{t} ({n} job{'s' if n > 1 else ''})" for t, n in sorted(counts.items()))


def latency_budget(loaded: Loaded) -> float | None:
    """The suite's ``constraint.max_infer_1_ms`` (the strictest one when runs differ)."""
    found = []
    for run in loaded.runs:
        c = (run.suite or {}).get("constraint") or {}
        if isinstance(c, dict) and c.get("max_infer_1_ms") is not None:
            found.append(float(c["max_infer_1_ms"]))
    return min(found) if found else None


def _table(t: pd.DataFrame, score_name: str) -> Table:
    out = Table(
        ["framework", score_name, "1 row ms", f"{BATCH_ROWS:,} rows ms", "rows/s",
         "first call ms", "prediction memory MB", "model MB", "format", "front (latency)",
         "front (size)", "notes (jobs)"],
        caption=(f"Medians over each framework's ok jobs. Latency: predict_proba on 1 row and on "
                 f"a batch of {BATCH_ROWS:,} rows (the fold's test rows, resampled to "
                 f"{BATCH_ROWS:,}), repeated warm after fit; first call timed apart. rows/s = "
                 f"{BATCH_ROWS:,} / batch latency. Prediction memory: peak extra RSS of the job's "
                 "process tree while predicting. Model MB: the model saved in the backend's own "
                 "format. All measured on the job's own cores (the constraint's), on this "
                 "machine."),
    )  # fmt: skip
    for _, r in t.sort_values("score", ascending=False, na_position="last").iterrows():
        out.rows.append([
            text(r["framework"]), num(r["score"], 3), num(r["infer_1_ms"], 3),
            num(r["infer_1k_ms"], 3), num(r["infer_rows_per_s"], 3), num(r["infer_first_ms"], 3),
            num(r["infer_peak_rss_mb"], 3), num(r["model_size_mb"], 3), text(r["model_format"]),
            "yes" if r["front_latency"] else "", "yes" if r["front_size"] else "",
            text(r["notes"]),
        ])  # fmt: skip
    return out


def budget_line(t: pd.DataFrame, max_ms: float) -> str:
    fits = t[t["infer_1_ms"] <= max_ms].sort_values("score", ascending=False, na_position="last")
    over = t[t["infer_1_ms"] > max_ms].sort_values("infer_1_ms")
    unknown = t[t["infer_1_ms"].isna()]
    line = f"Fits your latency budget ({max_ms:g} ms to predict 1 row, median): "
    line += ", ".join(f"{r.framework} ({r.infer_1_ms:.3g} ms)" for r in fits.itertuples()) or "none"
    if len(over):
        line += "; over it: " + ", ".join(f"{r.framework} ({r.infer_1_ms:.3g} ms)"
                                          for r in over.itertuples())  # fmt: skip
    if len(unknown):
        line += "; not measured: " + ", ".join(unknown["framework"])
    best = fits.dropna(subset=["score"])
    if len(best):
        line += f". Best score within the budget: {best.iloc[0]['framework']}"
    return line + "."


def build(ctx: ReportContext) -> SectionResult:
    """The Deployability section, with tables/deployability.csv."""
    s, t = _section(ctx.loaded, ctx.pareto if not ctx.pareto.empty else pd.DataFrame(),
                    ctx.score_name)  # fmt: skip
    return SectionResult(s, {"deployability": t})


def _section(loaded: Loaded, scores: pd.DataFrame, score_name: str):
    s = Section("deployability", "Deployability")
    t = per_framework(loaded, scores)
    measured = t[t["infer_1_ms_n"] > 0] if not t.empty else t
    if t.empty or (measured.empty and t["model_size_mb_n"].sum() == 0):
        s.p("No inference measurements: no job finished ok with them (runs made with "
            "--no-inference, or before the measurement existed).")  # fmt: skip
        if not t.empty:
            s.items(f"{r.framework}: {r.notes}" for r in t.itertuples() if r.notes)
        return s, t
    s.p(f"How each framework's models behave in production: latency to predict 1 row and a "
        f"batch of {BATCH_ROWS:,} rows, throughput, memory while predicting and size on disk "
        f"(batch sizes: 1 and {BATCH_ROWS:,} rows). Red points are on the Pareto front: no "
        f"other framework has both at least the {score_name} and at most the latency (or "
        "size).")  # fmt: skip
    max_ms = latency_budget(loaded)
    if max_ms is not None:
        s.p(budget_line(t, max_ms))
    lat = t.dropna(subset=["infer_1_ms", "score"])
    if len(lat):
        s.img(Image("pareto_latency", plots.pareto(t, "infer_1_ms", "front_latency",
                    "median latency to predict 1 row (ms)", score_name),
                    "Pareto front: score vs 1-row latency"))  # fmt: skip
    size = t.dropna(subset=["model_size_mb", "score"])
    if len(size):
        s.img(Image("pareto_size", plots.pareto(t, "model_size_mb", "front_size",
                    "median model size on disk (MB)", score_name),
                    "Pareto front: score vs model size"))  # fmt: skip
    s.table(_table(t, score_name))
    return s, t
