"""The report's "Published results" section (``report --reference``): published results (AMLB's
files, a results.csv of AMLB's or ours, read by :mod:`automl_bench.report.reference_file`)
beside the run, on the tasks they share, labelled with their source and constraint.

A reference task matches a run task by OpenML task id when both have one (the same server:
``openml.org`` and ``www.openml.org`` are one, the test server another), else by name (case
aside). Per task, the run's own mean of the decision metric per framework over its folds with
a result comes first, then each published framework's mean over its folds with a result, with
the folds counted. Nothing here feeds the leaderboard, ranks, normalised scores, statistics or
the summary: those are computed before this section, from the run's rows only.
"""

from __future__ import annotations

import pandas as pd

from automl_bench.report import tables
from automl_bench.report.aggregate import NOT_RUN
from automl_bench.report.context import ReportContext
from automl_bench.report.document import Section, SectionResult
from automl_bench.report.reference_file import Reference, openml_key

OWN_NAMES = {"neg_logloss": "minus log loss", "logloss": "log loss", "auc": "AUC",
             "acc": "accuracy", "balacc": "balanced accuracy"}  # fmt: skip
COLUMNS = ["task", "kind", "source", "constraint", "framework", "metric", "mean", "folds_ok",
           "folds", "matched_by", "reference_task", "reference_id", "file"]  # fmt: skip
SHOW_TASKS = 8  # task names quoted when a file shares none with the run
AFTER_RUN = 1 << 30  # sort key of published rows: after every framework of the run


def metric_label(ctx: ReportContext) -> str:
    """The decision metric as a table cell (AMLB's result: its short name; the caption says
    what it is)."""
    return "AMLB result" if ctx.metric.key == "result" else ctx.metric.name


def run_tasks(ctx: ReportContext) -> dict[str, tuple | None]:
    """Each task of the compared runs and its OpenML (server, task id), when it came from
    OpenML (the rows' ``id``)."""
    df = ctx.loaded.results
    out = {}
    for task in sorted(df["task"].dropna().unique()) if not df.empty else []:
        keys = [k for k in df.loc[df["task"] == task, "id"].map(openml_key) if k]
        out[task] = keys[0] if keys else None
    return out


def _id_text(key: tuple) -> str:
    host, tid = key
    return f"OpenML task {tid}" + ("" if host == "openml.org" else f" on {host}")


def match(ref: Reference, tasks: dict[str, tuple | None]) -> pd.DataFrame:
    """The reference's rows on the run's tasks, with ``run_task`` and ``matched_by``."""
    rows, parts = ref.rows, []
    by_key: dict[tuple, list[int]] = {}  # one pass over a file of any length, then lookups
    for i, k in enumerate(rows["openml"]):
        if k:
            by_key.setdefault(k, []).append(i)
    by_name_of = rows.groupby(rows["task"].str.casefold(), sort=False).indices
    for task, key in tasks.items():
        if key in by_key:
            parts.append(rows.iloc[by_key[key]].assign(run_task=task, matched_by=_id_text(key)))
            continue
        if task.casefold() not in by_name_of:
            continue
        by_name = rows.iloc[by_name_of[task.casefold()]]
        how = "name"
        others = {k for k in by_name["openml"] if k} if key else set()
        if others:  # the same name, another OpenML task: said, not hidden
            how += (f" (its OpenML task is {', '.join(sorted(_id_text(k) for k in others))}; "
                    f"the run's is {_id_text(key)})")  # fmt: skip
        parts.append(by_name.assign(run_task=task, matched_by=how))
    if not parts:
        return rows.iloc[0:0].assign(run_task=None, matched_by=None)
    return pd.concat(parts, ignore_index=True)


