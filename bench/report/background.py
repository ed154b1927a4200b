"""Build a finished run's report in a process of its own, so that neither the run's exit code
nor its results wait for it (like ``git gc --auto``, it carries on after the command).

The process is ``automl-bench report RUN_DIR`` in a new session (a Ctrl-C in the terminal
does not reach it), with its output in ``RUN_DIR/report.log``. A report of an earlier run
in the same directory is removed first, so ``RUN_DIR/report/index.html``, written last,
exists only once this run's report is complete.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

LOG_NAME = "report.log"


def missing_report_packages() -> list[str]:
    """The report's packages (the ``report`` extra) that are not installed."""
    import importlib.util

    names = ("matplotlib", "jinja2", "scikit_posthocs")
    return [n for n in names if importlib.util.find_spec(n) is None]


def start_report(run_dir: Path, options: list[str] = ()) -> tuple[Path, Path]:
    """Start building ``run_dir``'s report (``options``: more arguments of ``report``, e.g.
    ``--metric accuracy``); return (index.html it will write, its log)."""
    run_dir = Path(run_dir)
    html = run_dir / "report" / "index.html"
    html.unlink(missing_ok=True)
    log = run_dir / LOG_NAME
    with open(log, "wb") as f:
        subprocess.Popen(
            [sys.executable, "-m", "automl_bench", "report", str(run_dir.resolve()), *options],
            stdin=subprocess.DEVNULL,
            stdout=f,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
            env={**os.environ, "COLUMNS": os.environ.get("COLUMNS", "160")},
        )
    return html, log
