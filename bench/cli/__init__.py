"""Command line: ``automl-bench run|race|report|estimate|list|show|env|cleanup`` (also
``python -m automl_bench``).

The top stage: it parses arguments (:mod:`~automl_bench.cli.parser`), hands them to a command
(:mod:`~automl_bench.cli.commands`, :mod:`~automl_bench.cli.run_command`) and turns what
happened into an exit code. It may import every stage below it (run, race, report, results,
execution, planning, data); nothing imports it.

Exit codes: 0 success (failed jobs are results, not errors), 2 bad input (the message names
the file, field or value), 1 internal error.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback

from rich.text import Text

from automl_bench import timeline
from automl_bench.cli import write_failure
from automl_bench.cli.console import err, out
from automl_bench.errors import BadInput

__all__ = ["main", "entry", "out", "err"]


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (tests and wrappers replace it)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass



def _setup_logging() -> None:
    """Warnings and notes from the harness (e.g. validation fixes) go to stderr."""
    logger = logging.getLogger("automl_bench")
    if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
        h = _StderrHandler()
        h.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
        logger.addHandler(h)
        logger.setLevel(logging.INFO)
        logger.propagate = False


def main(argv=None) -> int:
    from automl_bench.cli import commands
    from automl_bench.cli.parser import build_parser
    from automl_bench.cli.run_command import cmd_run

    args = build_parser().parse_args(argv)
    _setup_logging()
    try:
        handlers = {"run": cmd_run, "list": commands.cmd_list, "show": commands.cmd_show,
                    "report": commands.cmd_report, "estimate": commands.cmd_estimate,
                    "env": commands.cmd_env, "race": commands.cmd_race,
                    "check-adapter": commands.cmd_check_adapter,
                    "cleanup": commands.cmd_cleanup}  # fmt: skip
        return handlers[args.command](args)
    except BadInput as e:
        err.print(Text("error: ", "red") + Text(str(e)), highlight=False)
        return 2
    except KeyboardInterrupt:
        err.print("interrupted; finished jobs are stored, rerun the same command to resume")
        return 130
    except Exception as e:
        said = write_failure.describe(e, write_failure.destination(args))
        if said:
            err.print(Text("error: ", "red") + Text(said), highlight=False)
            return 2
        err.print("internal error:\n" + traceback.format_exc(), markup=False, highlight=False)
        return 1


def entry() -> None:
    """The console script and ``python -m automl_bench``: :func:`main`, then exit without tearing
    down numpy, pandas, scikit-learn and pyarrow one object at a time, which takes longer
    than a short command itself. Exit handlers still run and output is flushed; with a
    thread still running the normal exit waits for it."""
    import atexit
    import threading

    code = main()
    timeline.mark("exit")
    if threading.active_count() > 1:
        sys.exit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    logging.shutdown()
    os._exit(code)


if __name__ == "__main__":
    entry()
