"""The datasets that ship inside the package (``bench/datasets/<collection>/``), each with its
source, licence and citation as described in the collection's ``datasets.yaml``."""

from __future__ import annotations

from functools import cache
from pathlib import PurePosixPath

from automl_bench.paths import shipped_data_dir
from automl_bench.yamlio import read_yaml

CATALOGUE = "datasets.yaml"


@cache
def entries() -> dict[str, dict]:
    """``{"<collection>/<file>": entry}`` for every shipped dataset."""
    out = {}
    for cat in sorted(shipped_data_dir().glob(f"*/{CATALOGUE}")):
        data = read_yaml(cat) or {}
        for d in data.get("datasets") or []:
            out[f"{cat.parent.name}/{d['file']}"] = {**d, "collection": cat.parent.name}
    return out


def for_path(path: str) -> dict | None:
    """The shipped dataset a suite's file path names (by its last two parts), if any."""
    parts = PurePosixPath(str(path).replace("\\", "/")).parts
    return entries().get("/".join(parts[-2:])) if len(parts) >= 2 else None


def for_suite(suite: dict | None) -> list[tuple[str, dict]]:
    """(task name, dataset entry) for each task of a suite (as read from YAML) that uses one."""
    out = []
    for t in (suite or {}).get("tasks") or []:
        f = t.get("file") if isinstance(t, dict) else None
        entry = for_path(f.get("path", "")) if isinstance(f, dict) else None
        if entry:
            out.append((t.get("name", entry["name"]), entry))
    return out
