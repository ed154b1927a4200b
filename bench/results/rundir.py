"""A run directory is ours or refused.

``run`` writes only into a new or empty directory, or into one that holds a run made by this
tool: its marker file (``MARKER``) records the suite's content digest, every task's data
digest, the constraint (budget or budgets, cores, memory) and the token that every job
process of the run carries in its environment. A run into a directory whose marker says
otherwise is refused, naming what changed, so two suites, two versions of a dataset or two
machine shapes never mix in one results table. Budgets are an axis of the results (every row
carries its own): a run may add budgets to the ones it has, never drop one
(:func:`automl_bench.planning.budgets.change`). A directory holding anything else (the user's own
files, ``/``) is refused before anything is written.

The store is checked too: a ``results.sqlite`` that is not an intact SQLite database (a file
truncated to 0 bytes or cut in half) is reported as damaged, never rebuilt silently over a
``results.csv`` that still holds the results.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import secrets
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from automl_bench.errors import BadInput
from automl_bench.planning import budgets

MARKER = ".automl-bench-run.json"
FORMAT = 1
SQLITE_HEADER = b"SQLite format 3\x00"
CONSTRAINT_FIELDS = ("budget_s", "cores", "memory_mb")  # and budgets, when there are several


@dataclass
class RunIdentity:
    """What a run directory's results depend on: mixing two of these is refused."""

    suite_name: str
    suite_digest: str
    data: dict[str, str]  # task name -> content digest of its data and folds
    constraint: dict  # budget_s, cores, memory_mb (and budgets, when there are several)
    token: str = field(default_factory=lambda: secrets.token_hex(16))
    content_digest: str = ""  # the suite's digest without its budgets (compared on their own)

    def to_json(self) -> dict:
        return {
            "tool": "automl-bench", "format": FORMAT, "suite": self.suite_name,
            "suite_digest": self.suite_digest, "suite_content": self.content_digest,
            "data": self.data, "constraint": self.constraint, "token": self.token,
        }  # fmt: skip


def suite_digest(suite) -> str:
    """Digest of what a suite's results depend on (not its frameworks or description: adding
    a framework to a suite and resuming is allowed)."""
    body = suite.model_dump(mode="json", exclude={"frameworks", "description"})
    body["constraint"].pop("budgets", None)  # a single-budget suite digests as it always did
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:24]


def content_digest(suite) -> str:
    """Digest of the suite without its budgets: a run may add budgets (see
    automl_bench.planning.budgets.change), so they are compared on their own."""
    body = suite.model_dump(mode="json", exclude={"frameworks", "description"})
    body["constraint"].pop("budgets", None)
    body["constraint"].pop("budget_s", None)
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:24]


def identity(suite, constraint, tasks, unavailable=()) -> RunIdentity:
    data = {t.name: t.digest for t in tasks}
    data.update({u.name: "unavailable" for u in unavailable})
    c = {k: getattr(constraint, k) for k in CONSTRAINT_FIELDS}
    if len(budgets.of(constraint)) > 1:
        c["budgets"] = budgets.of(constraint)
    return RunIdentity(suite.name, suite_digest(suite), data, c,
                       content_digest=content_digest(suite))  # fmt: skip


def read_marker(folder: Path, name: str = MARKER, what: str = "run") -> dict | None:
    """The marker ``name`` in ``folder`` (None: there is none); BadInput if it is damaged."""
    p = Path(folder) / name
    try:
        text = p.read_text()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise BadInput(f"{p}: cannot read the {what}'s marker ({e.strerror})") from None
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, dict) or data.get("tool") != "automl-bench":
        raise BadInput(f"{p}: damaged {what} marker (not written by automl-bench); choose "
                       "another --out")  # fmt: skip
    return data


