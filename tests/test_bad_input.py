"""Bad input exits 2, names the problem, and writes nothing."""

from __future__ import annotations

import pytest
from conftest import run_cli

GOOD = """
name: bad-check
folds: 2
constraint: {budget_s: 5, cores: 1, memory_mb: 1024}
frameworks: [constant]
tasks:
  - name: iris
    sklearn: {dataset: iris}
"""

CASES = {
    "unknown framework": (GOOD.replace("[constant]", "[constant, nosuchautoml]"), "nosuchautoml"),
    "negative budget": (GOOD.replace("budget_s: 5", "budget_s: -3"), "constraint.budget_s"),
    "unknown key": (GOOD.replace("folds: 2", "folds: 2\nfoldz: 3"), "foldz: unknown field"),
    "invalid yaml": (
        GOOD.replace("frameworks: [constant]", "frameworks: [constant"),
        "invalid YAML",
    ),
    "two sources": (
        GOOD + "    generated: {rows: 50, features: 5, informative: 3, classes: 2}\n",
        "exactly one source",
    ),  # fmt: skip
    "missing target column": (
        GOOD.replace("sklearn: {dataset: iris}", "file: {path: data.csv, target: label}"),
        "target column 'label' not found",
    ),
    "missing data file": (
        GOOD.replace("sklearn: {dataset: iris}", "file: {path: nowhere.csv, target: y}"),
        "nowhere.csv does not exist",
    ),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_bad_suite(case, tmp_path):
    text, expected = CASES[case]
    (tmp_path / "data.csv").write_text("a,b,y\n1,2,x\n3,4,z\n5,6,x\n7,8,z\n")
    suite = tmp_path / "suite.yaml"
    suite.write_text(text)
    out = tmp_path / "run"
    proc = run_cli("run", "--suite", suite, "--out", out)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert expected in proc.stderr
    assert str(suite) in proc.stderr.replace("\n", "")
    assert not out.exists()


def test_cli_budget_must_be_positive(tmp_path):
    suite = tmp_path / "suite.yaml"
    suite.write_text(GOOD)
    proc = run_cli("run", "--suite", suite, "--out", tmp_path / "run", "--budget", "-1")
    assert proc.returncode == 2 and "--budget" in proc.stderr
    assert not (tmp_path / "run").exists()


def test_run_directory_that_is_a_file_exits_2(tmp_path):
    suite = tmp_path / "suite.yaml"
    suite.write_text(GOOD)
    taken = tmp_path / "taken"
    taken.write_text("not ours\n")
    for out in (taken, taken / "run"):
        proc = run_cli("run", "--suite", suite, "--out", out)
        assert proc.returncode == 2, proc.stdout + proc.stderr
        msg = " ".join(proc.stderr.split())
        assert str(taken) in msg and ("existing file" in msg or f"{taken} is a file" in msg), msg
        assert "Traceback" not in proc.stderr
    assert taken.read_text() == "not ours\n"  # left as it was


def test_list_without_argument_lists_frameworks_and_suites():
    proc = run_cli("list")
    assert proc.returncode == 0, proc.stderr
    assert "Frameworks" in proc.stdout and "constant" in proc.stdout
    assert "Suites" in proc.stdout and "smoke" in proc.stdout


def test_unknown_suite_name():
    proc = run_cli("run", "--suite", "no-such-suite")
    assert proc.returncode == 2 and "unknown suite 'no-such-suite'" in proc.stderr


def test_every_command_has_help():
    for args in (["--help"], ["run", "--help"], ["list", "--help"], ["show", "--help"]):
        proc = run_cli(*args)
        assert proc.returncode == 0 and "usage" in proc.stdout
