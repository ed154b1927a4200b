"""Read YAML files and turn pydantic validation errors into messages naming file and field."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import yaml
from pydantic import ValidationError

from automl_bench.errors import BadInput

MAX_BYTES = 1 << 20  # a suite or framework file larger than this is not a definition
MAX_ALIASES = 100  # alias (*ref) uses per document
MAX_NODES = 100_000  # scalars, sequences and mappings once aliases are expanded
SHOW_CHARS = 200  # at most this much of a bad value is quoted in a message


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader that refuses alias bombs: counts alias uses while composing, then the size
    of the document with every alias expanded, before anything is constructed."""

    def __init__(self, stream):
        super().__init__(stream)
        self.aliases = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise yaml.YAMLError(f"more than {MAX_ALIASES} aliases (*references)")
        return super().compose_node(parent, index)


def _expanded_size(node, memo: dict, active: set) -> int:
    key = id(node)
    if key in memo:
        return memo[key]
    if key in active:
        raise yaml.YAMLError("recursive alias (a value that contains itself)")
    active.add(key)
    n = 1
    if isinstance(node, yaml.SequenceNode):
        for child in node.value:
            n += _expanded_size(child, memo, active)
            if n > MAX_NODES:
                break
    elif isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            n += _expanded_size(k, memo, active) + _expanded_size(v, memo, active)
            if n > MAX_NODES:
                break
    active.discard(key)
    memo[key] = n
    return n


def safe_load_bounded(text: str) -> object:
    loader = _BoundedLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node, {}, set()) > MAX_NODES:
            raise yaml.YAMLError(f"more than {MAX_NODES} values once aliases are expanded")
        return loader.construct_document(node)
    finally:
        loader.dispose()


def shown(value, limit: int = SHOW_CHARS) -> str:
    """A bad value as quoted in a message: a bounded repr, at most ``limit`` characters."""
    import reprlib

    r = reprlib.Repr()
    r.maxstring, r.maxother, r.maxlevel = limit, limit, 3
    r.maxlist = r.maxdict = r.maxtuple = r.maxset = 8
    text = r.repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def read_text_file(path: Path, limit: int = MAX_BYTES, kind: str = "a definition") -> str:
    """The UTF-8 text of the regular file ``path``, at most ``limit`` bytes; BadInput naming
    the file otherwise (``kind``: what the file should be, as the size message names it). A
    pipe, device, socket or directory is refused before anything is read from it (it is
    opened without blocking and looked at through its descriptor, so a named pipe cannot hang
    the command and /dev/zero cannot fill its memory), and the size bound holds before any
    parsing."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as e:
        raise BadInput(f"{path}: cannot read file ({e.strerror})") from None
    mode = os.fstat(fd).st_mode  # before fdopen, which refuses a directory with an OSError
    if not stat.S_ISREG(mode):
        os.close(fd)
        if stat.S_ISDIR(mode):
            raise BadInput(f"{path}: is a directory, not a file")
        raise BadInput(f"{path}: is not a regular file (a pipe, device or socket): give "
                       "the path of a file")  # fmt: skip
    with os.fdopen(fd, "rb") as f:
        try:
            data = f.read(limit + 1)
        except OSError as e:
            raise BadInput(f"{path}: cannot read file ({e.strerror})") from None
    if len(data) > limit:
        raise BadInput(f"{path}: file too large for {kind} (more than {limit:,} bytes)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise BadInput(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None


def read_yaml(path: Path) -> object:
    text = read_text_file(path)
    try:
        return safe_load_bounded(text)
    except RecursionError:
        raise BadInput(f"{path}: invalid YAML: nested too deeply") from None
    except yaml.YAMLError as e:
        where = ""
        mark = getattr(e, "problem_mark", None)
        if mark is not None:
            where = f" at line {mark.line + 1}, column {mark.column + 1}"
        problem = getattr(e, "problem", None) or str(e)
        raise BadInput(f"{path}: invalid YAML{where}: {problem[:SHOW_CHARS]}") from None


def describe_validation_error(path, err: ValidationError) -> str:
    lines = [f"{path}: invalid content"]
    for e in err.errors():
        loc = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in e["loc"])
        loc = loc.replace(".[", "[")
        msg = e["msg"]
        if e["type"] == "extra_forbidden":
            msg = "unknown field"
        value = e.get("input")
        got = "" if e["type"] in ("missing",) or isinstance(value, dict) else f" (got {shown(value)})"
        lines.append(f"  {loc[:SHOW_CHARS] or '<top>'}: {msg[:SHOW_CHARS]}{got}")
        if len(lines) > 20:
            lines.append(f"  ... and {len(err.errors()) - 20} more problems")
            break
    return "\n".join(lines)
