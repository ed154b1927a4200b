"""Framework variants: YAML names mapped to adapter classes plus parameters.

Variants come from ``adapters/frameworks.yaml`` (shipped), from an optional user file named
by ``AUTOML_BENCH_FRAMEWORKS``, and from third-party packages through the entry-point group
``automl_bench.adapters`` (each entry point becomes a variant of the same name).
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from functools import cache
from importlib.metadata import PackageNotFoundError, entry_points, version
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from automl_bench.errors import BadInput
from automl_bench.paths import frameworks_file
from automl_bench.planning import backend_envs
from automl_bench.yamlio import describe_validation_error, read_yaml

ENTRY_POINT_GROUP = "automl_bench.adapters"


class VariantSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    adapter: str = Field(pattern=r"^[\w.]+:\w+$", description="module:Class")
    description: str = ""
    params: dict[str, Any] = Field(default_factory=dict)


@dataclass(frozen=True)
class Variant:
    name: str
    adapter: str  # "module:Class"
    params: dict
    description: str = ""
    origin: str = ""

    def adapter_class(self):
        module, _, cls = self.adapter.partition(":")
        return getattr(importlib.import_module(module), cls)

    def status(self) -> tuple[bool, str]:
        """(runnable, reason). Imports only the adapter module, never the backend."""
        try:
            cls = self.adapter_class()
        except Exception as e:  # a broken third-party plugin must not break `list`
            return False, f"adapter {self.adapter} cannot be imported: {e}"
        missing = backend_envs.unmet(cls.requirements)
        if missing:
            return False, f"missing {', '.join(missing)}: {cls.requirements.install_hint()}"
        return True, "installed"

    def backend_version(self) -> str:
        cls = self.adapter_class()
        dist = getattr(cls, "distribution", None) or "scikit-learn"
        env = cls.requirements.environment
        if env:  # the backend lives in its own environment, which recorded its versions
            from automl_bench.planning import backend_envs as envs

            return envs.version_in(env, dist) or "unknown"
        try:
            return version(dist)
        except PackageNotFoundError:
            return "unknown"


def _load_file(path: Path, origin: str) -> dict[str, Variant]:
    data = read_yaml(path) or {}
    if not isinstance(data, dict):
        raise BadInput(f"{path}: expected a mapping of framework names to definitions")
    out = {}
    for name, spec in data.items():
        try:
            v = VariantSpec.model_validate(spec)
        except ValidationError as e:
            raise BadInput(describe_validation_error(f"{path}: framework {name!r}", e)) from None
        out[str(name)] = Variant(str(name), v.adapter, v.params, v.description, origin)
    return out


@cache
def variants() -> dict[str, Variant]:
    found: dict[str, Variant] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        found[ep.name] = Variant(
            ep.name, ep.value, {}, f"plugin from {ep.dist.name if ep.dist else '?'}", "entry point"
        )
    found.update(_load_file(frameworks_file(), "shipped"))
    user = os.environ.get("AUTOML_BENCH_FRAMEWORKS")
    if user:
        found.update(_load_file(Path(user), user))
    return found


def get(name: str) -> Variant:
    known = variants()
    if name not in known:
        raise BadInput(f"unknown framework {name!r}; known: {', '.join(sorted(known))}")
    return known[name]
