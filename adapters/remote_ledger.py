"""The ledger of a remote backend's resources: what a job created in a cloud account, so that
nothing it started is left running or billed whatever way the job ended.

One JSON object per line, appended and flushed to disk before the call it describes returns:
an ``intent`` line before the call that creates a resource (its kind, name and everything
needed to find it again), a ``created`` line once the call returned, a ``done`` line once
the resource is stopped and deleted (by the adapter at the end of the job, or by the
harness's cleanup after a crash, a timeout or a kill). A resource whose last line is not
``done`` is pending: the cleanup stops and deletes it (a resource that only got its intent
may exist or not; deleting one that does not exist is reported as already gone).

Each resource names its ``cleaner`` (``module:function``): the function that stops and
deletes it, ``cleaner(entry) -> str`` returning one line that says what it did. Cloud
services other than AWS write the same lines with cleaners of their own.

The ledger lives in the job's folder (the parent of the adapter's scratch directory) under
the name :data:`LEDGER_NAME`, so the harness finds every job's ledger of a run directory.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

LEDGER_NAME = "remote-resources.jsonl"
STATES = ("intent", "created", "done")
REQUIRED = ("key", "state")
FIRST_FIELDS = ("kind", "name", "cleaner")


class LedgerError(ValueError):
    """A ledger file that cannot be read: the message names the file, line and field."""


@dataclass
class Entry:
    """One remote resource and the latest state the ledger holds for it."""

    key: str
    kind: str
    name: str
    cleaner: str
    state: str
    params: dict = field(default_factory=dict)
    note: str = ""

    def as_dict(self) -> dict:
        return {"key": self.key, "kind": self.kind, "name": self.name, "cleaner": self.cleaner,
                "state": self.state, "params": dict(self.params)}  # fmt: skip


def ledger_path(scratch_dir) -> Path:
    """Where the job whose scratch directory is ``scratch_dir`` keeps its ledger."""
    return Path(scratch_dir).resolve().parent / LEDGER_NAME


class Ledger:
    """Append-only ledger at ``path`` (created on the first line written)."""

    def __init__(self, path):
        self.path = Path(path)

    def _append(self, obj: dict) -> None:
        line = json.dumps({**obj, "time": round(time.time(), 3)}, sort_keys=True) + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, line.encode())
            os.fsync(fd)
        finally:
            os.close(fd)

    def intent(self, kind: str, name: str, cleaner: str, **params) -> str:
        """Record that a resource is about to be created; return its key."""
        key = uuid.uuid4().hex[:12]
        self._append({"key": key, "state": "intent", "kind": kind, "name": name,
                      "cleaner": cleaner, "params": params})  # fmt: skip
        return key

    def mark(self, key: str, state: str, note: str = "") -> None:
        if state not in STATES:
            raise ValueError(f"unknown ledger state {state!r}")
        self._append({"key": key, "state": state, **({"note": note} if note else {})})

    @contextmanager
    def creating(self, kind: str, name: str, cleaner: str, **params):
        """``with ledger.creating(...) as key: create it``: the intent is on disk before the
        creating call starts, ``created`` once it returned."""
        key = self.intent(kind, name, cleaner, **params)
        yield key
        self.mark(key, "created")

    def entries(self) -> list[Entry]:
        """Every resource in the order it was first recorded, with its latest state."""
        return read(self.path)

    def pending(self) -> list[Entry]:
        return [e for e in self.entries() if e.state != "done"]


def read(path: Path) -> list[Entry]:
    """Parse the ledger at ``path``; a malformed line raises :class:`LedgerError`."""
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as e:
        raise LedgerError(f"{path}: cannot be read ({e})") from None
    found: dict[str, Entry] = {}
    for n, line in enumerate(text.splitlines(), 1):
        if line.strip():
            _apply(found, _parse(path, n, line), path, n)
    return list(found.values())


def _parse(path: Path, n: int, line: str) -> dict:
    try:
        obj = json.loads(line)
    except ValueError as e:
        raise LedgerError(f"{path}: line {n}: not a JSON object ({e})") from None
    if not isinstance(obj, dict):
        raise LedgerError(f"{path}: line {n}: not a JSON object")
    for f in REQUIRED:
        if not isinstance(obj.get(f), str) or not obj[f]:
            raise LedgerError(f"{path}: line {n}: field {f!r} is missing or not a string")
    if obj["state"] not in STATES:
        raise LedgerError(f"{path}: line {n}: field 'state' is {obj['state']!r}, not one of "
                          f"{', '.join(STATES)}")  # fmt: skip
    return obj


def _apply(found: dict, obj: dict, path: Path, n: int) -> None:
    key = obj["key"]
    if key not in found:
        for f in FIRST_FIELDS:
            if not isinstance(obj.get(f), str) or not obj[f]:
                raise LedgerError(f"{path}: line {n}: field {f!r} is missing or not a string "
                                  f"(the first line of resource {key})")  # fmt: skip
        params = obj.get("params", {})
        if not isinstance(params, dict):
            raise LedgerError(f"{path}: line {n}: field 'params' is not an object")
        found[key] = Entry(key, obj["kind"], obj["name"], obj["cleaner"], obj["state"], params)
    else:
        found[key].state = obj["state"]
        found[key].note = str(obj.get("note", ""))
