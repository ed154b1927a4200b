"""Shared fixtures. Data from ../shared is used where present; CI requires it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("AUTOML_BENCH_SHARED", ROOT.parent / "shared"))


def _shared(sub: str) -> Path:
    path = SHARED / sub
    if not path.exists():
        reason = f"{path} is absent: these tests use the team's shared real data (../shared)"
        if os.environ.get("AUTOML_BENCH_REQUIRE_SHARED"):
            pytest.fail(reason + " and AUTOML_BENCH_REQUIRE_SHARED is set")
        pytest.skip(reason)
    return path


@pytest.fixture(scope="session")
def datasets_dir() -> Path:
    return _shared("datasets")


@pytest.fixture(scope="session")
def openml_cache() -> Path:
    return _shared("openml-cache")


@pytest.fixture(scope="session")
def load_dataset(datasets_dir):
    """load_dataset('semeion') -> (X, y) from ../shared/datasets/<name>.parquet."""

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


def run_cli(*args, cwd=None, env=None, timeout=600) -> subprocess.CompletedProcess:
    """Run the real CLI in a subprocess (as a user would) and capture its output."""
    full_env = {**os.environ, **(env or {})}
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