def run_means(ctx: ReportContext, tasks) -> pd.DataFrame:
    """The run's mean of the decision metric per (task, framework) over its folds with a result."""
    df = ctx.loaded.results
    df = df[df["task"].isin(list(tasks)) & ~df["status"].isin(NOT_RUN)]
    column, order = ctx.metric.column, list(ctx.board["framework"]) if not ctx.board.empty else []
    out = []
    for (task, label), g in df.groupby(["task", "label"], sort=False):
        values = g.loc[g["status"] == "ok", column].dropna()
        constraint = ", ".join(sorted(g["constraint"].dropna().astype(str).unique())) or "-"
        runs = "this run" if len(ctx.loaded.runs) == 1 else "run " + ", ".join(
            sorted(g["run"].astype(str).unique()))  # fmt: skip
        out.append({"task": task, "kind": "run", "source": f"{runs}, {constraint}",
                    "constraint": constraint,
                    "framework": label, "metric": metric_label(ctx),
                    "mean": values.mean() if len(values) else float("nan"),
                    "folds_ok": len(values), "folds": len(g), "matched_by": "",
                    "reference_task": "", "reference_id": "", "file": "",
                    "_order": order.index(label) if label in order else len(order)})  # fmt: skip
    return pd.DataFrame(out, columns=[*COLUMNS, "_order"])


def _own(g: pd.DataFrame) -> tuple[str, pd.Series]:
    """A group with no value of the report's metric: the file's own result and its name."""
    values = g.loc[g["ok"], "own"].dropna()
    names = g.loc[values.index, "own_metric"].unique() if len(values) else g["own_metric"].unique()
    name = " / ".join(OWN_NAMES.get(n, n) for n in names) or "result"
    return f"{name} (the file's result)", values


def reference_means(ctx: ReportContext, ref: Reference, matched: pd.DataFrame) -> pd.DataFrame:
    """Per (run task, constraint, framework) of one reference: the mean of the report's metric
    over the folds that have it, else of the file's own result, under that name."""
    column, out = ctx.metric.column, []
    for (task, constraint, framework), g in matched.groupby(
            ["run_task", "constraint", "framework"], sort=True):  # fmt: skip
        values, metric = g.loc[g["ok"], column].dropna(), metric_label(ctx)
        if values.empty and g["ok"].any():
            metric, values = _own(g)
        stated = constraint != "not stated"
        out.append({"task": task, "kind": "reference",
                    "source": f"{ref.source}, {constraint}" if stated else ref.source,
                    "constraint": constraint, "framework": framework, "metric": metric,
                    "mean": values.mean() if len(values) else float("nan"),
                    "folds_ok": len(values), "folds": len(g),
                    "matched_by": "; ".join(g["matched_by"].unique()),
                    "reference_task": ", ".join(g["task"].unique()),
                    "reference_id": ", ".join(str(i) for i in g["id"].dropna().unique()),
                    "file": str(ref.path)})  # fmt: skip
    return pd.DataFrame(out, columns=COLUMNS)


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _describe(ref: Reference, matched: pd.DataFrame, tasks: dict, ctx: ReportContext) -> list[str]:
    """One line on the file and what it shares with the run, then its notes."""
    rows = ref.rows
    kept = "" if len(rows) == ref.file_rows else f" ({len(rows):,} kept)"
    head = (f"{ref.source} ({ref.path}): {_count(ref.file_rows, 'row')}{kept}, "
            f"{_count(rows['framework'].nunique(), 'framework')}, {_count(ref.tasks, 'task')}; "
            f"constraint {ref.constraint_origin}")  # fmt: skip
    if matched.empty:
        theirs = sorted(rows["task"].unique())
        shown = ", ".join(theirs[:SHOW_TASKS]) + (", ..." if len(theirs) > SHOW_TASKS else "")
        lines = [f"{head}. It shares no task with the run (a task matches by OpenML task id, "
                 f"else by name, case aside): its tasks are {shown}; the run's are "
                 f"{', '.join(tasks)}."]  # fmt: skip
    else:
        how = matched.drop_duplicates("run_task")
        shared = ", ".join(f"{t} ({m})" for t, m in zip(how["run_task"], how["matched_by"],
                                                           strict=True))  # fmt: skip
        lines = [f"{head}. It shares {len(how)} of the run's {len(tasks)} tasks: {shared}."]
        lacking = int(matched.loc[matched["ok"], ctx.metric.column].isna().sum())
        if lacking:
            lines.append(f"{ref.source}: {_count(lacking, 'row')} on the shared tasks give no "
                         f"{ctx.metric.name} (no such column, and its result is another metric): "
                         "a framework none of whose rows has it shows the file's own result, "
                         "named as such, never converted by guess")  # fmt: skip
    failed = int((~matched["ok"]).sum()) if not matched.empty else 0
    if failed:
        lines.append(f"{ref.source}: {_count(failed, 'fold')} on the shared tasks without a "
                     "result (failed): counted in folds, left out of the means (imputed values "
                     "the file may hold are not used)")  # fmt: skip
    return lines + [f"{ref.source}: {n}" for n in ref.notes]


