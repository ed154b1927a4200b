"""Where the command line writes: the user's results on standard output, progress, notes and
errors on standard error. Not a terminal (CI, pipes): full tables, not cut at 80 columns."""

from __future__ import annotations

from rich.console import Console


def _console(stderr: bool = False) -> Console:
    c = Console(stderr=stderr)
    # not a terminal (CI, pipes): print full tables instead of truncating at 80 columns
    return c if c.is_terminal else Console(stderr=stderr, width=160)


out = _console()
err = _console(stderr=True)
