"""Run the CLI inside the test process: same code as `python -m automl_bench` after the
interpreter starts, without paying for a new interpreter and its imports (useful for the
quick bad-input checks; end-to-end tests still use conftest.run_cli)."""

from __future__ import annotations

import contextlib
import io


def main(*argv) -> tuple[int, str, str]:
    from automl_bench import cli

    o, e = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(o), contextlib.redirect_stderr(e):
        cli.out.file, cli.err.file = o, e
        try:
            code = cli.main([str(a) for a in argv])
        except SystemExit as stop:  # argparse refused the command line (exit 2, as the CLI)
            code = stop.code
        finally:
            cli.out.file, cli.err.file = None, None
    return code, o.getvalue(), e.getvalue()
