"""Published results to stand beside a run (``report --reference FILE[:SOURCE[,CONSTRAINT]]``):
read one results file in AMLB's format into rows the reference section can match and average.

Files read (their columns learnt from the files themselves, see the README's "Published
results"):

- AMLB's results.csv (any version since 2020) and the 2023 results (amlb_2023Q2.csv): ``id``
  (``openml.org/t/<task id>``), ``task``, ``framework``, ``constraint`` (``1h8c_gp3``),
  ``fold``, ``type``, ``result``, ``metric``, ..., then one column per metric it scored
  (``acc``, ``auc``, ``balacc``, ``logloss``, ...) as the metric's own value. ``result`` is
  higher-is-better: ``metric`` is ``auc`` for binary tasks, ``neg_logloss`` (minus log loss)
  for multi-class.
- AMLB's 2019 results (reports/old/tables/1h/all_results.csv): no ``constraint`` and no
  ``metric`` column (the constraint is in the file's path), and ``result`` is AUC for binary
  tasks but log loss itself (lower is better, not negated) for multi-class; ``score`` holds
  the negated value, ``imp_result`` the constant predictor's result imputed for a failure.
- our own results.csv: AMLB's columns plus ours (``status``: only ``ok`` rows are results).

Every value is taken from the file's own metric column when it has one, else from ``result``
read by the file's convention; a metric the file cannot give stays empty (the section then
shows the file's ``result`` under the file's own metric name). Imputed values (``imp_*``) are
never read: a failed fold is a failed fold.

The file is read as a regular file of at most :data:`MAX_BYTES` before any parsing; anything
that is not such a file names the file and the field (exit 2), before the report writes
anything.
"""

from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from automl_bench.errors import BadInput
from automl_bench.yamlio import read_text_file, shown

MAX_BYTES = 64 << 20  # AMLB's 2023 results (every task, framework, fold, two constraints) fit
REQUIRED = ("task", "framework", "fold", "result")
METRIC_COLUMNS = ("logloss", "acc", "balacc", "auc")
NOT_RUN = ("skipped", "raced_out")  # our own results.csv: jobs that never started
# a constraint as AMLB names one: 1h, 4h8c, 1h8c_gp3, 8c1h, 30s1c4096M
_CONSTRAINT = re.compile(r"\d+(\.\d+)?(s|m|min|h|d)(\d+c)?(\d+M)?(_[A-Za-z0-9]+)?"
                         r"|\d+c\d+(s|m|min|h|d)")
_OPENML_ID = re.compile(r"(?:https?://)?(?P<host>[A-Za-z0-9.-]+)/t/(?P<tid>\d+)/?")


@dataclass
class Reference:
    path: Path
    source: str  # as the report names the file, e.g. "AMLB 2019"
    constraint_origin: str  # how each row's constraint was found
    rows: pd.DataFrame  # one row per (framework, task, constraint, fold); see _normalise
    tasks: int = 0  # distinct tasks among the rows
    file_rows: int = 0  # rows in the file
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Spec:
    path: Path
    source: str | None  # None: named after the file
    constraint: str | None  # None: the file's constraint column, else its path


def parse_spec(text: str) -> Spec:
    """``FILE``, ``FILE:SOURCE`` or ``FILE:SOURCE,CONSTRAINT``. A path that exists as given is
    the file even when it holds a colon; otherwise the text after the last colon is the label."""
    if os.path.lexists(text) or ":" not in text:
        return Spec(Path(text), None, None)
    head, _, label = text.rpartition(":")
    source, comma, constraint = label.rpartition(",") if "," in label else (label, "", "")
    source, constraint = source.strip(), constraint.strip()
    if not head or not source or (comma and not constraint):
        raise BadInput(f"--reference {shown(text)}: expected FILE, FILE:SOURCE or "
                       "FILE:SOURCE,CONSTRAINT (e.g. all_results.csv:AMLB 2019,1h8c)")  # fmt: skip
    return Spec(Path(head), source, constraint or None)


def default_source(path: Path) -> str:
    """A file named by the user without a label: its folder and name (``1h/all_results.csv``)."""
    return "/".join(path.parts[-2:])


def constraint_from_path(path: Path) -> str | None:
    """A constraint named in the file's path, nearest first: ``1h`` of tables/1h/x.csv,
    ``8c1h`` of results_medium-8c1h.csv."""
    for part in [path.stem, *reversed(path.parent.parts)]:
        for token in [part, *re.split(r"[-_. ]", part)]:
            if _CONSTRAINT.fullmatch(token):
                return token
    return None


