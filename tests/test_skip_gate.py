"""The CI skip gate (tests/skip_gate.py): with CI=true a skip fails the session unless
tests/allowed_skips.yaml lists the test and the skip says what the list says; elsewhere a skip
never fails it. Run on real pytest sessions in a subprocess."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml
from conftest import ROOT
from skip_gate import SkipGate

SKIPS = """
import pytest

def test_ok():
    pass

def test_skips():
    pytest.skip("the widget is not installed: pip install widget")
"""


def _session(tmp_path, ci: bool, allow: list) -> subprocess.CompletedProcess:
    (tmp_path / "test_sample.py").write_text(SKIPS)
    (tmp_path / "allowed.yaml").write_text(yaml.safe_dump(allow))
    tests, allowed = str(ROOT / "tests"), str(tmp_path / "allowed.yaml")
    (tmp_path / "conftest.py").write_text(
        f"import sys; sys.path.insert(0, {tests!r})\n"
        "from pathlib import Path\n"
        "from skip_gate import SkipGate\n"
        "def pytest_configure(config):\n"
        f"    config.pluginmanager.register(SkipGate(Path({allowed!r}), Path({str(tmp_path)!r})),"
        " 'gate')\n"
    )  # fmt: skip
    env = {"PATH": "/usr/bin:/bin", "CI": "true" if ci else "false"}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-ra", "-p", "no:cacheprovider",
                           "-p", "no:randomly", str(tmp_path)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip


@pytest.mark.parametrize("allow, code", [
    ([], 1),
    ([{"test": "*::test_skips", "says": "widget is not installed", "reason": "r"}], 0),
    ([{"test": "*::test_skips", "says": "another reason", "reason": "r"}], 1),
    ([{"test": "*::test_other", "reason": "r"}], 1),
])  # fmt: skip
def test_in_ci_only_a_listed_skip_passes(tmp_path, allow, code):
    p = _session(tmp_path, True, allow)
    assert p.returncode == code, p.stdout
    if code:
        assert "test_sample.py::test_skips: the widget is not installed: pip install widget" in (
            p.stdout
        )


def test_outside_ci_a_skip_is_reported_and_passes(tmp_path):
    p = _session(tmp_path, False, [])
    assert p.returncode == 0, p.stdout
    assert "1 passed, 1 skipped" in p.stdout and "not installed: pip install widget" in p.stdout


def test_the_allow_list_names_a_reason_for_each_entry():
    entries = yaml.safe_load((ROOT / "tests" / "allowed_skips.yaml").read_text())
    assert entries and all(e["test"] and e["reason"] and e.get("says") for e in entries)
    gate = SkipGate(ROOT / "tests" / "allowed_skips.yaml", ROOT)
    oom = "tests/test_verdict_runs.py::test_a_kernel_oom_kill_is_memory_not_a_retried_failure"
    assert gate.allowed(oom, "needs root and a writable cgroup-v1 memory controller (...)")
    assert not gate.allowed(oom, "something else")
