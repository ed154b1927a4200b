"""Framework definitions: a name mapped to everything about a backend.

Definitions come from ``adapters/frameworks.yaml`` (shipped), from an optional user file named
by ``AUTOML_BENCH_FRAMEWORKS``, and from third-party packages through the entry-point group
``automl_bench.adapters`` (each entry point becomes a definition of the same name). A
definition names its adapter class, the adapter's parameters, the backend's pip requirement
(``version``) and any more (``requirements``), and where it runs: in the harness's own
environment, or in one of its own built from those requirements (see
:mod:`automl_bench.planning.backend_envs`). ``extends`` inherits another definition and
overrides what it sets (``params`` key by key).

``NAME:VERSION`` (AMLB's notation, e.g. ``flaml:2.3.6``) is definition NAME with the
backend's version pinned; ``NAME VERSION`` (the label a run gives each version when it runs
two of one backend) names the same thing.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import re
import sys
from dataclasses import dataclass, replace
from functools import cache
from importlib.metadata import PackageNotFoundError, entry_points, version
from pathlib import Path
from typing import Any, Literal

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from automl_bench.errors import BadInput
from automl_bench.paths import frameworks_file
from automl_bench.planning import backend_envs
from automl_bench.planning.backend_envs import EnvSpec
from automl_bench.yamlio import describe_validation_error, read_yaml

ENTRY_POINT_GROUP = "automl_bench.adapters"
ADAPTER_PATTERN = r"^[\w./\\-]+:\w+$"  # module:Class, or file.py:Class


class Definition(BaseModel):
    """One entry of a frameworks file, as written (``extends`` not yet applied)."""

    model_config = ConfigDict(extra="forbid")
    adapter: str | None = Field(None, pattern=ADAPTER_PATTERN,
                                description="module:Class, or file.py:Class beside this file")
    description: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    version: str | None = Field(None, description="the backend's pip requirement, or a "
                                "version of its distribution (e.g. 2.3.6: ==2.3.6)")
    requirements: list[str] | None = Field(None, description="more pip requirements")
    requirements_by_version: dict[str, list[str]] | None = Field(
        None, description="more pip requirements for the pinned versions a specifier matches, "
        "e.g. {'<2.8': ['pandas<3']}: an older release needs what it was released with")
    pre: list[str] | None = Field(None, description="installed alone, first (e.g. a CPU torch)")
    extends: str | None = None
    runs_in: Literal["harness", "own"] | None = Field(
        None, description="harness: its environment; own: one built for this definition; "
        "unset: its own exactly when the harness's packages do not meet the requirements")
    build: Literal["first_use", "env_create"] | None = Field(
        None, description="first_use: a run builds its environment; env_create: only "
        "`automl-bench env create` does (heavy builds)")
    imports: list[str] | None = Field(None, description="modules its environment must import")
    distributions: list[str] | None = Field(None, description="whose versions it records")
    path: list[str] | None = Field(None, description="folders to import the adapter from")
    notes: list[str] | None = None


@dataclass(frozen=True)
class Variant:
    name: str
    adapter: str  # "module:Class"
    params: dict
    description: str = ""
    origin: str = ""
    version: str | None = None  # the backend's pip requirement (or a bare version)
    requirements: tuple[str, ...] = ()
    by_version: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (specifier, requirements)
    pre: tuple[str, ...] = ()
    runs_in: str | None = None
    build: str = "first_use"
    imports: tuple[str, ...] = ()
    distributions: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()  # absolute folders put on sys.path to import the adapter
    notes: tuple[str, ...] = ()
    root: str = ""  # the definition at the top of its extends chain (names its environment)

    @property
    def family(self) -> str:
        """The definition this variant pins a version of (its name without the version)."""
        return re.split(r"[: ]", self.name, maxsplit=1)[0]

    def adapter_class(self):
        for p in self.paths:
            if p not in sys.path:
                sys.path.insert(0, p)
        module, _, cls = self.adapter.partition(":")
        return getattr(importlib.import_module(module), cls)

    def check_adapter(self) -> None:
        """Refuse (BadInput) a definition whose adapter class cannot be imported here, naming
        the framework, where it was defined and the import's error."""
        try:
            self.adapter_class()
        except Exception as e:  # noqa: BLE001 - whatever the module raises is the user's to fix
            where = frameworks_file() if self.origin == "shipped" else self.origin
            raise BadInput(f"{where}: framework {self.name!r}: its adapter {self.adapter} cannot "
                           f"be imported: {type(e).__name__}: {e}") from None

    def distribution(self) -> str:
        return getattr(self.adapter_class(), "distribution", None) or "scikit-learn"

    def version_requirement(self) -> str | None:
        """``version`` as a pip requirement: a bare version pins the adapter's distribution."""
        if not self.version:
            return None
        try:
            return f"{self.distribution()}=={Version(self.version)}"
        except InvalidVersion:
            return self.version

    def backend_requirements(self) -> tuple[str, ...]:
        """Its pip requirements that apply on this platform (markers evaluated)."""
        pinned = _pinned(self.version_requirement())
        more = [r for spec, reqs in self.by_version
                if pinned and SpecifierSet(spec).contains(pinned, prereleases=True) for r in reqs]
        reqs = (self.version_requirement(), *self.requirements, *more)
        return tuple(r for r in (_expand(r) for r in reqs if r) if r and _applies(r))

    def environment(self) -> EnvSpec | None:
        """The environment its jobs run in; None: the harness's own."""
        if self.runs_in == "harness":
            return None
        reqs, pre = self.backend_requirements(), tuple(filter(None, map(_expand, self.pre)))
        if self.runs_in != "own" and all(_installed_meets(r) for r in (*pre, *reqs)):
            return None
        key = hashlib.sha256(json.dumps([pre, reqs]).encode()).hexdigest()[:10]
        cls = self.adapter_class()
        return EnvSpec(
            name=f"{re.sub(r'[^A-Za-z0-9_.-]', '_', self.root or self.family)}-{key}",
            description=", ".join((*pre, *reqs)),
            requirements=reqs,
            imports=self.imports or cls.requirements.packages,
            distributions=self.distributions or (self.distribution(),),
            pre=pre,
            notes=self.notes,
        )

    def python(self) -> str | None:
        """The interpreter that runs its jobs (None: the harness's own)."""
        env = self.environment()
        return str(backend_envs.python_of(env.name)) if env else None

    def status(self) -> tuple[bool, str]:
        """(runnable, reason). Imports only the adapter module, never the backend."""
        try:
            cls = self.adapter_class()
            env = self.environment()
        except Exception as e:  # a broken third-party plugin must not break `list`
            return False, f"adapter {self.adapter} cannot be imported: {e}"
        req = cls.requirements
        if env is not None:
            missing = backend_envs.missing(env.name, req.packages)
            base, ver = split_name(self.name)
            hint = f"automl-bench env create {base}{':' + ver if ver else ''}"
        else:  # the backend itself at its version (its extra requirements may be met
            # otherwise, e.g. xgboost for xgboost-cpu) and the modules the adapter imports
            missing, own = backend_envs.unmet(req), self.version_requirement()
            if not missing and own and not _installed_meets(_expand(own)):
                missing = [f"{own} (installed: {_installed(_expand(own))})"]
            hint = req.install_hint()
        if req.java and env is not None and "java" in backend_envs.unmet(req):
            missing.append("java")
        if missing:
            return False, f"missing {', '.join(missing)}: {hint}"
        return True, "installed" if env is None else f"installed (environment {env.name})"

    def backend_version(self) -> str:
        dist = self.distribution()
        env = self.environment()
        if env is not None:  # its own environment recorded its versions when it was built
            found = backend_envs.version_in(env.name, dist)
            pinned = _pinned(self.version_requirement())
            return found or pinned or "unknown"
        try:
            return version(dist)
        except PackageNotFoundError:
            return "unknown"


