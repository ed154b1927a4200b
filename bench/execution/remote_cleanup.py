"""Cleanup of what remote jobs left in a cloud account: every job folder of a run holds the
ledger of the resources its adapter created (:mod:`automl_bench_adapters.remote_ledger`);
whatever a ledger still holds as pending (its job was killed, timed out or crashed before it
could release it) is stopped and deleted here, by the cleaner the entry names, one line per
resource. ``run`` does it first thing on a run directory it resumes; ``automl-bench cleanup
RUN_DIR`` does it alone.

Every ledger is read and checked before anything is released: a malformed one is bad input
naming the file, line and field, and nothing is touched. A cleaner must live in the
adapters' package or in the module of a known framework's adapter (a ledger cannot make the
tool import any other code).
"""

from __future__ import annotations

from pathlib import Path

from automl_bench.errors import BadInput
from automl_bench.planning import registry


def ledgers(run_dir: Path) -> list[Path]:
    from automl_bench_adapters.remote_ledger import LEDGER_NAME

    return sorted((Path(run_dir) / "jobs").glob(f"*/{LEDGER_NAME}"))


def _allowed_modules() -> set[str]:
    return {v.adapter.partition(":")[0] for v in registry.variants().values()}


def _checked(path: Path, allowed: set[str]):
    from automl_bench_adapters.remote_ledger import Ledger, LedgerError

    ledger = Ledger(path)
    try:
        pending = ledger.pending()
    except LedgerError as e:
        raise BadInput(str(e)) from None
    for e in pending:
        module = e.cleaner.partition(":")[0]
        if ":" not in e.cleaner or not (module.startswith("automl_bench_adapters.")
                                        or module in allowed):  # fmt: skip
            raise BadInput(f"{path}: resource {e.key}: field 'cleaner' is {e.cleaner!r}, not "
                           "a function of an adapter this tool knows")  # fmt: skip
    return ledger, pending


def pending(run_dir: Path) -> list[tuple[Path, list]]:
    """(ledger file, its pending entries) for every ledger of the run that has any."""
    allowed = _allowed_modules()
    checked = [_checked(p, allowed) for p in ledgers(run_dir)]
    return [(ledger.path, entries) for ledger, entries in checked if entries]


def clean(run_dir: Path) -> tuple[list[str], bool]:
    """Release everything pending in the run's ledgers: (one line per resource, whether
    every one was released)."""
    from automl_bench_adapters.remote import release
    from automl_bench_adapters.remote_ledger import Ledger

    lines, ok = [], True
    for path, _entries in pending(run_dir):
        for said in release(Ledger(path)):
            ok = ok and ": not released (" not in said
            lines.append(f"{path.parent.name}: {said}")
    return lines, ok
