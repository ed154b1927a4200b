"""Per-adapter virtual environments, for backends whose pins clash with the main install.

AutoGluon pins ``pandas < 2.4`` and EvalML ``pandas < 2.1`` while the harness runs on pandas
3, so each gets its own venv. The worker protocol is files in, files out, so a job of such an
adapter simply starts ``python -m automl_bench.execution.worker JOB_DIR`` with the venv's interpreter.

``automl-bench env create NAME`` builds ``<envs dir>/NAME`` in three pip steps: the
environment's ``pre`` requirements alone (torch, so the CPU wheel is chosen before anything
asks for "torch" and pulls a CUDA build), then the backend with the worker's runtime needs,
then this project with ``--no-deps`` (editable when run from a source checkout, so the venv
runs the same adapter code as the driver). It then imports the backend and the worker with
the new interpreter and only then writes ``automl-bench-env.json``, the manifest. An
environment counts as installed when its manifest exists, was written for this checkout, and
the backend's package directory is present: cheap enough to check before every job.

The envs directory is ``$AUTOML_BENCH_ENVS`` or ``$XDG_CACHE_HOME/automl-bench/envs``
(``~/.cache/automl-bench/envs``).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import automl_bench
import automl_bench_adapters
from automl_bench.errors import BadInput
from automl_bench.paths import PROJECT_ROOT

MANIFEST = "automl-bench-env.json"

# What automl_bench.execution.worker and automl_bench_adapters.base import inside the env (not the baselines' backends).
WORKER_REQUIREMENTS = (
    "numpy",
    "pandas>=2.0",
    "pyarrow>=14",
    "scikit-learn>=1.4",
    "scipy>=1.10",
    "pydantic>=2.5",
    "pyyaml>=6",
    "psutil>=5.9",
    "rich>=13",
)


@dataclass(frozen=True)
class EnvSpec:
    name: str
    description: str
    requirements: tuple[str, ...]  # pip requirement strings for the backend
    imports: tuple[str, ...]  # modules that must import for the env to work
    distributions: tuple[str, ...]  # whose versions the manifest records
    pre: tuple[str, ...] = ()  # installed alone, first
    notes: tuple[str, ...] = field(default_factory=tuple)


# torch: 2.13.0 exactly, so pip takes the CPU wheel on this team's machines (see the README).
# Override with AUTOML_BENCH_TORCH (a requirement string, or empty to leave torch out:
# AutoGluon then skips its neural-network models and says so in its log).
_TORCH = os.environ.get("AUTOML_BENCH_TORCH", "torch==2.13.0")

SPECS: dict[str, EnvSpec] = {
    s.name: s
    for s in (
        EnvSpec(
            name="autogluon",
            description="AutoGluon tabular (pins pandas<2.4) with LightGBM, CatBoost, XGBoost, torch",
            pre=(_TORCH,) if _TORCH else (),
            requirements=("autogluon.tabular[lightgbm,catboost,xgboost]>=1.2",),
            imports=("autogluon.tabular", "lightgbm", "catboost", "xgboost"),
            distributions=("autogluon.tabular", "pandas", "torch", "lightgbm", "catboost"),
            notes=(
                "fastai extra left out: it pulls a torchvision that does not load beside torch 2.13",
            ),
        ),
        EnvSpec(
            name="evalml",
            description="EvalML (pins pandas<2.1, so numpy<2 and a pyarrow built for numpy 1)",
            requirements=("evalml>=0.84", "numpy<2", "pyarrow>=14,<20"),
            imports=("evalml", "evalml.automl"),
            distributions=("evalml", "pandas", "numpy", "scikit-learn", "woodwork"),
        ),
    )
}


def envs_dir() -> Path:
    if os.environ.get("AUTOML_BENCH_ENVS"):
        return Path(os.environ["AUTOML_BENCH_ENVS"])
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "automl-bench" / "envs"


def spec(name: str) -> EnvSpec:
    if name not in SPECS:
        raise BadInput(f"unknown environment {name!r}; known: {', '.join(sorted(SPECS))}")
    return SPECS[name]


def env_path(name: str, root: Path | None = None) -> Path:
    return (root or envs_dir()) / name


def python_of(name: str, root: Path | None = None) -> Path:
    return env_path(name, root) / "bin" / "python"


def manifest(name: str, root: Path | None = None) -> dict | None:
    path = env_path(name, root) / MANIFEST
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _source_root() -> Path | None:
    """The checkout this harness runs from (None when installed from a wheel)."""
    return PROJECT_ROOT if (PROJECT_ROOT / "pyproject.toml").exists() else None


def _site_packages(env: Path) -> list[Path]:
    return sorted(env.glob("lib/python*/site-packages"))


def _find_spec(name: str):
    try:
        return importlib.util.find_spec(name)
    except ModuleNotFoundError:  # "a.b" whose parent "a" is absent
        return None


def unmet(req) -> list[str]:
    """What an adapter's ``Requirements`` lack on this machine (empty when runnable).

    An adapter with its own ``environment`` is installed when that environment exists and
    holds its packages; the main interpreter needs none of them.
    """
    if req.environment:
        out = missing(req.environment, req.packages)
    else:
        out = [p for p in req.packages if _find_spec(p) is None]
    if req.java and shutil.which("java") is None:
        out.append("java")
    return out


def python_for(req) -> str | None:
    """The interpreter that runs the jobs of an adapter with ``Requirements`` ``req`` (None:
    the harness's own)."""
    return str(python_of(req.environment)) if req.environment else None


def missing(name: str, packages: tuple[str, ...] = (), root: Path | None = None) -> list[str]:
    """What keeps environment ``name`` from running jobs here (empty: ready).

    Cheap: reads the manifest and looks for the packages' directories, imports nothing.
    """
    env = env_path(name, root)
    info = manifest(name, root)
    if info is None or not python_of(name, root).exists():
        return [f"environment {name} ({env})"]
    src = _source_root()
    if info.get("source") and src and Path(info["source"]) != src:
        return [f"environment {name} built for the checkout {info['source']}, not {src}"]
    out = []
    for pkg in packages:
        rel = Path(*pkg.split("."))
        if not any(
            (sp / rel).exists() or (sp / f"{rel}.py").exists() for sp in _site_packages(env)
        ):
            out.append(f"{pkg} in environment {name}")
    return out


def _run(cmd: list[str], log) -> None:
    log.write(f"$ {' '.join(cmd)}\n")
    log.flush()
    proc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise EnvError(f"command failed with exit code {proc.returncode}: {' '.join(cmd)}")


class EnvError(RuntimeError):
    """Building an environment failed; the message names the step, the log has the output."""


def create(
    name: str,
    root: Path | None = None,
    python: str | None = None,
    force: bool = False,
    log_to=None,
) -> dict:
    """Build environment ``name`` (replacing an existing one only with ``force``)."""
    s = spec(name)
    env = env_path(name, root)
    if env.exists():
        if not force and manifest(name, root) is not None and not missing(name, (), root):
            raise BadInput(f"environment {name} already exists at {env}; use --force to rebuild")
        shutil.rmtree(env)
    env.parent.mkdir(parents=True, exist_ok=True)
    log_path = env.parent / f"{name}.log"
    with open(log_path, "w") as log:
        tee = _Tee(log, log_to)
        base = python or sys.executable
        try:
            _run([base, "-m", "venv", str(env)], tee)
            py = str(python_of(name, root))
            pip = [py, "-m", "pip", "install", "--disable-pip-version-check"]
            _run([*pip, "--upgrade", "pip"], tee)
            if s.pre:
                _run([*pip, *s.pre], tee)
            _run([*pip, *WORKER_REQUIREMENTS, *s.requirements], tee)
            src = _source_root()
            if src is not None:
                _run([*pip, "--no-deps", "-e", str(src)], tee)
            else:  # installed from a wheel: copy the two pure-Python packages in
                sp = _site_packages(env)[0]
                for pkg in (automl_bench, automl_bench_adapters):
                    src_dir = Path(pkg.__file__).parent
                    shutil.copytree(src_dir, sp / pkg.__name__, dirs_exist_ok=True)
            check = "import automl_bench.execution.worker, automl_bench_adapters.base; " + "; ".join(
                f"import {m}" for m in s.imports
            )
            _run([py, "-c", check], tee)
            versions = _versions(py, s.distributions)
        except BaseException as e:
            tee.write(f"\nfailed: {e}\n")
            raise EnvError(f"creating environment {name} failed: {e}; log: {log_path}") from e
    info = {
        "name": name,
        "python": str(python_of(name, root)),
        "base_python": base,
        "source": str(src) if src else None,
        "editable": src is not None,
        "requirements": [*s.pre, *WORKER_REQUIREMENTS, *s.requirements],
        "versions": versions,
        "created_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "log": str(log_path),
    }
    tmp = env / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(info, indent=1))
    tmp.replace(env / MANIFEST)
    return info