def some_names(names: list[str], most: int = 5) -> str:
    """``'a', 'b' and 3 more``: what a refused directory holds, briefly."""
    shown = ", ".join(repr(n) for n in names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


# ------------------------------------------------------------------ where a run may write


def check_writable_target(run_dir: Path) -> None:
    """BadInput unless ``run_dir`` is (or can be made) a writable directory."""
    p = Path(run_dir)
    try:  # the files a run writes (Parquet, JSON, the store) name their paths in UTF-8
        str(p).encode("utf-8")
    except UnicodeEncodeError:
        raise BadInput(f"--out {str(p)!r}: the path is not valid UTF-8; choose a name that "
                       "is") from None  # fmt: skip
    try:
        st = p.stat()
    except FileNotFoundError:
        st = None
    except NotADirectoryError:
        blocker = next((a for a in p.absolute().parents if a.is_file()), "a part of the path")
        raise BadInput(f"--out {p}: cannot be created: {blocker} is a file, not a "
                       "directory") from None  # fmt: skip
    except OSError as e:
        raise BadInput(f"--out {p}: cannot be used ({_why(e)})") from None
    if st is not None:
        if not p.is_dir():
            raise BadInput(f"--out {p}: is an existing file, not a directory; choose another "
                           "--out")  # fmt: skip
        if not _can_write_in(p):
            raise BadInput(f"--out {p}: directory is not writable")
        return
    # the nearest existing ancestor must be a writable directory
    parent = p.absolute().parent
    while True:
        try:
            parent.stat()
            break
        except FileNotFoundError:
            parent = parent.parent
        except OSError as e:
            raise BadInput(f"--out {p}: cannot be created ({_why(e)} at {parent})") from None
    if not parent.is_dir():
        raise BadInput(f"--out {p}: cannot be created: {parent} is a file, not a directory")
    if not _can_write_in(parent):
        raise BadInput(f"--out {p}: cannot be created: {parent} is not writable")


def _can_write_in(directory: Path) -> bool:
    """Whether a file can be created in ``directory`` (tried with an unnamed temporary file,
    which leaves nothing behind; permission bits alone do not tell for root or a read-only
    mount)."""
    if not os.access(directory, os.W_OK | os.X_OK):
        return False
    import tempfile

    try:
        with tempfile.TemporaryFile(dir=directory):
            return True
    except OSError:
        return False


def _why(e: OSError) -> str:
    if e.errno == errno.ELOOP:
        return "symbolic link loop"
    return e.strerror or type(e).__name__


def listing(run_dir: Path) -> list[str]:
    try:
        return sorted(os.listdir(run_dir))
    except FileNotFoundError:
        return []
    except OSError as e:
        raise BadInput(f"--out {run_dir}: cannot be listed ({_why(e)})") from None


def check(run_dir: Path, ident: RunIdentity) -> dict | None:
    """Refuse (BadInput) a run of ``ident`` into ``run_dir`` unless the directory is new,
    empty, or holds a run of the same suite, data and constraint. Returns the marker found
    (None for a new, empty or older run directory). Writes nothing."""
    run_dir = Path(run_dir)
    check_writable_target(run_dir)
    names = listing(run_dir)
    if not names:
        return None
    marker = read_marker(run_dir)
    if marker is None:  # files named like ours prove nothing: only the marker makes it ours
        if set(names) <= {".lock"}:  # a run stopped between taking its lock and its marker
            return None
        raise BadInput(
            f"--out {run_dir}: directory holds files automl-bench did not write "
            f"({some_names(names)}); a run writes only into a new or empty directory or its "
            "own run directory: choose another --out"
        )
    check_store(run_dir, True)
    check_no_links(run_dir)
    _compare(run_dir, marker, ident)
    ident.token = str(marker.get("token") or ident.token)
    return marker


def check_no_links(folder: Path, option: str = "--out") -> None:
    """BadInput naming the first symbolic link inside ``folder``: the tool never makes one, so
    a link there was planted, and writing a run's or report's file through it would change a
    file outside the folder (links are not followed while looking)."""
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = Path(root) / name
            if path.is_symlink():
                raise BadInput(f"{option} {folder}: {path} is a symbolic link (to "
                               f"{os.readlink(path)}) that automl-bench did not make; it never "
                               "writes through links: remove it or choose another "
                               f"{option}")  # fmt: skip


def _compare(run_dir: Path, marker: dict, ident: RunIdentity) -> None:
    changes = []
    if marker.get("suite") != ident.suite_name:
        changes.append(f"suite {marker.get('suite')!r} -> {ident.suite_name!r}")
    elif not _same_content(marker, ident):
        changes.append(f"suite {ident.suite_name!r} content (tasks, folds or seed)")
    old_c = marker.get("constraint") or {}
    budget_change = budgets.change(budgets.from_marker(old_c),
                                   budgets.from_marker(ident.constraint))  # fmt: skip
    if budget_change:
        changes.append(budget_change)
    for k in CONSTRAINT_FIELDS[1:]:  # cores, memory_mb
        if k in old_c and float(old_c[k]) != float(ident.constraint[k]):
            changes.append(f"{k} {old_c[k]:g} -> {ident.constraint[k]:g}")
    old_data = marker.get("data") or {}
    changed = [n for n, d in ident.data.items()
               if n in old_data and d != old_data[n] and "unavailable" not in (d, old_data[n])]  # fmt: skip
    if changed:
        shown = ", ".join(repr(n) for n in changed[:5])
        changes.append(f"data of task(s) {shown}" + (" ..." if len(changed) > 5 else ""))
    if changes:
        raise BadInput(
            f"--out {run_dir} holds a run with other inputs ({'; '.join(changes)}); its results "
            "would mix with this run's: use another --out to keep both"
        )


def _same_content(marker: dict, ident: RunIdentity) -> bool:
    """Same suite content, budgets apart."""
    return marker.get("suite_content") == ident.content_digest


def claim(run_dir: Path, ident: RunIdentity) -> None:
    """Write (or update) the marker: call once the directory exists, before any result."""
    old = read_marker(run_dir) or {}
    data = {**(old.get("data") or {}), **ident.data}
    body = {**ident.to_json(), "data": data}
    tmp = Path(run_dir) / (MARKER + ".tmp")
    tmp.write_text(json.dumps(body, indent=1, sort_keys=True))
    tmp.replace(Path(run_dir) / MARKER)


# ------------------------------------------------------------------------------ the store


def check_store(run_dir: Path, expect_results: bool = False) -> None:
    """BadInput when the run's results.sqlite is damaged (or missing while results.csv still
    holds rows). ``expect_results``: the directory is known to hold a run."""
    run_dir = Path(run_dir)
    db, csv = run_dir / "results.sqlite", run_dir / "results.csv"
    if not db.exists():
        if expect_results and _csv_rows(csv) > 0:
            raise BadInput(f"{db}: the store is missing but {csv.name} holds "
                           f"{_csv_rows(csv)} results; restore it or choose another --out")  # fmt: skip
        return
    check_database(db)


def _csv_rows(csv: Path) -> int:
    try:
        with open(csv, "rb") as f:
            return max(0, sum(1 for _ in f) - 1)
    except OSError:
        return 0


def check_database(db: Path) -> None:
    """BadInput naming ``db`` and the damage unless it is an intact results store."""
    db = Path(db)
    try:
        size = db.stat().st_size
        with open(db, "rb") as f:
            head = f.read(len(SQLITE_HEADER))
    except OSError as e:
        raise BadInput(f"{db}: cannot read the results store ({_why(e)})") from None
    wal = Path(str(db) + "-wal")
    if size == 0:
        if wal.exists() and wal.stat().st_size > 0:
            return  # not yet checkpointed: SQLite recovers it from the write-ahead log
        raise BadInput(f"{db}: damaged results store (empty file, 0 bytes); the results of "
                       "this run cannot be read from it: restore it or choose another --out")  # fmt: skip
    if head != SQLITE_HEADER:
        raise BadInput(f"{db}: damaged results store (not an SQLite database: bad header)")
    try:
        conn = sqlite3.connect(db, timeout=30)
        try:
            problems = [r[0] for r in conn.execute("PRAGMA quick_check")]
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            if "results" in tables:
                conn.execute("SELECT count(*), max(length(row_json)) FROM results").fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError as e:
        raise BadInput(f"{db}: damaged results store ({e})") from None
    if problems != ["ok"]:
        shown = "; ".join(str(p) for p in problems[:3])
        raise BadInput(f"{db}: damaged results store (integrity check: {shown[:300]})")
    if tables and "results" not in tables:
        raise BadInput(f"{db}: not a results store of automl-bench (no results table)")
