"""A corpus of bad inputs: each exits 2 naming the file and the problem, and writes nothing
(no run directory, no task cache entry, no change to the OpenML cache).

Runs the real CLI entry point in-process (``automl_bench.cli.main``) to keep the corpus fast; the
subprocess path is covered by test_bad_input.py.
"""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
from test_openml_source import tree_digest

from automl_bench.cli import main

HEAD = """name: bad
folds: 3
constraint: {budget_s: 5, cores: 1, memory_mb: 1024}
frameworks: [constant]
tasks:
"""


def frame(n=12) -> pd.DataFrame:
    return pd.DataFrame({
        "a": np.arange(n, dtype=float),
        "b": np.linspace(0, 1, n),
        "c": ["u", "v", "w"] * (n // 3),
        "y": ["x", "z"] * (n // 2),
    })  # fmt: skip


def task(file_spec: str) -> str:
    return HEAD + f"  - name: t\n    file: {file_spec}\n"


def _csv(d, name="d.csv", df=None):
    (frame() if df is None else df).to_csv(d / name, index=False)
    return d / name


def _parquet(d, df, name="d.parquet"):
    df.to_parquet(d / name)
    return d / name


def case_bad_yaml(d):
    return HEAD + "  - name: t\n    file: {path: d.csv, target: y\n", "invalid YAML", "suite"


def case_unknown_top_key(d):
    return task("{path: d.csv, target: y}") + "foldz: 3\n", "foldz: unknown field", "suite"


def case_unknown_source_key(d):
    return task("{path: d.csv, target: y, sep: ';'}"), "tasks[0].file.sep: unknown field", "suite"


def case_two_split_rules(d):
    spec = "{path: d.csv, target: y, test_path: t.csv, fold_column: a}"
    return task(spec), "either test_path or fold_column", "suite"


def case_openml_task_id(d):
    return HEAD + "  - name: t\n    openml: {task: -5}\n", "tasks[0].openml.task", "suite"


def case_missing_file(d):
    return task("{path: nowhere.csv, target: y}"), "nowhere.csv does not exist", "suite"


def case_unset_env_var(d):
    spec = "{path: '${NO_SUCH_DATA_ROOT}/d.csv', target: y}"
    return task(spec), "$NO_SUCH_DATA_ROOT, which is not set", "suite"


def case_unsupported_type(d):
    (d / "d.xlsx").write_bytes(b"PK\x03\x04")
    return task("{path: d.xlsx, target: y}"), "unsupported file type '.xlsx'", d / "d.xlsx"


def case_corrupt_parquet(d):
    good = _parquet(d, frame())
    good.write_bytes(good.read_bytes()[:-300])  # truncated: footer gone
    return task("{path: d.parquet, target: y}"), "cannot be read as parquet", good


def case_corrupt_arff(d):
    p = d / "d.arff"
    p.write_text("@relation r\n@attribute a numeric\n@attribute y {x,z}\n@data\n1,x\n2,q\n")
    return task("{path: d.arff, target: y}"), "invalid ARFF", p


def case_missing_target(d):
    return task("{path: d.csv, target: label}"), "target column 'label' not found", _csv(d)


def case_one_class(d):
    df = frame().assign(y="x")
    return task("{path: d.csv, target: y}"), "single class ('x')", _csv(d, df=df)


def case_class_smaller_than_folds(d):
    df = frame()
    df.loc[0, "y"] = "rare"
    return task("{path: d.csv, target: y}"), "'rare' have fewer rows (1) than folds (3)", _csv(
        d, df=df)  # fmt: skip


def case_all_columns_missing(d):
    df = frame()[["y"]].assign(a=np.nan, b=np.nan)
    p = _parquet(d, df)
    return task("{path: d.parquet, target: y}"), "every feature column is entirely missing", p


def case_duplicate_columns(d):
    p = d / "d.csv"
    p.write_text("a,a,y\n" + "".join(f"{i},{i},{'xz'[i % 2]}\n" for i in range(12)))
    return task("{path: d.csv, target: y}"), "duplicate column names: 'a'", p


def case_infinite_values(d):
    df = frame()
    df.loc[3, "b"] = np.inf
    p = _parquet(d, df)
    return task("{path: d.parquet, target: y}"), "non-finite values (inf) in column(s) 'b'", p


def case_string_and_numeric_labels(d):
    # training labels are numbers, the test file's are strings
    _csv(d, df=frame().assign(y=[1, 2] * 6))
    _csv(d, "t.csv", frame().assign(y=["one", "two"] * 6))
    spec = "{path: d.csv, test_path: t.csv, target: y}"
    return task(spec), "mixes string and numeric labels between the files", d / "t.csv"


def case_missing_labels(d):
    df = frame()
    df.loc[[2, 5], "y"] = None
    return task("{path: d.csv, target: y}"), "target has 2 missing labels", _csv(d, df=df)


def case_regression_target(d):
    df = frame().assign(y=np.linspace(0.5, 7.3, 12))
    return task("{path: d.csv, target: y}"), "looks like a regression target", _csv(d, df=df)


def case_test_file_columns_differ(d):
    _csv(d)
    t = _csv(d, "t.csv", frame().rename(columns={"b": "bb"}))
    spec = "{path: d.csv, test_path: t.csv, target: y}"
    return task(spec), "test file columns differ", t


def case_fold_column_not_integer(d):
    df = frame().assign(fold=np.linspace(0, 1, 12))
    p = _csv(d, df=df)
    spec = "{path: d.csv, target: y, fold_column: fold}"
    return task(spec), "fold column 'fold' must hold integer fold numbers", p


def case_header_only_csv(d):
    p = d / "d.csv"
    p.write_text("a,b,y\n")
    return task("{path: d.csv, target: y}"), "no data rows", p


def case_ignored_column_missing(d):
    spec = "{path: d.csv, target: y, ignore: [row_id]}"
    return task(spec), "column(s) named in the suite not found: row_id", _csv(d)


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}


@pytest.mark.parametrize("case", CASES)
def test_bad_input_exits_2_names_file_and_problem_writes_nothing(case, tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    text, expected, named = CASES[case](data)
    suite = data / "suite.yaml"
    suite.write_text(text)
    out, cache = tmp_path / "run", tmp_path / "cache"
    code = main(["run", "--suite", str(suite), "--out", str(out), "--cache-dir", str(cache)])
    stderr = capsys.readouterr().err.replace("\n", "")
    assert code == 2, stderr
    assert expected in stderr
    assert str(suite if named == "suite" else named) in stderr
    assert not out.exists() and not cache.exists()


def test_corpus_has_at_least_fifteen_cases():
    assert len(CASES) >= 15


def test_corrupt_openml_cache_file_is_bad_input_and_cache_untouched(tmp_path, capsys,
                                                                    openml_cache):  # fmt: skip
    user = tmp_path / "openml-cache"
    shutil.copytree(openml_cache, user)
    split = user / "org/openml/test/tasks/1882/datasplits.arff"
    split.write_text("@relation broken\n@data\n1\n")
    before = tree_digest(user)
    suite = tmp_path / "suite.yaml"
    suite.write_text(HEAD + "  - name: anneal\n    openml: {task: 1882, server: test}\n")
    out = tmp_path / "run"
    code = main(["run", "--suite", str(suite), "--out", str(out), "--openml-cache", str(user),
                 "--cache-dir", str(tmp_path / "cache")])  # fmt: skip
    stderr = capsys.readouterr().err.replace("\n", "")
    assert code == 2 and "OpenML task 1882" in stderr and "unreadable file" in stderr
    assert str(suite) in stderr and not out.exists()
    assert tree_digest(user) == before
