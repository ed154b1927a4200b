"""Local Parquet, CSV and ARFF files with a target column.

Options (``FileSource`` in automl_bench.planning.suite): ``ignore`` drops columns such as ids; either
``test_path`` (a separate test file: one fold, train = the main file) or ``fold_column``
(an integer column assigning each row to a test fold) fixes the splits; otherwise the
harness makes stratified folds.

Paths: ``$VARS`` and ``~`` are expanded (an unset variable is an error); a relative path
resolves against the suite file's folder, and when it is not there, against the data root
``$AUTOML_BENCH_DATA`` if that is set, then against the datasets shipped inside the package
(``bench/datasets``, e.g. ``hd-real/cnae-9.parquet``).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from automl_bench.data.readable import path_problem
from automl_bench.data.sources import TaskData
from automl_bench.errors import BadInput
from automl_bench.paths import shipped_data_dir

DATA_ROOT_ENV = "AUTOML_BENCH_DATA"
FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".arff": "arff"}
_UNSET_VAR = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")


def resolve(path: str, base_dir: Path) -> Path:
    expanded = os.path.expandvars(path)
    unset = _UNSET_VAR.search(expanded)
    if unset:
        raise BadInput(
            f"data path {path!r} uses environment variable ${unset.group(1)}, which is not set"
        )
    p = Path(expanded).expanduser()
    if p.is_absolute():
        candidates = [p]
    else:
        candidates = [Path(base_dir) / p]
        if os.environ.get(DATA_ROOT_ENV):
            candidates.append(Path(os.environ[DATA_ROOT_ENV]).expanduser() / p)
        candidates.append(shipped_data_dir() / p)
    problems = []
    for c in candidates:
        problem = path_problem(c)
        if problem is None:
            return c.resolve()
        problems.append(problem)
    # a path built from environment variables is named as written: their values (a token,
    # a home directory) are never echoed
    if expanded != path:
        where = "after expansion" if p.is_absolute() else "relative to the suite's folder"
        raise BadInput(f"data file {path!r} ({where}) {problems[0]}")
    also = []
    if not p.is_absolute() and os.environ.get(DATA_ROOT_ENV):
        also.append(f"${DATA_ROOT_ENV}")
    if not p.is_absolute():
        also.append("the shipped datasets")
    looked = f"; also looked in {' and '.join(also)}" if also else ""
    raise BadInput(f"data file {candidates[0]} {problems[0]} (from path {path!r}{looked})")


def file_format(p: Path) -> str:
    suffixes = [s.lower() for s in p.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    fmt = FORMATS.get(suffixes[-1]) if suffixes else None
    if fmt is None:
        raise BadInput(
            f"{p}: unsupported file type {''.join(p.suffixes) or '(none)'!r} "
            "(use .parquet, .csv or .arff, each optionally .gz)"
        )
    return fmt


def _is_gz(p: Path) -> bool:
    return p.suffix.lower() == ".gz"


def _open_text(p: Path):
    return gzip.open(p, "rt", encoding="utf-8") if _is_gz(p) else open(p, encoding="utf-8")


def _check_unique(p: Path, names) -> None:
    seen, dupes = set(), []
    for n in names:
        if n in seen and n not in dupes:
            dupes.append(n)
        seen.add(n)
    if dupes:
        raise BadInput(f"{p}: duplicate column names: {', '.join(map(repr, dupes))}")


def read_parquet(p: Path) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.parquet as pq

    if _is_gz(p):  # a gzipped Parquet file: decompressed in memory
        with gzip.open(p, "rb") as f:
            source = pa.BufferReader(f.read())
        table = pq.read_table(source)
        _check_unique(p, table.schema.names)
        return table.to_pandas()
    _check_unique(p, pq.read_schema(p).names)
    return pd.read_parquet(p)


def _numeric_text(y: pd.Series) -> bool:
    """Whether every label is a number (as written in text, or read as one)."""
    return bool(pd.to_numeric(y.astype(str), errors="coerce").notna().all())


def _check_rows(p: Path) -> list[str]:
    """The header; BadInput naming the first row with fewer fields than the header (pandas
    would fill the missing ones with NaN without a word)."""
    with _open_text(p) as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if not header:
            raise BadInput(f"{p}: empty CSV file (no header row)")
        for row in reader:
            if row and len(row) < len(header):
                raise BadInput(f"{p}: line {reader.line_num} has {len(row)} fields, the "
                               f"header {len(header)}: a field is missing")  # fmt: skip
    return header


def read_csv(p: Path, target: str | None = None) -> pd.DataFrame:
    """A CSV file; the ``target`` column keeps its text as written (``01`` is not ``1``,
    whatever the other rows hold)."""
    # pandas silently renames a repeated header ("a" -> "a.1"): check the raw header first
    header = _check_rows(p)
    _check_unique(p, header)
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", pd.errors.ParserWarning)
        # index_col=False: a row with one field more than the header is an error, never a
        # silent index column that shifts every column by one
        df = pd.read_csv(p, index_col=False, dtype={target: str} if target else None)
    for w in caught:
        if "does not match" in str(w.message) or "Length of header" in str(w.message):
            raise BadInput(f"{p}: rows have more fields than the header's {len(header)} names "
                           "(a header name is missing?)")  # fmt: skip
    return df


def read_arff(p: Path) -> pd.DataFrame:
    """ARFF (dense or sparse) via liac-arff; nominal attributes become categoricals."""
    import arff

    with _open_text(p) as f:
        try:
            d = arff.load(f)
        except arff.ArffException as e:
            raise BadInput(f"{p}: invalid ARFF: {e}") from None
    names = [a[0] for a in d["attributes"]]
    df = pd.DataFrame(d["data"], columns=names)
    for name, kind in d["attributes"]:
        if isinstance(kind, list):
            df[name] = pd.Categorical(df[name], categories=kind)
        elif kind.upper() in ("NUMERIC", "REAL", "INTEGER"):
            df[name] = pd.to_numeric(df[name], errors="coerce").astype("float64")
    return df


READERS = {"parquet": read_parquet, "csv": read_csv, "arff": read_arff}


def read_table(p: Path, target: str | None = None) -> pd.DataFrame:
    """The file as a frame; a text format's ``target`` column keeps its text as written."""
    fmt = file_format(p)
    try:
        df = read_csv(p, target) if fmt == "csv" else READERS[fmt](p)
    except BadInput:
        raise
    except Exception as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise BadInput(f"{p}: cannot be read as {fmt}: {first}") from None
    if len(df) == 0:
        raise BadInput(f"{p}: no data rows")
    return df


