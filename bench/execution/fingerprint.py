"""The machine and software a run used, recorded with every run (and hashed per row)."""

from __future__ import annotations

import hashlib
import json
import os
import platform
from functools import cache
from importlib.metadata import PackageNotFoundError, version

import psutil

import automl_bench

PACKAGES = (
    "numpy", "pandas", "scikit-learn", "xgboost", "lightgbm", "flaml", "h2o", "openml",
    "autogluon.tabular", "evalml", "pyarrow",
)  # fmt: skip


def _cpu_model() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


@cache
def describe() -> dict:
    versions = {}
    for p in PACKAGES:
        try:
            versions[p] = version(p)
        except PackageNotFoundError:
            continue
    return {
        "app_version": automl_bench.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "memory_mb": psutil.virtual_memory().total // 2**20,
        "packages": versions,
    }


def fingerprint() -> str:
    return hashlib.sha256(json.dumps(describe(), sort_keys=True).encode()).hexdigest()[:12]
