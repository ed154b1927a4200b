"""Local files (Parquet, CSV, ARFF) on real data: options, path rules, the cross-run cache,
validation fixes and the dataset profile."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from data_files import write_arff

from automl_bench.data import taskcache
from automl_bench.data.profile import profile
from automl_bench.data.sources import SourceContext
from automl_bench.data.sources.files import load, resolve
from automl_bench.errors import BadInput
from automl_bench.planning.suite import FileSource, Suite, TaskSpec


def _suite(folds=3) -> Suite:
    return Suite(name="t", folds=folds, constraint={"budget_s": 5}, frameworks=["constant"],
                 tasks=[{"name": "x", "sklearn": {"dataset": "iris"}}])  # fmt: skip


@pytest.fixture(scope="module")
def anneal(datasets_dir) -> pd.DataFrame:
    return pd.read_parquet(datasets_dir / "anneal.parquet")


def test_arff_csv_and_parquet_give_the_same_task(tmp_path, anneal, datasets_dir):
    write_arff(anneal, tmp_path / "anneal.arff")
    anneal.to_csv(tmp_path / "anneal.csv", index=False)
    ctx = SourceContext(base_dir=tmp_path)
    got = {
        fmt: load(FileSource(path=f"anneal.{fmt}", target="class"), ctx) for fmt in ("arff", "csv")
    }
    got["parquet"] = load(FileSource(path=str(datasets_dir / "anneal.parquet"), target="class"),
                          ctx)  # fmt: skip
    for fmt, data in got.items():
        assert data.X.shape == (898, 38), fmt
        assert sorted(map(str, data.y.unique())) == ["1", "2", "3", "5", "U"], fmt
        assert int(data.X.isna().sum().sum()) == int(
            anneal.drop(columns="class").isna().sum().sum()
        )
    # nominal ARFF attributes arrive as categoricals (the 6 all-missing ones were written REAL)
    assert sum(isinstance(t, pd.CategoricalDtype) for t in got["arff"].X.dtypes) == 32 - 6


def test_test_file_makes_one_fixed_fold(tmp_path, datasets_dir):
    df = pd.read_parquet(datasets_dir / "segment.parquet")
    df.iloc[:1500].to_csv(tmp_path / "train.csv", index=False)
    df.iloc[1500:].to_parquet(tmp_path / "test.parquet")
    data = load(FileSource(path="train.csv", test_path="test.parquet", target="class"),
                SourceContext(base_dir=tmp_path))  # fmt: skip
    [(tr, te)] = data.splits
    np.testing.assert_array_equal(tr, np.arange(1500))
    np.testing.assert_array_equal(te, np.arange(1500, len(df)))
    assert len(data.X) == len(df) and "test file" in data.origin


def test_fold_column_and_ignored_id_column(tmp_path, datasets_dir):
    df = pd.read_parquet(datasets_dir / "arrhythmia.parquet")  # 279 features, missing values
    df.insert(0, "row_id", np.arange(len(df)))
    df["fold"] = np.arange(len(df)) % 4
    df.to_parquet(tmp_path / "arrhythmia.parquet")
    data = load(FileSource(path="arrhythmia.parquet", target="class", ignore=["row_id"],
                           fold_column="fold"), SourceContext(base_dir=tmp_path))  # fmt: skip
    assert "row_id" not in data.X and "fold" not in data.X and data.X.shape[1] == 279
    assert len(data.splits) == 4
    for k, (tr, te) in enumerate(data.splits):
        assert (te % 4 == k).all() and len(tr) + len(te) == len(df)


def test_relative_paths_use_suite_folder_then_data_root(tmp_path, monkeypatch, datasets_dir):
    (tmp_path / "here.csv").write_text("a,y\n1,x\n")
    assert resolve("here.csv", tmp_path) == (tmp_path / "here.csv").resolve()
    with pytest.raises(BadInput, match="cnae-9.parquet does not exist"):
        resolve("cnae-9.parquet", tmp_path)
    monkeypatch.setenv("AUTOML_BENCH_DATA", str(datasets_dir))
    assert resolve("cnae-9.parquet", tmp_path) == (datasets_dir / "cnae-9.parquet").resolve()
    assert resolve("${AUTOML_BENCH_DATA}/cnae-9.parquet", tmp_path).name == "cnae-9.parquet"
    monkeypatch.delenv("AUTOML_BENCH_DATA")
    with pytest.raises(BadInput, match=r"\$AUTOML_BENCH_DATA, which is not set"):
        resolve("${AUTOML_BENCH_DATA}/cnae-9.parquet", tmp_path)


def test_task_cache_is_reused_across_runs_and_keyed_by_content(tmp_path, anneal):
    path = write_arff(anneal, tmp_path / "anneal.arff")
    ctx = SourceContext(base_dir=tmp_path, cache_root=tmp_path / "cache")
    spec = TaskSpec(name="anneal", file={"path": "anneal.arff", "target": "class"})
    first = taskcache.load(spec, _suite(), ctx)
    assert not first.cache_hit and first.pending
    assert not (tmp_path / "cache").exists()  # nothing stored before the run is valid
    taskcache.commit([first])
    second = taskcache.load(spec, _suite(), ctx)
    assert second.cache_hit and second.digest == first.digest
    pd.testing.assert_frame_equal(second.frame, first.frame)
    # a changed file is a new key: parsed again, never served stale
    path.write_text(path.read_text().replace("@data", "% edited\n@data", 1).replace(
        "@DATA", "% edited\n@DATA", 1))  # fmt: skip
    third = taskcache.load(spec, _suite(), ctx)
    assert not third.cache_hit


def test_cached_task_keeps_its_folds_and_loads_without_scikit_learn(tmp_path, anneal):
    anneal.to_parquet(tmp_path / "anneal.parquet")
    ctx = SourceContext(base_dir=tmp_path, cache_root=tmp_path / "cache")
    spec = TaskSpec(name="anneal", file={"path": "anneal.parquet", "target": "class"})
    first = taskcache.load(spec, _suite(4), ctx)
    taskcache.commit([first])
    assert list((tmp_path / "cache" / "tasks").glob("*/folds-4-0-sklearn*.npz"))
    second = taskcache.load(spec, _suite(4), ctx)
    assert second.cache_hit and second.digest == first.digest  # the same folds, read back
    for (a, b), (c, d) in zip(first.splits, second.splits, strict=True):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)
    # a run's driver loading this cached task starts its jobs without importing scikit-learn
    code = (
        "import sys; from pathlib import Path; from automl_bench.data import taskcache; "
        "from automl_bench.data.sources import SourceContext; from automl_bench.planning.suite import Suite, TaskSpec; "
        f"ctx = SourceContext(base_dir=Path({str(tmp_path)!r}), "
        f"cache_root=Path({str(tmp_path / 'cache')!r})); "
        "spec = TaskSpec(name='anneal', file={'path': 'anneal.parquet', 'target': 'class'}); "
        "s = Suite(name='t', folds=4, constraint={'budget_s': 5}, frameworks=['constant'], "
        "tasks=[{'name': 'x', 'sklearn': {'dataset': 'iris'}}]); "
        "t = taskcache.load(spec, s, ctx); "
        "print(t.cache_hit, t.digest, 'sklearn' in sys.modules)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.stdout.split() == ["True", first.digest, "False"], proc.stderr


def test_all_missing_columns_are_dropped_and_logged(tmp_path, anneal, caplog):
    anneal.to_parquet(tmp_path / "a.parquet")
    spec = TaskSpec(name="anneal", file={"path": "a.parquet", "target": "class"})
    with caplog.at_level("WARNING", logger="automl_bench"):
        t = taskcache.load(spec, _suite(), SourceContext(base_dir=tmp_path))
    assert t.frame.shape[1] == 38 - 6 + 1
    assert "dropped 6 all-missing column(s)" in caplog.text and "a.parquet" in caplog.text
    assert t.profile["fixes"] == t.notes and len(t.notes) == 1


def test_profile_numbers_on_real_data(load_dataset):
    X, y = load_dataset("cnae-9")
    p = profile(X, y)
    assert (p["rows"], p["features"], p["classes"]) == (1080, 856, 9)
    assert p["numeric"] == 856 and p["categorical"] == 0 and p["missing_ratio"] == 0
    assert p["sparsity"] == pytest.approx(0.9922, abs=1e-3)  # MANIFEST: 99.22% zeros
    assert p["imbalance"] == 1.0 and p["features_per_row"] == pytest.approx(856 / 1080)
    X, y = load_dataset("arrhythmia")
    p = profile(X, y)
    assert p["missing_ratio"] == pytest.approx(408 / (452 * 279), rel=1e-3)
    assert p["imbalance"] == pytest.approx(245 / 2)
