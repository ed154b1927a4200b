"""Files the tool reads (suites, framework files, prices) must be regular files, read with a
size bound before any parsing: a named pipe, a device or a directory is refused at once with
exit 2 naming it (never a hang, never a read until memory runs out)."""

from __future__ import annotations

import os

import pytest
from conftest import run_cli

TIMEOUT = 120  # a hang fails the test instead of stalling the suite


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "pipe.yaml"
    os.mkfifo(path)
    return path


def _refused(p, named):
    assert p.returncode == 2, p.stdout + p.stderr
    assert str(named) in p.stderr and "Traceback" not in p.stderr


def test_a_named_pipe_as_prices_is_refused(tmp_path, fifo):
    p = run_cli("estimate", "--suite", "smoke", "--prices", fifo, timeout=TIMEOUT)
    _refused(p, fifo)
    assert "not a regular file" in p.stderr


def test_a_named_pipe_as_the_frameworks_file_is_refused(tmp_path, fifo):
    p = run_cli("run", "--suite", "smoke", "--out", tmp_path / "run", "--no-report",
                env={"AUTOML_BENCH_FRAMEWORKS": str(fifo)}, timeout=TIMEOUT)  # fmt: skip
    _refused(p, fifo)
    assert not (tmp_path / "run").exists()


def test_a_device_as_prices_is_refused_without_reading_it(tmp_path):
    p = run_cli("estimate", "--suite", "smoke", "--prices", "/dev/zero", timeout=TIMEOUT)
    _refused(p, "/dev/zero")
    assert "not a regular file" in p.stderr


@pytest.mark.parametrize("kind", ["pipe", "directory"])
def test_a_suite_that_is_not_a_file_is_refused(tmp_path, fifo, kind):
    suite = fifo if kind == "pipe" else tmp_path / "a-folder.yaml"
    if kind == "directory":
        suite.mkdir()
    p = run_cli("run", "--suite", suite, "--out", tmp_path / "run", timeout=TIMEOUT)
    _refused(p, suite)
    assert not (tmp_path / "run").exists()


def test_a_huge_suite_is_refused_by_its_size_before_it_is_parsed(tmp_path):
    suite = tmp_path / "huge.yaml"
    with open(suite, "w") as f:  # 50 MB of valid YAML
        f.write("name: huge\ntasks:\n")
        line = "  - {name: t, generated: {rows: 100, features: 5, classes: 2}}\n"
        f.write(line * (50 * 2**20 // len(line)))
    p = run_cli("run", "--suite", suite, "--out", tmp_path / "run", timeout=TIMEOUT)
    _refused(p, suite)
    assert "too large" in p.stderr
