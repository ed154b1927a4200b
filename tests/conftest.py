"""Shared fixtures. All test data lives in the repository: tests/data and the datasets that ship
with the package (bench/datasets/hd-real)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
TEST_DATA = ROOT / "tests" / "data"
# real datasets: the copies the tests need beside the ones the package ships (never both)
DATASET_DIRS = (TEST_DATA / "datasets", ROOT / "bench" / "datasets" / "hd-real")


def pytest_configure(config):
    from skip_gate import SkipGate

    config.pluginmanager.register(SkipGate(ROOT / "tests" / "allowed_skips.yaml", ROOT),
                                  "automl-bench-skip-gate")  # fmt: skip


@pytest.fixture(scope="session")
def datasets_dir(tmp_path_factory) -> Path:
    """One folder with every real dataset the tests use (<name>.parquet), as links to the files
    in tests/data/datasets and bench/datasets/hd-real, so a suite can name it as its data root."""
    root = tmp_path_factory.mktemp("datasets")
    for folder in DATASET_DIRS:
        for f in folder.glob("*.parquet"):
            (root / f.name).symlink_to(f)
    return root


@pytest.fixture(scope="session")
def openml_cache() -> Path:
    """OpenML's cache of task 1882 / dataset 2 (test server layout), from openml-python's tests."""
    return TEST_DATA / "openml-cache"


@pytest.fixture(scope="session")
def load_dataset(datasets_dir):
    """load_dataset('semeion') -> (X, y) from the dataset's Parquet file."""

    def load(name: str, target: str | None = None):
        df = pd.read_parquet(datasets_dir / f"{name}.parquet")
        target = target or _target_column(df)
        return df.drop(columns=[target]), df[target]

    return load


def _target_column(df: pd.DataFrame) -> str:
    for c in ("class", "Class", "target", "label"):
        if c in df.columns:
            return c
    return df.columns[-1]


def kill_slack(load: float, quiet: float = 2.0) -> float:
    """Seconds the driver may take past a job's limit to see it and kill the tree: ``quiet``
    seconds on a quiet machine, scaled by the runnable processes per CPU when the job started (the
    machine's 1-minute load average, as each result row records it): the driver's share of a
    CPU shrinks as the load grows. How prompt the kill is goes to tests/benchmarks/."""
    return quiet * max(1.0, (float(load) + 1) / (os.cpu_count() or 1))


def wait_for_report(run_dir: Path, timeout: float = 300) -> Path:
    """A run builds its report in the background: wait for its index.html (written last)."""
    import time

    html = Path(run_dir) / "report" / "index.html"
    deadline = time.monotonic() + timeout
    while not html.exists():
        log = Path(run_dir) / "report.log"
        text = log.read_text() if log.exists() else ""
        assert "Traceback" not in text and "error:" not in text, text
        assert time.monotonic() < deadline, f"no report after {timeout:g}s:\n{text}"
        time.sleep(0.2)
    return html


def run_cli(*args, cwd=None, env=None, timeout=600, drop=None) -> subprocess.CompletedProcess:
    """Run the real CLI in a subprocess (as a user would) and capture its output: with this
    process's environment, less the variables ``drop(name)`` is true of, plus ``env``."""
    full_env = {k: v for k, v in os.environ.items() if not (drop and drop(k))}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "automl_bench", *map(str, args)],
        cwd=cwd or ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def adapter_env(frameworks_file, *extra_paths) -> dict:
    """Environment for a run that uses TEST ADAPTERS: the framework file naming them, and
    tests/ (where their modules live), the checkout and ``extra_paths`` on PYTHONPATH."""
    parts = [str(ROOT / "tests"), str(ROOT), *map(str, extra_paths), os.environ.get("PYTHONPATH")]
    return {"AUTOML_BENCH_FRAMEWORKS": str(frameworks_file),
            "PYTHONPATH": os.pathsep.join(p for p in parts if p)}  # fmt: skip
