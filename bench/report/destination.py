"""Where a report may write: a new or empty directory, one a report of ours was written into
(it holds our marker), or the ``report`` folder of one of our run directories. A directory
holding anything else (the user's own files) is refused before anything is created, naming it;
so is one holding a symbolic link (the tool never makes one, so it was planted).
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from automl_bench.errors import BadInput
from automl_bench.results import rundir

MARKER = ".automl-bench-report.json"


def _ours(out: Path) -> bool:
    """The directory holds our report marker, or it is the report folder of our run."""
    if rundir.read_marker(out, MARKER, "report") is not None:
        return True
    return out.name == "report" and rundir.read_marker(out.parent) is not None


def check(out: Path) -> None:
    """BadInput unless a report may be written into ``out``. Writes nothing."""
    out = Path(out)
    rundir.check_writable_target(out)
    names = rundir.listing(out)
    if not names:
        return
    if not _ours(out):
        raise BadInput(f"--out {out}: directory holds files automl-bench did not write "
                       f"({rundir.some_names(names)}); a report writes only into a new or "
                       "empty directory or one it wrote before: choose another --out")  # fmt: skip
    rundir.check_no_links(out)


def claim(out: Path) -> None:
    """Create ``out`` and its marker (kept if present): call after :func:`check`."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if not (out / MARKER).exists():
        body = {"tool": "automl-bench", "kind": "report", "token": secrets.token_hex(16)}
        write_file(out / MARKER, json.dumps(body, indent=1))


def write_file(path: Path, data: bytes | str) -> None:
    """Write ``path`` whole through a temporary file created exclusively (a link planted under
    its name is never followed), then put in place atomically (a link at ``path`` is replaced,
    never written through)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")  # two builders never share one
    tmp.unlink(missing_ok=True)  # a crashed builder's leftover, or a planted link: not followed
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "wb") as f:
        f.write(raw)
    os.replace(tmp, path)
