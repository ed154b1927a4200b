"""The built wheel, installed into a fresh virtual environment, runs from any directory.

The wheel is built from a copy of the project's sources (so nothing can come from this
checkout), installed with pip into a new venv, and run from an empty temporary directory:
it must find its shipped suites (and a suite's data file beside it) as package data and
write only to ./results of that directory. To stay fast and offline the new venv borrows
this environment's dependencies (numpy, pandas, ...) through a .pth file written after the
install; automl-bench itself is the wheel's copy, which the test checks.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd
from conftest import ROOT, wait_for_report

SHIPPED_WITH_DATA = """
name: pkg-data
description: a shipped suite whose data file lies beside it
folds: 2
constraint: {budget_s: 10, cores: 1, memory_mb: 1024}
frameworks: [constant]
tasks:
  - name: blobs
    file: {path: pkg-data/blobs.parquet, target: label}
"""


def _build_wheel(tmp: Path) -> Path:
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    for pkg in ("bench", "adapters", "suites"):
        shutil.copytree(ROOT / pkg, src / pkg, ignore=skip)
    # a shipped suite with a data file named relative to itself, laid out as shipped ones are
    (src / "suites" / "pkg-data.yaml").write_text(SHIPPED_WITH_DATA)
    (src / "suites" / "pkg-data").mkdir()
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(60, 3)), columns=["a", "b", "c"])
    frame["label"] = np.repeat(["x", "y", "z"], 20)
    frame.to_parquet(src / "suites" / "pkg-data" / "blobs.parquet")
    # build with this environment's setuptools when it is recent enough (offline)
    recent = int(version("setuptools").split(".")[0]) >= 77
    isolation = ["--no-build-isolation"] if recent else []
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", *isolation, "-w", tmp / "dist",
         src],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Package would be ignored" not in proc.stdout + proc.stderr
    (wheel,) = (tmp / "dist").glob("automl_bench-*.whl")
    return wheel


def test_built_wheel_runs_the_smoke_suite_from_any_directory(tmp_path):
    wheel = _build_wheel(tmp_path)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    python = venv / "bin" / "python"
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index",
         wheel], capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    site = Path(
        subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                       capture_output=True, text=True, check=True).stdout.strip()
    )  # fmt: skip
    # the wheel claims import names of its own only (PyPI's `bench` and `adapters` are others')
    record = next(site.glob("automl_bench-*.dist-info")) / "RECORD"
    tops = {line.split(",")[0].split("/")[0] for line in record.read_text().splitlines()}
    ours = {t for t in tops if not t.endswith(".dist-info") and t != ".."}
    assert ours == {"automl_bench", "automl_bench_adapters"}, ours
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "zz_borrowed_dependencies.pth").write_text("\n".join(sorted(deps)) + "\n")

    work = tmp_path / "anywhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "AUTOML_BENCH_SUITES", "AUTOML_BENCH_RESULTS",
                        "AUTOML_BENCH_REPORTS", "AUTOML_BENCH_FRAMEWORKS")}  # fmt: skip
    env["AUTOML_BENCH_CACHE"] = str(tmp_path / "cache")

    def cli(*args):
        return subprocess.run([venv / "bin" / "automl-bench", *map(str, args)], cwd=work,
                              env=env, capture_output=True, text=True, timeout=600)  # fmt: skip

    code = "import automl_bench as b, automl_bench.paths as p; print(b.__file__); print(p.suites_dir())"
    where = subprocess.run([python, "-c", code], cwd=work, env=env, capture_output=True,
                           text=True, check=True).stdout.split()  # fmt: skip
    assert Path(where[0]).is_relative_to(site)  # the wheel's copy, not the checkout's
    assert Path(where[1]) == site / "automl_bench" / "suites"

    listed = cli("list", "suites")
    assert listed.returncode == 0, listed.stderr
    assert "smoke" in listed.stdout and "pkg-data" in listed.stdout

    run = cli("run", "--suite", "smoke")
    assert run.returncode == 0, run.stdout + run.stderr
    out = work / "results" / "smoke"
    df = pd.read_csv(out / "results.csv")
    assert len(df) == 8 and (df["status"] == "ok").all(), df[["framework", "error_message"]]
    html = wait_for_report(out)  # the report's template is package data too
    assert "leaderboard" in html.read_text().lower()

    shipped = cli("run", "--suite", "pkg-data", "--no-report")
    assert shipped.returncode == 0, shipped.stdout + shipped.stderr
    rows = pd.read_csv(work / "results" / "pkg-data" / "results.csv")
    assert len(rows) == 2 and (rows["status"] == "ok").all()

    # the real-data suite `make bench` runs finds its datasets inside the installed package
    real = cli("run", "--suite", "hd-real", "--frameworks", "constant", "--folds", "1",
               "--no-report", "--no-inference")  # fmt: skip
    assert real.returncode == 0, real.stdout + real.stderr
    rows = pd.read_csv(work / "results" / "hd-real" / "results.csv")
    assert len(rows) == 5 and (rows["status"] == "ok").all(), rows[["task", "error_message"]]

    # nothing was written into the installation (automl_bench/results is the results package: its
    # files are only the wheel's own) or the checkout
    assert not (site / "results").exists()
    record = next(site.glob("automl_bench-*.dist-info")) / "RECORD"
    installed = {line.split(",")[0] for line in record.read_text().splitlines()}
    written = [p.relative_to(site).as_posix() for p in (site / "automl_bench").rglob("*")
               if p.is_file() and "__pycache__" not in p.parts]
    assert set(written) <= installed, sorted(set(written) - installed)
    assert sorted(p.name for p in work.iterdir()) == ["results"]
