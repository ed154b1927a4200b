"""Where shipped files are read from and where outputs go, with environment overrides.

Shipped suites are package data: an installed package holds them in ``automl_bench/suites/``
(``pyproject.toml`` maps the repository's ``suites/`` there), a source checkout reads its
``suites/`` folder. Data files a suite names relative to itself travel with it. Outputs go
below the current directory (``./results/<suite>``, ``./reports/<names>``), never into the
installation.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parent  # the checkout, when running from source


def shipped_suites_dir() -> Path:
    installed = PACKAGE_DIR / "suites"
    return installed if installed.is_dir() else PROJECT_ROOT / "suites"


def suites_dir() -> Path:
    return Path(os.environ.get("AUTOML_BENCH_SUITES") or shipped_suites_dir())


def results_dir() -> Path:
    return Path(os.environ.get("AUTOML_BENCH_RESULTS") or Path.cwd() / "results")


def reports_dir() -> Path:
    return Path(os.environ.get("AUTOML_BENCH_REPORTS") or Path.cwd() / "reports")


def frameworks_file() -> Path:
    """The shipped framework definitions, beside the adapters (package data of
    ``automl_bench_adapters``, the repository's adapters/ folder)."""
    import automl_bench_adapters

    return Path(automl_bench_adapters.__file__).resolve().parent / "frameworks.yaml"


def shipped_data_dir() -> Path:
    """Datasets that ship inside the package (``bench/datasets``), e.g. ``hd-real/``."""
    return PACKAGE_DIR / "datasets"
