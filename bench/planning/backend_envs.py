"""Environments of their own, for backends whose requirements the harness's cannot meet.

A framework definition (:mod:`automl_bench.planning.registry`) whose pip requirements the
harness's installed packages do not meet (a pinned release such as ``flaml:2.3.6``, or
AutoGluon and EvalML, which pin an older pandas than the harness runs on) runs in a virtual
environment built from those requirements and named after them (``NAME-HASH``), so two
definitions with the same requirements share one and a change of requirements builds another.
The worker protocol is files in, files out, so a job of such a backend simply starts
``python -m automl_bench.execution.worker JOB_DIR`` with that environment's interpreter.

:func:`create` builds ``<envs dir>/NAME-HASH`` in pip steps: the ``pre`` requirements alone
(torch, so the CPU wheel is chosen before anything asks for "torch" and pulls a CUDA build),
then the backend with the worker's runtime needs, then this project with ``--no-deps``
(editable when run from a source checkout, so the environment runs the same adapter code as
the driver). It then imports the backend and the worker with the new interpreter and only
then writes ``automl-bench-env.json``, the manifest. An environment counts as installed when
its manifest exists, was written for this checkout, and the backend's package directory is
present: cheap enough to check before every job.

The envs directory is ``$AUTOML_BENCH_ENVS`` or ``$XDG_CACHE_HOME/automl-bench/envs``
(``~/.cache/automl-bench/envs``).
"""

from __future__ import annotations

import fcntl
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import automl_bench
import automl_bench_adapters
from automl_bench.errors import BadInput
from automl_bench.paths import PROJECT_ROOT

MANIFEST = "automl-bench-env.json"

# What the worker and the adapters' base import inside an environment (not the backends).
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
    "packaging>=23",
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


def envs_dir() -> Path:
    if os.environ.get("AUTOML_BENCH_ENVS"):
        return Path(os.environ["AUTOML_BENCH_ENVS"])
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "automl-bench" / "envs"


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
    """What an adapter's ``Requirements`` lack in the harness's environment (empty when
    runnable here)."""
    out = [p for p in req.packages if _find_spec(p) is None]
    if req.java and shutil.which("java") is None:
        out.append("java")
    return out


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


class Unresolvable(EnvError):
    """pip found no release meeting a requirement (a bad pin or a typo, not a broken build)."""

    def __init__(self, requirement: str, env: str, log: Path):
        self.requirement = requirement
        super().__init__(f"pip could not resolve {requirement!r} for environment {env} "
                         f"(log: {log})")  # fmt: skip


# what pip prints when no release meets a requirement
_NOT_FOUND = re.compile(r"(?:No matching distribution found for|Could not find a version that "
                        r"satisfies the requirement) (\S+)")  # fmt: skip


def _unresolved(log_path: Path) -> str | None:
    try:
        text = log_path.read_text(errors="replace")
    except OSError:
        return None
    found = _NOT_FOUND.findall(text)
    return found[-1] if found else None


STEPS = 5  # venv, pip itself, pre, backend with the worker's needs, this project


