"""The shipped offline suite hd-real: its data matches its checksums, each dataset (and each
dataset under tests/data) carries its source, licence and citation, it ships as package data,
the suite finds it from anywhere, `make bench` runs it, and a run's report cites it."""

from __future__ import annotations

import fnmatch
import hashlib
import shutil

import pandas as pd
import pytest
from conftest import ROOT, run_cli

from automl_bench.data import catalogue
from automl_bench.paths import shipped_data_dir
from automl_bench.planning.suite import load_suite
from automl_bench.yamlio import read_yaml

DATA = shipped_data_dir() / "hd-real"
FEATURES = {"cnae-9": 856, "micro-mass": 1300, "semeion": 256, "mfeat-factors": 216,
            "arrhythmia": 279}  # fmt: skip


def _sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_checksums_match_the_shipped_checksum_file():
    sums = dict(reversed(line.split("  ")) for line in (DATA / "SHA256SUMS").read_text().splitlines())
    assert set(sums) == {f"{n}.parquet" for n in FEATURES}
    for name, digest in sums.items():
        assert _sha256(DATA / name) == digest, name
    catalogue = read_yaml(DATA / "datasets.yaml")["datasets"]
    assert {d["file"]: d["sha256"] for d in catalogue} == sums


def test_test_data_is_catalogued_with_source_licence_and_citation():
    """tests/data/datasets: every file has its checksum, source, licence and citation, none
    duplicates a shipped dataset, and all the test data stays small."""
    folder = ROOT / "tests" / "data" / "datasets"
    catalogue = read_yaml(folder / "datasets.yaml")["datasets"]
    assert {d["file"] for d in catalogue} == {f.name for f in folder.glob("*.parquet")}
    assert not {d["name"] for d in catalogue} & set(FEATURES)
    for d in catalogue:
        assert _sha256(folder / d["file"]) == d["sha256"], d["name"]
        assert d["licence"] in ("CC BY 4.0", "BSD-3-Clause") and d["licence_url"], d["name"]
        assert d["source"].startswith("https://") and d["citation"], d["name"]
        assert d["derived_from"]["repository"] and len(d["derived_from"]["commit"]) == 40
        df = pd.read_parquet(folder / d["file"])
        assert df.shape == (d["rows"], d["features"] + 1) and df.columns[-1] == "class"
        assert df["class"].nunique() == d["classes"], d["name"]
    size = sum(f.stat().st_size for f in (ROOT / "tests" / "data").rglob("*") if f.is_file())
    assert size < 4 * 2**20


def test_every_dataset_has_source_licence_and_citation():
    catalogue = read_yaml(DATA / "datasets.yaml")
    assert "archive.ics.uci.edu" in catalogue["repository_citation"]
    for d in catalogue["datasets"]:
        assert d["licence"] == "CC BY 4.0" and "creativecommons.org/licenses/by/4.0" in d["licence_url"]
        assert d["source"].startswith("https://archive.ics.uci.edu/dataset/"), d["name"]
        assert "UCI Machine Learning Repository" in d["citation"], d["name"]
        assert d["derived_from"]["repository"] and len(d["derived_from"]["commit"]) == 40
        df = pd.read_parquet(DATA / d["file"])
        assert df.shape == (d["rows"], d["features"] + 1) and df.columns[-1] == "class"
        assert d["features"] == FEATURES[d["name"]]
        assert bool(df.drop(columns="class").isna().any().any()) == d["missing_values"]
        assert df["class"].nunique() == d["classes"]
    assert sum(f.stat().st_size for f in DATA.glob("*.parquet")) < 2.5 * 2**20


def test_data_ships_as_package_data():
    tomllib = pytest.importorskip("tomllib", reason="Python < 3.11 has no tomllib: run the tests with Python 3.11 or later")
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "automl_bench" in config["packages"]
    assert config["package-dir"]["automl_bench"] == "bench"
    patterns = config["package-data"]["automl_bench"]
    for f in DATA.iterdir():
        rel = f.relative_to(ROOT / "bench").as_posix()
        assert any(fnmatch.fnmatch(rel, p) for p in patterns), rel


def test_suite_finds_the_shipped_data_from_a_copy_anywhere(tmp_path):
    suite, _ = load_suite("hd-real")
    assert [t.name for t in suite.tasks] == list(FEATURES)
    assert suite.folds == 2 and {"constant", "flaml", "h2o"} <= set(suite.frameworks)
    copy = tmp_path / "elsewhere" / "my-suite.yaml"
    copy.parent.mkdir()
    shutil.copy(ROOT / "suites" / "hd-real.yaml", copy)
    p = run_cli("list", "tasks", "--suite", copy, cwd=tmp_path,
                env={"AUTOML_BENCH_CACHE": str(tmp_path / "cache")})  # fmt: skip
    assert p.returncode == 0, p.stderr
    for name, n in FEATURES.items():
        assert name in p.stdout and str(n) in p.stdout


def test_make_bench_runs_hd_real():
    make = (ROOT / "Makefile").read_text()
    bench = make.split("\nbench:")[1].split("\n\n")[0]
    assert "run --suite hd-real" in bench


@pytest.fixture(scope="module")
def constant_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("hd-real") / "run"
    p = run_cli("run", "--suite", "hd-real", "--frameworks", "constant", "--folds", 1,
                "--wait-report", "--out", out, env={"AUTOML_BENCH_CACHE": str(out.parent / "cache")})  # fmt: skip
    assert p.returncode == 0, p.stderr[-3000:]
    return out


def test_a_run_reports_each_dataset_source_and_citation(constant_run):
    df = pd.read_csv(constant_run / "results.csv")
    assert sorted(df["task"]) == sorted(FEATURES) and (df["status"] == "ok").all()
    env = (constant_run / "report" / "index.html").read_text().split('id="environment"')[1]
    for d in catalogue.entries().values():
        assert d["source"] in env and d["title"] in env
    assert "Ciarelli, P. &amp; Oliveira, E. (2009). CNAE-9 [Dataset]." in env
    assert env.count("CC BY 4.0") == len(FEATURES)
