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

# the harness's own data packages; every backend's come from its framework definition
PACKAGES = ("numpy", "pandas", "scikit-learn", "pyarrow", "openml")


def packages() -> tuple[str, ...]:
    """Whose versions a run records: the harness's data packages, then each framework
    definition's distributions (its backend's, or those it names)."""
    from automl_bench.planning import registry

    names = list(PACKAGES)
    for v in registry.variants().values():
        try:
            names += v.distributions or (v.distribution(),)
        except Exception:  # noqa: S112 - an unimportable plugin records nothing
            continue
    return tuple(dict.fromkeys(names))


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
    for p in packages():
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
