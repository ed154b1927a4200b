"""A destination the command cannot write to (the disk filled, a read-only folder, a path
under a file) is the user's to fix, not an internal error: one line naming the path and what
failed, exit 2, and the rows already stored are kept for the rerun."""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

# errors of the destination, not of the program
WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM,
                errno.ENOTDIR, errno.EISDIR, errno.EFBIG, errno.ENAMETOOLONG}  # fmt: skip
_SQLITE_FULL = ("database or disk is full", "attempt to write a readonly database",
                "unable to open database file", "disk i/o error")  # fmt: skip


def describe(e: BaseException, destination: Path | None) -> str | None:
    """The message for a write failure ``e`` (None: ``e`` is not one)."""
    where = getattr(e, "filename", None) or destination
    if isinstance(e, OSError) and e.errno in WRITE_ERRNOS:
        what = e.strerror or str(e)
    elif isinstance(e, sqlite3.OperationalError) and str(e).lower() in _SQLITE_FULL:
        what = str(e)
    else:
        return None
    at = f" {where}" if where else ""
    return (f"cannot write{at}: {what}. Rows already stored are kept: free space or fix the "
            "destination, then rerun the same command to resume")


def destination(args) -> Path | None:
    """Where the command writes, as the user gave it (None: not known from its options)."""
    out = getattr(args, "out", None)
    if out is not None:
        return Path(out)
    dirs = getattr(args, "run_dirs", None)
    return Path(dirs[0]) if dirs else None