def _versions(py: str, dists: tuple[str, ...]) -> dict:
    code = (
        "import json, sys\n"
        "from importlib.metadata import version, PackageNotFoundError\n"
        "out = {}\n"
        "for d in sys.argv[1:]:\n"
        "    try: out[d] = version(d)\n"
        "    except PackageNotFoundError: out[d] = None\n"
        "print(json.dumps(out))\n"
    )
    res = subprocess.run([py, "-c", code, *dists], capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def version_in(name: str, dist: str, root: Path | None = None) -> str | None:
    """The version of ``dist`` recorded when environment ``name`` was created."""
    return ((manifest(name, root) or {}).get("versions") or {}).get(dist)


def listing(root: Path | None = None) -> list[dict]:
    rows = []
    for name, s in sorted(SPECS.items()):
        info = manifest(name, root)
        gone = missing(name, s.imports[:1], root)
        rows.append(
            {
                "name": name,
                "status": "ready" if not gone else "missing: " + "; ".join(gone),
                "path": str(env_path(name, root)),
                "versions": (info or {}).get("versions", {}),
                "description": s.description,
            }
        )
    return rows


class _Tee:
    """Writes to the build log and, optionally, echoes to a console-like stream."""

    def __init__(self, log, echo=None):
        self.log, self.echo = log, echo

    def write(self, text: str) -> None:
        self.log.write(text)
        if self.echo is not None:
            self.echo.write(text)

    def flush(self) -> None:
        self.log.flush()

    def fileno(self):
        return self.log.fileno()
