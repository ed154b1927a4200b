"""The two commands' install steps (make's dry run, nothing installed): `make bench` installs
what a run needs and no test tools; `make test` adds the test extra and the opt-in backends'
environments, runs the linters, and keeps pytest's order unless a seed is given."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from conftest import ROOT

pytestmark = pytest.mark.skipif(not shutil.which("make"),
                                reason="make is not installed (apt-get install make)")  # fmt: skip


def _dry_run(*args: str) -> str:
    p = subprocess.run(["make", "-n", "-B", *args], cwd=ROOT, capture_output=True, text=True,
                       timeout=60)  # fmt: skip
    assert p.returncode == 0, p.stderr
    return p.stdout


def test_bench_installs_only_what_a_run_needs():
    out = _dry_run("bench")
    assert "pip install --progress-bar off -e '.[default]'" in out
    assert "[test]" not in out and "env create" not in out and "pytest" not in out
    assert "automl-bench run --suite hd-real" in out


def test_test_adds_the_test_extra_the_envs_and_the_linters():
    out = _dry_run("test")
    assert "-e '.[default]'" in out and "-e '.[test]'" in out
    assert "env create autogluon" in out and "env create evalml" in out
    assert "ruff check ." in out and "lint-imports" in out and "-m pytest" in out
    assert "env create" not in _dry_run("test", "ENVS=")


def test_the_order_is_fixed_unless_asked():
    tomllib = pytest.importorskip("tomllib", reason="Python < 3.11 has no tomllib: run the "
                                  "tests with Python 3.11 or later")  # fmt: skip
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "-p no:randomly" in config["tool"]["pytest"]["ini_options"]["addopts"]
    assert any(r.startswith("pytest-randomly") for r in
               config["project"]["optional-dependencies"]["test"])  # fmt: skip
    ci = (ROOT / ".ci" / "run").read_text()
    assert 'make test ARGS="-p randomly --randomly-seed=$seed"' in ci