@contextmanager
def building(name: str, root: Path | None = None):
    """Held while environment ``name`` is built: a second process that needs it (two runs
    started together) waits for the first, then finds it ready, instead of building it too."""
    folder = root or envs_dir()
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def create(
    spec: EnvSpec,
    root: Path | None = None,
    python: str | None = None,
    force: bool = False,
    log_to=None,
    progress=None,
    built_for: tuple[str, ...] = (),
) -> dict:
    """Build environment ``spec.name`` (replacing an existing one only with ``force``).

    ``progress(step, total, text)`` is told of each step; ``log_to`` gets pip's output too.
    """
    name = spec.name
    env = env_path(name, root)
    if env.exists():
        if not force and manifest(name, root) is not None and not missing(name, (), root):
            raise BadInput(f"environment {name} already exists at {env}; use --force to rebuild")
        shutil.rmtree(env)
    env.parent.mkdir(parents=True, exist_ok=True)
    log_path = env.parent / f"{name}.log"
    step = progress or (lambda i, n, text: None)
    started = time.monotonic()
    with open(log_path, "w") as log:
        tee = _Tee(log, log_to)
        base = python or sys.executable
        try:
            step(1, STEPS, f"virtual environment ({base})")
            _run([base, "-m", "venv", str(env)], tee)
            py = str(python_of(name, root))
            pip = [py, "-m", "pip", "install", "--disable-pip-version-check"]
            step(2, STEPS, "pip")
            _run([*pip, "--upgrade", "pip"], tee)
            if spec.pre:
                step(3, STEPS, " ".join(spec.pre))
                _run([*pip, *spec.pre], tee)
            step(4, STEPS, " ".join(spec.requirements) + " with the worker's packages")
            _run([*pip, *WORKER_REQUIREMENTS, *spec.requirements], tee)
            step(5, STEPS, "this harness (no dependencies)")
            src = _install_harness(pip, env, tee)
            check = "import automl_bench.execution.worker, automl_bench_adapters.base; " + "; ".join(
                f"import {m}" for m in spec.imports
            )
            _run([py, "-c", check], tee)
            versions = _versions(py, spec.distributions)
        except BaseException as e:
            tee.write(f"\nfailed: {e}\n")
            tee.flush()
            shutil.rmtree(env, ignore_errors=True)  # half-built: never usable; its log stays
            req = _unresolved(log_path)
            if req is not None:
                raise Unresolvable(req, name, log_path) from e
            raise EnvError(f"creating environment {name} failed: {e}; log: {log_path}") from e
    info = {
        "name": name,
        "python": str(python_of(name, root)),
        "base_python": base,
        "source": str(src) if src else None,
        "editable": src is not None,
        "requirements": [*spec.pre, *WORKER_REQUIREMENTS, *spec.requirements],
        "backend_requirements": [*spec.pre, *spec.requirements],
        "built_for": list(built_for),
        "description": spec.description,
        "versions": versions,
        "build_s": round(time.monotonic() - started, 1),
        "created_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "log": str(log_path),
    }
    tmp = env / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(info, indent=1))
    tmp.replace(env / MANIFEST)
    return info


def _install_harness(pip: list[str], env: Path, log) -> Path | None:
    """This project, without its dependencies: editable from a checkout (the environment then
    runs the same adapter code as the driver), else the two pure-Python packages copied in."""
    src = _source_root()
    if src is not None:
        _run([*pip, "--no-deps", "-e", str(src)], log)
        return src
    sp = _site_packages(env)[0]
    for pkg in (automl_bench, automl_bench_adapters):
        shutil.copytree(Path(pkg.__file__).parent, sp / pkg.__name__, dirs_exist_ok=True)
    return None


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


def listing(specs: dict, root: Path | None = None) -> list[dict]:
    """One row per environment: those the definitions need (``specs``: name -> (EnvSpec,
    framework names)) and any other built one found on disk (e.g. for ``flaml:2.3.6``)."""
    rows = []
    for name, (s, frameworks) in sorted(specs.items()):
        gone = missing(name, s.imports[:1], root)
        rows.append(_row(name, root, "ready" if not gone else "missing: " + "; ".join(gone),
                         frameworks, s.description))  # fmt: skip
    folder = root or envs_dir()
    for path in sorted(folder.glob(f"*/{MANIFEST}")) if folder.is_dir() else ():
        name = path.parent.name
        if name not in specs:
            info = manifest(name, root) or {}
            gone = missing(name, (), root)
            rows.append(_row(name, root, "ready" if not gone else "missing: " + "; ".join(gone),
                             info.get("built_for", []), info.get("description", "")))  # fmt: skip
    return rows


def _row(name, root, status, frameworks, description) -> dict:
    info = manifest(name, root) or {}
    return {"name": name, "status": status, "path": str(env_path(name, root)),
            "frameworks": list(frameworks), "versions": info.get("versions", {}),
            "requirements": info.get("backend_requirements"), "description": description}  # fmt: skip


def remove(name: str, root: Path | None = None) -> Path:
    """Delete environment ``name`` and its build log; BadInput when there is none."""
    env = env_path(name, root)
    if not name or "/" in name or name.startswith(".") or not env.is_dir():
        raise BadInput(f"no environment {name!r} in {root or envs_dir()}")
    shutil.rmtree(env)
    (env.parent / f"{name}.log").unlink(missing_ok=True)
    return env


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