def _expand(text: str) -> str:
    """``${VAR:-default}`` and ``${VAR}`` from the environment (a requirement a user may
    override, such as AutoGluon's torch); an empty result drops the requirement."""
    return re.sub(r"\$\{(\w+)(?::-([^}]*))?\}",
                  lambda m: os.environ.get(m[1], m[2] or ""), text).strip()  # fmt: skip


def _applies(req: str) -> bool:
    marker = Requirement(req).marker
    return marker is None or marker.evaluate()


def _installed_meets(req: str) -> bool:
    """Whether the harness's installed packages meet the pip requirement ``req``."""
    r = Requirement(req)
    if r.marker is not None and not r.marker.evaluate():
        return True
    try:
        have = version(r.name)
    except PackageNotFoundError:
        return False
    return r.specifier.contains(have, prereleases=True)


def _installed(req: str) -> str:
    try:
        return version(Requirement(req).name)
    except PackageNotFoundError:
        return "none"


def _pinned(req: str | None) -> str | None:
    if not req:
        return None
    specs = list(Requirement(req).specifier)
    return specs[0].version if len(specs) == 1 and specs[0].operator == "==" else None


# -- reading definitions ------------------------------------------------------------------
def _read_file(path: Path, origin: str) -> dict[str, tuple[Definition, str, Path]]:
    data = read_yaml(path) or {}
    if not isinstance(data, dict):
        raise BadInput(f"{path}: expected a mapping of framework names to definitions")
    out = {}
    for name, spec in data.items():
        try:
            d = Definition.model_validate(spec)
        except ValidationError as e:
            raise BadInput(describe_validation_error(f"{path}: framework {name!r}", e)) from None
        by_version = d.requirements_by_version or {}
        for req in (d.version or "", *(d.requirements or ()), *(d.pre or ()),
                    *(r for reqs in by_version.values() for r in reqs)):  # fmt: skip
            _check_requirement(path, name, req)
        for spec in by_version:
            try:
                SpecifierSet(spec)
            except InvalidSpecifier:
                raise BadInput(f"{path}: framework {name!r}: requirements_by_version: {spec!r} "
                               "is not a version specifier (e.g. '<2.8')") from None
        out[str(name)] = (d, origin, path.resolve().parent)
    return out