def _caption(ctx: ReportContext) -> str:
    metric = ctx.metric
    what = metric.named if metric.key != "result" else f"{metric.name}, higher is better"
    return (f"Mean {what} over the folds with a result (folds: with a result / in total). "
            "The run's rows first, then each published source; published values are never "
            "ranked with the run's.")  # fmt: skip


def _table(frame: pd.DataFrame, ctx: ReportContext) -> tables.Table:
    rows = [[r.task, r.source, r.framework, r.metric, tables.num(r.mean),
             f"{r.folds_ok}/{r.folds}", r.matched_by or "-"] for r in frame.itertuples()]  # fmt: skip
    return tables.Table(["task", "source", "framework", "metric", "mean", "folds", "matched by"],
                        rows, _caption(ctx))  # fmt: skip


def _conclusion(ref: Reference, shared: int, tasks: int) -> str:
    if shared:
        return (f"Published results {ref.source}: {shared} of the run's {tasks} tasks shared, "
                "shown apart in 'Published results', never ranked with the run.")  # fmt: skip
    return (f"Published results {ref.source} ({ref.path}) share no task with the run (by OpenML "
            "task id or name): nothing of them is shown.")  # fmt: skip


INTRO = ("Published results beside the run, on the tasks they share. They stand apart from "
         "every other section: no published value enters the leaderboard, ranks, normalised "
         "scores, significance tests or the summary. Each was measured under its own constraint "
         "(budget, cores, machine), on its own splits (AMLB's are OpenML's 10-fold splits; the "
         "run's are its own unless its task came from OpenML) and with other versions, so a "
         "difference between a published mean and the run's is not a verdict.")  # fmt: skip


def build(ctx: ReportContext) -> SectionResult:
    refs = ctx.references
    if not refs:
        return SectionResult(None)
    tasks = run_tasks(ctx)
    s, lines, frames, conclusions = Section("reference", "Published results"), [], [], []
    for ref in refs:
        matched = match(ref, tasks)
        lines += _describe(ref, matched, tasks, ctx)
        n = matched["run_task"].nunique() if not matched.empty else 0
        conclusions.append(_conclusion(ref, n, len(tasks)))
        if not matched.empty:
            frames.append(reference_means(ctx, ref, matched))
    s.p(INTRO)
    s.items(lines)
    shared = sorted({t for f in frames for t in f["task"]})
    if not shared:
        return SectionResult(s, {"reference": pd.DataFrame(columns=COLUMNS)}, conclusions)
    ours = run_means(ctx, shared).sort_values(["task", "_order"], kind="stable")
    published = pd.concat(frames, ignore_index=True)
    published["_order"] = range(AFTER_RUN, AFTER_RUN + len(published))  # as given, after the run
    both = pd.concat([ours, published], ignore_index=True)
    both = both.sort_values(["task", "_order"], kind="stable").drop(columns="_order")
    both = both.reset_index(drop=True)
    s.table(_table(both, ctx))
    return SectionResult(s, {"reference": both}, conclusions)
