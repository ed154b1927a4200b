"""Whether a path can be read as a file, said the way an error message needs it. No data
library is imported here: suite files are checked with it before any is loaded."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path


def path_problem(p: Path) -> str | None:
    """Why ``p`` cannot be read as a data file (None: it can): not there, a directory, a
    symbolic link loop, unreadable."""
    try:
        st = os.stat(p)
    except FileNotFoundError:
        try:
            os.lstat(p)
            return "is a symbolic link to a file that does not exist"
        except OSError:
            return "does not exist"
    except NotADirectoryError:
        return "does not exist (a part of the path is a file, not a directory)"
    except OSError as e:
        if e.errno == errno.ELOOP:
            return "is a symbolic link loop"
        return f"cannot be read ({e.strerror})"
    if stat.S_ISDIR(st.st_mode):
        return "is a directory, not a file"
    if not stat.S_ISREG(st.st_mode):
        return "is not a regular file"
    if not os.access(p, os.R_OK):
        return "is not readable (permission denied)"
    return None