def _check_requirement(path: Path, name, req: str) -> None:
    text = _expand(req)
    if not text:
        return
    try:
        Version(text)
        return
    except InvalidVersion:
        pass
    try:
        Requirement(text)
    except InvalidRequirement as e:
        raise BadInput(f"{path}: framework {name!r}: {req!r} is not a pip requirement: {e}") \
            from None


def _resolve(name: str, raw: dict, seen: tuple[str, ...] = ()) -> dict:
    """Definition ``name`` with its ``extends`` chain applied (fields of the nearest win)."""
    d, origin, folder = raw[name]
    if name in seen:
        raise BadInput(f"framework {name!r}: extends itself ({' -> '.join((*seen, name))})")
    fields = {k: v for k, v in d.model_dump(exclude_unset=True).items() if v is not None}
    _absolute_paths(fields, folder)
    if not d.extends:
        return {**fields, "origin": origin, "root": name}
    if d.extends not in raw:
        raise BadInput(f"{origin}: framework {name!r} extends unknown {d.extends!r}")
    base = _resolve(d.extends, raw, (*seen, name))
    fields["params"] = {**base.get("params", {}), **fields.get("params", {})}
    return {**base, **fields, "origin": origin}


def _absolute_paths(fields: dict, folder: Path) -> None:
    """A ``file.py:Class`` adapter and relative ``path`` entries count from the file's folder."""
    paths = [str((folder / p).resolve()) for p in fields.get("path", ())]
    adapter = fields.get("adapter")
    if adapter and adapter.partition(":")[0].endswith(".py"):
        file, _, cls = adapter.partition(":")
        file_path = (folder / file).resolve()
        paths.insert(0, str(file_path.parent))
        fields["adapter"] = f"{file_path.stem}:{cls}"
    if paths:
        fields["path"] = paths


