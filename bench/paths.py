"""Where the project's shipped files live, with environment overrides."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def suites_dir() -> Path:
    return Path(os.environ.get("AUTOML_BENCH_SUITES", PROJECT_ROOT / "suites"))


def results_dir() -> Path:
    return Path(os.environ.get("AUTOML_BENCH_RESULTS", PROJECT_ROOT / "results"))


def frameworks_file() -> Path:
    return Path(__file__).resolve().parent.parent / "adapters" / "frameworks.yaml"


def shipped_data_dir() -> Path:
    """Datasets that ship inside the package (``bench/datasets``), e.g. ``hd-real/``."""
    return Path(__file__).resolve().parent / "datasets"