def openml_key(value) -> tuple[str, int] | None:
    """(server, task id) of an id such as ``openml.org/t/9981`` or ``www.openml.org/t/9981``
    (the same server), ``test.openml.org/t/1882`` (another server: its ids are other tasks)."""
    if not isinstance(value, str):
        return None
    m = _OPENML_ID.fullmatch(value.strip())
    if not m:
        return None
    host = m["host"].lower()
    return host.removeprefix("www."), int(m["tid"])


def read_reference(spec: Spec) -> Reference:
    text = read_text_file(spec.path, MAX_BYTES, "a results file")
    raw = _parse_csv(spec.path, text)
    _check_columns(spec.path, raw)
    rows = _normalise(spec.path, raw)
    source = spec.source or default_source(spec.path)
    rows, origin = _constraints(spec, rows, raw)
    rows, notes = _dedupe(rows)
    tasks = rows["task"].nunique()
    return Reference(spec.path, source, origin, rows.reset_index(drop=True), tasks, len(raw),
                     notes)  # fmt: skip


def read_references(texts) -> list[Reference]:
    """Every ``--reference``, read and checked before the report writes anything."""
    refs, seen = [], {}
    for text in texts or ():
        ref = read_reference(parse_spec(text))
        key = (ref.source, ref.path.resolve())
        if key in seen:
            raise BadInput(f"--reference {ref.path}: given twice (as {seen[key]!r} and {text!r})")
        seen[key] = text
        refs.append(ref)
    return refs


def _parse_csv(path: Path, text: str) -> pd.DataFrame:
    if not text.strip():
        raise BadInput(f"{path}: empty file, not a results CSV")
    try:
        # every cell as written (a task called NA stays NA); only an empty cell is missing
        df = pd.read_csv(io.StringIO(text), dtype=str, skipinitialspace=True,
                         keep_default_na=False, na_values=[""])  # fmt: skip
    except (pd.errors.ParserError, ValueError) as e:
        raise BadInput(f"{path}: not a CSV file ({' '.join(str(e).split())[:300]})") from None
    df.columns = [str(c).strip() for c in df.columns]
    if df.columns.duplicated().any():
        dup = sorted(set(df.columns[df.columns.duplicated()]))
        raise BadInput(f"{path}: column {shown(dup[0])} appears twice in the header")
    if df.empty:
        raise BadInput(f"{path}: no result rows (a header only)")
    return df


def _check_columns(path: Path, df: pd.DataFrame) -> None:
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        found = ", ".join(shown(c, 40) for c in list(df.columns)[:12])
        more = f" and {len(df.columns) - 12} more" if len(df.columns) > 12 else ""
        raise BadInput(f"{path}: not a results file in AMLB's format: no column "
                       f"{', '.join(repr(m) for m in missing)} (its columns: {found}{more})")  # fmt: skip


def _numbers(path: Path, df: pd.DataFrame, column: str) -> pd.Series:
    """The column as floats (empty or NaN: missing); a cell that is not a finite number is
    BadInput naming its row."""
    text = df[column].str.strip()
    text = text.where(~text.str.lower().isin(["", "nan", "na", "null", "none"]))
    values = pd.to_numeric(text, errors="coerce")
    bad = (text.notna() & ~np.isfinite(values.fillna(0.0))) | (text.notna() & values.isna())
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise BadInput(f"{path}, data row {i + 1}: field {column!r} is {shown(text.iloc[i], 60)}, "
                       "not a finite number")  # fmt: skip
    return values.astype(float)


def _text(path: Path, df: pd.DataFrame, column: str) -> pd.Series:
    values = df[column].fillna("").astype(str).str.strip()
    empty = values == ""
    if empty.any():
        i = int(np.flatnonzero(empty.to_numpy())[0])
        raise BadInput(f"{path}, data row {i + 1}: field {column!r} is empty")
    return values


def _folds(path: Path, df: pd.DataFrame) -> pd.Series:
    folds = _numbers(path, df, "fold")
    bad = folds.isna() | (folds < 0) | (folds != folds.round())
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise BadInput(f"{path}, data row {i + 1}: field 'fold' is {shown(df['fold'].iloc[i], 60)}, "
                       "not a fold number (0, 1, ...)")  # fmt: skip
    return folds.astype(int)