def _variant(name: str, f: dict) -> Variant:
    if not f.get("adapter"):
        raise BadInput(f"{f.get('origin', '?')}: framework {name!r} names no adapter")
    return Variant(
        name=name, adapter=f["adapter"], params=dict(f.get("params", {})),
        description=f.get("description", ""), origin=f.get("origin", ""),
        version=f.get("version"), requirements=tuple(f.get("requirements", ())),
        by_version=tuple((k, tuple(v)) for k, v in f.get("requirements_by_version", {}).items()),
        pre=tuple(f.get("pre", ())), runs_in=f.get("runs_in"), build=f.get("build", "first_use"),
        imports=tuple(f.get("imports", ())), distributions=tuple(f.get("distributions", ())),
        paths=tuple(f.get("path", ())), notes=tuple(f.get("notes", ())), root=f.get("root", name),
    )  # fmt: skip


@cache
def variants() -> dict[str, Variant]:
    found: dict[str, Variant] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        dist = ep.dist.name if ep.dist else "?"
        found[ep.name] = Variant(ep.name, ep.value, {}, f"plugin from {dist}",
                                 f"entry point {ep.name!r} of the package {dist}")  # fmt: skip
    raw = _read_file(frameworks_file(), "shipped")
    user = os.environ.get("AUTOML_BENCH_FRAMEWORKS")
    if user:
        raw.update(_read_file(Path(user), user))
    for name in raw:
        found[name] = _variant(name, _resolve(name, raw))
    return found


def split_name(name: str) -> tuple[str, str | None]:
    """``flaml:2.3.6`` or ``flaml 2.3.6`` -> ("flaml", "2.3.6"); ``flaml`` -> ("flaml", None)."""
    match = re.fullmatch(r"\s*([^: ]+)\s*[: ]\s*(\S+)\s*", name)
    return (match[1], match[2]) if match else (name.strip(), None)


def known(name: str) -> bool:
    return split_name(name)[0] in variants()


def get(name: str) -> Variant:
    known_ = variants()
    if name in known_:
        return known_[name]
    base, ver = split_name(name)
    if base not in known_:
        raise BadInput(f"unknown framework {name!r}; known: {', '.join(sorted(known_))}")
    if ver is None:
        return known_[base]
    v = known_[base]
    return replace(v, name=name, version=_with_version(v, ver), runs_in=None
                   if v.runs_in == "harness" else v.runs_in)  # fmt: skip


def _with_version(v: Variant, ver: str) -> str:
    """The definition's requirement with its version specifier replaced by ``==ver``."""
    try:
        Version(ver)
    except InvalidVersion:
        raise BadInput(f"framework {v.name}:{ver}: {ver!r} is not a version") from None
    req = v.version_requirement()
    if not req:
        return ver
    r = Requirement(req)
    extras = f"[{','.join(sorted(r.extras))}]" if r.extras else ""
    return f"{r.name}{extras}=={ver}"


def labelled(found: list[Variant]) -> list[Variant]:
    """The run's variants, each of a backend that runs at two versions named ``NAME VERSION``
    (e.g. ``flaml 2.8.0`` and ``flaml 2.3.6``) so rows, job ids and reports tell them apart."""
    families: dict[str, int] = {}
    for v in found:
        families[v.family] = families.get(v.family, 0) + 1
    out = []
    for v in found:
        if families[v.family] > 1:
            ver = v.backend_version() if split_name(v.name)[1] is None else split_name(v.name)[1]
            v = replace(v, name=f"{v.family} {ver}")
        out.append(v)
    return out


def environments() -> dict[str, tuple[EnvSpec, list[str]]]:
    """Every environment a definition needs, with the definitions that share it."""
    out: dict[str, tuple[EnvSpec, list[str]]] = {}
    for name, v in sorted(variants().items()):
        try:
            env = v.environment()
        except Exception:  # noqa: S112 - an unimportable plugin has no environment to list
            continue
        if env is not None:
            out.setdefault(env.name, (env, []))[1].append(name)
    return out

