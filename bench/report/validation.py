"""The report's "Validation vs test" section: each job's test log loss beside the backend's
own validation log loss of the model it kept (``validation_loss``), and the jobs the rule of
:mod:`automl_bench.results.suspect` flags (a model scored that is not the one validated)."""

from __future__ import annotations

import pandas as pd

from automl_bench.report import aggregate as ag
from automl_bench.report.document import Section, SectionResult
from automl_bench.report.load import Loaded
from automl_bench.report.tables import Table, num, text
from automl_bench.results import suspect


def suspect_jobs(loaded: Loaded) -> pd.DataFrame:
    """The suspect jobs: label, task, fold, test and validation log loss, the constant
    predictor's log loss on that fold."""
    df = loaded.results
    if df.empty or "validation_loss" not in df:
        return pd.DataFrame()
    constant = ag.constant_logloss(loaded)
    flagged = df[suspect.flags(df, constant)]
    out = flagged[["label", "task", "fold", "logloss", "validation_loss"]].copy()
    out["constant_logloss"] = [constant.get((t, int(f))) for t, f in
                               zip(out["task"], out["fold"], strict=True)]  # fmt: skip
    return out.reset_index(drop=True)


def counts(jobs: pd.DataFrame) -> dict:
    """(task, label) -> number of suspect folds (for the per-task table's mark)."""
    if jobs.empty:
        return {}
    return jobs.groupby(["task", "label"]).size().to_dict()


def build(ctx) -> SectionResult:
    jobs, df = ctx.suspect, ctx.results
    s = Section("validation", "Validation vs test")
    s.p(suspect.RULE + " Such a job scored a model other than the one its backend validated, "
        "or one its last step broke: its result is kept in every comparison, and flagged.")  # fmt: skip
    with_loss = df[pd.to_numeric(df.get("validation_loss"), errors="coerce").notna()] \
        if "validation_loss" in df else df.iloc[0:0]  # fmt: skip
    s.p(f"{len(with_loss)} of {len(df)} jobs report a validation log loss (backends that "
        "record a trajectory); " + (f"{len(jobs)} are suspect." if len(jobs) else
                                    "none is suspect."))  # fmt: skip
    conclusions = []
    if len(jobs):
        s.table(_table(jobs))
        names = ", ".join(f"{k} ({v})" for k, v in jobs["label"].value_counts().items())
        conclusions.append(f"Validation vs test: {len(jobs)} job(s) suspect, their test log loss "
                           f"implausibly worse than their own validation: {names}.")  # fmt: skip
    return SectionResult(s, {"suspect": jobs}, conclusions)


def _table(jobs: pd.DataFrame) -> Table:
    t = Table(["framework", "task", "fold", "test log loss", "validation log loss",
               "constant's log loss"], caption=suspect.RULE)  # fmt: skip
    for r in jobs.itertuples():
        t.rows.append([text(r.label), text(r.task), str(int(r.fold)), num(r.logloss, 4),
                       num(r.validation_loss, 4), num(r.constant_logloss, 4)])  # fmt: skip
    return t