def _normalise(path: Path, df: pd.DataFrame) -> pd.DataFrame:
    """task, framework, fold, id key, type; one column per metric the report can decide on
    (log loss, accuracy, balanced accuracy, AUC, AMLB's result) and the file's own result."""
    out = pd.DataFrame({"task": _text(path, df, "task"), "framework": _text(path, df, "framework"),
                        "fold": _folds(path, df)})  # fmt: skip
    out["id"] = df["id"] if "id" in df.columns else None
    out["openml"] = out["id"].map(openml_key)
    result = _numbers(path, df, "result")
    columns = {m: _numbers(path, df, m) if m in df.columns else pd.Series(np.nan, index=df.index)
               for m in METRIC_COLUMNS}  # fmt: skip
    if "type" in df.columns:
        kind = df["type"].fillna("").str.strip().str.lower()
    else:  # AMLB's early 2019 files: the metric columns a row has filled say its type
        kind = pd.Series("", index=df.index).mask(columns["logloss"].notna(), "multiclass")
        kind = kind.mask(columns["auc"].notna(), "binary")
    out["type"] = kind
    from_result, own = _from_result(df, result, kind)
    for m in METRIC_COLUMNS:
        out[m] = columns[m].fillna(from_result[m])
    # AMLB's result as a run's own `result` column holds it: AUC for binary, -log loss else
    out["result"] = (-out["logloss"]).where(kind != "binary", out["auc"])
    out["own"], out["own_metric"] = result, own
    if "status" in df.columns:  # our own results.csv: jobs that never started are not results
        status = df["status"].fillna("").str.strip().str.lower()
        out = out[~status.isin(NOT_RUN)].copy()
        failed = ~status[out.index].isin(["ok", ""])
        out.loc[failed, [*METRIC_COLUMNS, "result", "own"]] = np.nan
    out["ok"] = out["own"].notna()
    return out


def _from_result(df: pd.DataFrame, result: pd.Series, kind: pd.Series):
    """What ``result`` says of each metric, by the file's convention, and its own metric's name."""
    nothing = pd.Series(np.nan, index=df.index)
    if "metric" in df.columns:  # AMLB since 2020, ours: result is the named metric, and the
        metric = df["metric"].fillna("").str.strip().str.lower()  # metric negated (neg_*)
        logloss = (-result).where(metric == "neg_logloss", result.where(metric == "logloss"))
        return ({"logloss": logloss, "acc": result.where(metric == "acc"),
                 "balacc": result.where(metric == "balacc"), "auc": result.where(metric == "auc")},
                metric.where(metric != "", "result"))  # fmt: skip
    # AMLB 2019: result is AUC for binary tasks, log loss itself for multi-class
    return ({"logloss": result.where(kind == "multiclass"), "acc": nothing, "balacc": nothing,
             "auc": result.where(kind == "binary")},
            kind.map({"multiclass": "logloss", "binary": "auc"}).fillna("result"))  # fmt: skip


def _constraints(spec: Spec, rows: pd.DataFrame, raw: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """Each row's constraint: the file's column (SOURCE,CONSTRAINT selects its rows), else the
    one given, else one named in the file's path, else "not stated"."""
    has = "constraint" in raw.columns and raw["constraint"].notna().any()
    if has:
        rows["constraint"] = raw.loc[rows.index, "constraint"].fillna("").str.strip()
        if spec.constraint is None:
            return rows, "from the file's constraint column"
        keep = rows["constraint"] == spec.constraint
        if not keep.any():
            present = ", ".join(sorted(rows["constraint"].unique())[:10])
            raise BadInput(f"{spec.path}: field 'constraint' has no row with {spec.constraint!r} "
                           f"(the file's constraints: {present})")  # fmt: skip
        return rows[keep], f"{spec.constraint} (as given: the file's rows of it)"
    if spec.constraint is not None:
        rows["constraint"] = spec.constraint
        return rows, f"{spec.constraint} (as given: the file has no constraint column)"
    found = constraint_from_path(spec.path)
    rows["constraint"] = found or "not stated"
    if found:
        return rows, f"{found} (from the file's path: it has no constraint column)"
    return rows, ("not stated (the file has no constraint column and its path names none: "
                  "give it as FILE:SOURCE,CONSTRAINT)")


def _dedupe(rows: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """One row per (framework, task, constraint, fold): a rerun's row with a result wins over
    one without (AMLB reruns a fold that failed for reasons of its own), else the last."""
    key = ["framework", "task", "constraint", "fold"]
    order = rows.assign(_ok=rows["ok"].astype(int), _line=np.arange(len(rows)))
    order = order.sort_values(["_ok", "_line"], kind="stable")
    dup = order.duplicated(key, keep="last")
    notes = []
    if dup.any():
        n = int(dup.sum())
        notes.append(f"{n} {'row repeats' if n == 1 else 'rows repeat'} the (framework, task, "
                     "constraint, fold) of another; of each such set the row with a result (the "
                     "last one) is used")  # fmt: skip
    kept = order[~dup].sort_values("_line").drop(columns=["_ok", "_line"])
    return kept, notes
