"""In CI (``CI=true``) a skipped test fails the session unless tests/allowed_skips.yaml lists it
with its reason: a test that quietly stops running is a failure there. Elsewhere skips are
only reported (``-ra`` prints each with its reason)."""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path

import pytest
import yaml


def _message(report) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:  # (file, line, "Skipped: reason")
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


class SkipGate:
    def __init__(self, allow_list: Path, root: Path):
        self.allow_list, self.root = allow_list, root
        self.skips: list[tuple[str, str]] = []  # (node id, skip message)
        self.unlisted: list[tuple[str, str]] = []

    def _note(self, report) -> None:
        if report.skipped and not hasattr(report, "wasxfail"):
            self.skips.append((report.nodeid, _message(report)))

    def pytest_runtest_logreport(self, report):
        self._note(report)

    def pytest_collectreport(self, report):  # a module that skips as a whole
        self._note(report)

    def allowed(self, nodeid: str, message: str) -> bool:
        entries = yaml.safe_load(self.allow_list.read_text()) or []
        return any(fnmatch.fnmatch(nodeid, e["test"]) and e.get("says", "") in message
                   for e in entries)  # fmt: skip

    def pytest_sessionfinish(self, session):
        if os.environ.get("CI") != "true":
            return
        self.unlisted = [(n, m) for n, m in self.skips if not self.allowed(n, m)]
        if self.unlisted and session.exitstatus in (pytest.ExitCode.OK,
                                                    pytest.ExitCode.NO_TESTS_COLLECTED):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter):
        if not self.unlisted:
            return
        terminalreporter.section("skips not allowed in CI", red=True)
        for nodeid, message in self.unlisted:
            terminalreporter.line(f"{nodeid}: {message}", red=True)
        where = self.allow_list.relative_to(self.root)
        terminalreporter.line(f"{len(self.unlisted)} skipped test(s) not listed in {where}: "
                              "failing, since CI=true", red=True)  # fmt: skip