def _paths(source, ctx) -> list[Path]:
    paths = [resolve(source.path, ctx.base_dir)]
    if source.test_path:
        paths.append(resolve(source.test_path, ctx.base_dir))
    return paths


def fingerprint(source, ctx) -> str:
    """SHA-256 of the file bytes plus the options: the same content keys the same cache."""
    h = hashlib.sha256(source.model_dump_json(exclude={"path", "test_path"}).encode())
    for p in _paths(source, ctx):
        # the format read from the name keys the entry too: the same bytes named .parquet and
        # .csv are two different inputs (one of them invalid)
        h.update(f"{file_format(p)}{'.gz' if _is_gz(p) else ''}\0".encode())
        with open(p, "rb") as f:
            while chunk := f.read(1 << 22):
                h.update(chunk)
        h.update(b"\0")
    return "file-" + h.hexdigest()[:24]


def _split_frame(p: Path, df: pd.DataFrame, source) -> tuple[pd.DataFrame, pd.Series]:
    if source.target not in df.columns:
        shown = ", ".join(map(str, list(df.columns)[:10]))
        more = f" (and {len(df.columns) - 10} more)" if len(df.columns) > 10 else ""
        raise BadInput(f"{p}: target column {source.target!r} not found; columns: {shown}{more}")
    wanted = [*source.ignore] + ([source.fold_column] if source.fold_column else [])
    missing = [c for c in wanted if c not in df.columns]
    if missing:
        raise BadInput(f"{p}: column(s) named in the suite not found: {', '.join(missing)}")
    y = df[source.target].reset_index(drop=True).rename("target")
    X = df.drop(columns=[source.target, *wanted]).reset_index(drop=True)
    return X, y


def _fold_splits(p: Path, column: pd.Series, name: str):
    values = column.to_numpy()
    if column.isna().any():
        raise BadInput(f"{p}: fold column {name!r} has {int(column.isna().sum())} missing values")
    if not pd.api.types.is_integer_dtype(column) and not (
        pd.api.types.is_float_dtype(column) and np.all(np.mod(values, 1) == 0)
    ):
        raise BadInput(f"{p}: fold column {name!r} must hold integer fold numbers "
                       f"(got dtype {column.dtype})")  # fmt: skip
    folds = sorted(set(values.astype(int).tolist()))
    if len(folds) < 2:
        raise BadInput(f"{p}: fold column {name!r} has a single fold ({folds[0]}); need >= 2")
    idx = np.arange(len(values))
    return [(idx[values != f], idx[values == f]) for f in folds]


def load(source, ctx) -> TaskData:
    """Read the task's file(s). A path written with ``$VARIABLES`` is named in messages as
    written: the variables' values (a token, a home directory) are never echoed."""
    paths = _paths(source, ctx)
    hide = {str(p): repr(w) for p, w in zip(paths, (source.path, source.test_path), strict=False) if w and
            os.path.expandvars(w) != w}  # fmt: skip
    try:
        data = _load(source, paths)
    except BadInput as e:
        raise BadInput(_hidden(str(e), hide)) from None
    data.origin = _hidden(data.origin, hide)
    return data


def _hidden(text: str, hide: dict) -> str:
    for expanded, written in hide.items():
        text = text.replace(expanded, written)
    return text


def _load(source, paths) -> TaskData:
    p = paths[0]
    df = read_table(p, source.target)
    splits = None
    if source.fold_column and source.fold_column in df.columns:
        splits = _fold_splits(p, df[source.fold_column], source.fold_column)
    X, y = _split_frame(p, df, source)
    origin = str(p)
    if source.test_path:
        tp = paths[1]
        Xt, yt = _split_frame(tp, read_table(tp, source.target), source)
        if list(Xt.columns) != list(X.columns):
            extra = sorted(set(map(str, Xt.columns)) ^ set(map(str, X.columns)))
            raise BadInput(
                f"{tp}: test file columns differ from {p.name}'s"
                + (f" (not in both: {', '.join(extra[:10])})" if extra else " (order differs)")
            )
        if _numeric_text(y) != _numeric_text(yt):
            num, text = (y, yt) if _numeric_text(y) else (yt, y)
            raise BadInput(f"{tp}: target mixes string and numeric labels between the files "
                           f"(e.g. {text.iloc[0]!r} and {num.iloc[0]!r}); make them one type")  # fmt: skip
        n, m = len(X), len(Xt)
        X = pd.concat([X, Xt], ignore_index=True)
        y = pd.concat([y, yt], ignore_index=True)
        splits = [(np.arange(n), np.arange(n, n + m))]
        origin = f"{p} + test file {tp}"
    return TaskData(X=X, y=y, source_id=f"file/{p.name}", splits=splits, origin=origin)
