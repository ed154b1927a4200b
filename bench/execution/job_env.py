"""The environment variables a job's processes get: the job's cores in every thread-pool
variable (BLAS, OpenMP, numexpr, Arrow, joblib, Java), the job's directory (so every process
of a job can be found) and the run's token."""

from __future__ import annotations

import os
from pathlib import Path

from automl_bench.execution.ownership import JOB_VARIABLE, TOKEN_VARIABLE

THREAD_VARIABLES = (
    "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS",
    "NUMEXPR_MAX_THREADS", "VECLIB_MAXIMUM_THREADS", "BLIS_NUM_THREADS", "GOTO_NUM_THREADS",
    "ARROW_NUM_THREADS", "LOKY_MAX_CPU_COUNT", "RAYON_NUM_THREADS", "POLARS_MAX_THREADS",
    "AUTOML_BENCH_CORES",
)  # fmt: skip
JOB_MARKER = JOB_VARIABLE  # in every job process's environment (found by tests)


def job_env(cores: int, job_dir: Path, base: dict | None = None, token: str | None = None) -> dict:
    """Variables a job's processes get on top of the driver's environment."""
    base = os.environ if base is None else base
    env = {v: str(cores) for v in THREAD_VARIABLES}
    java = base.get("JAVA_TOOL_OPTIONS", "")
    env["JAVA_TOOL_OPTIONS"] = f"{java} -XX:ActiveProcessorCount={cores}".strip()
    env[JOB_MARKER] = str(job_dir)
    if token:
        env[TOKEN_VARIABLE] = token
    return env


def launcher_env(cores: int) -> dict:
    """A launcher's environment: the driver's, with thread pools sized for ``cores``."""
    return {**os.environ, **{v: str(cores) for v in THREAD_VARIABLES}}
