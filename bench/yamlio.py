"""Read YAML files and turn pydantic validation errors into messages naming file and field."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from bench.errors import BadInput


def read_yaml(path: Path) -> object:
    try:
        text = Path(path).read_text()
    except OSError as e:
        raise BadInput(f"{path}: cannot read file ({e.strerror})") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        where = ""
        mark = getattr(e, "problem_mark", None)
        if mark is not None:
            where = f" at line {mark.line + 1}, column {mark.column + 1}"
        problem = getattr(e, "problem", None) or str(e)
        raise BadInput(f"{path}: invalid YAML{where}: {problem}") from None


def describe_validation_error(path, err: ValidationError) -> str:
    lines = [f"{path}: invalid content"]
    for e in err.errors():
        loc = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in e["loc"])
        loc = loc.replace(".[", "[")
        msg = e["msg"]
        if e["type"] == "extra_forbidden":
            msg = "unknown field"
        value = e.get("input")
        shown = "" if e["type"] in ("missing",) or isinstance(value, dict) else f" (got {value!r})"
        lines.append(f"  {loc or '<top>'}: {msg}{shown}")
    return "\n".join(lines)
