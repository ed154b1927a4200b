"""One verdict from real runs (real datasets) through the CLI: the terminal and the
report agree on a run with failures, a report over runs with different task sets shows
coverage and compares on the common tasks, the summary names every framework of a tie, and
resumes rerun what an installed or upgraded backend changes."""

from __future__ import annotations

import json
import os
import re
import sqlite3

import pandas as pd
import pytest
from conftest import ROOT, adapter_env, run_cli

TESTS = ROOT / "tests"


def _env(extra_path=None) -> dict:
    return adapter_env(TESTS / "verdict_frameworks.yaml", *([extra_path] if extra_path else []))


def _suite(path, name, tasks, frameworks, datasets_dir, folds=2):
    lines = [f"name: {name}", f"folds: {folds}", "seed: 0",
             "constraint: {budget_s: 10, cores: 1, memory_mb: 2048}",
             f"frameworks: [{', '.join(frameworks)}]", "tasks:"]  # fmt: skip
    for t in tasks:
        lines += [f"  - name: {t}",
                  f"    file: {{path: {datasets_dir / (t + '.parquet')}, target: class}}"]  # fmt: skip
    path.write_text("\n".join(lines) + "\n")
    return path


def _rows(run_dir) -> pd.DataFrame:
    with sqlite3.connect(run_dir / "results.sqlite") as c:
        return pd.DataFrame([json.loads(r) for (r,) in c.execute("SELECT row_json FROM results")])


def _terminal_board(text: str) -> list[tuple[str, float, str]]:
    """(framework, mean rank, accuracy cell) per line of the printed leaderboard, in order."""
    out = []
    for line in text.splitlines():
        cells = [c.strip() for c in re.split(r"[│┃|]", line)]
        cells = [c for c in cells if c]
        if len(cells) >= 5 and re.fullmatch(r"[\d.]+( \*)?", cells[4]) and cells[0] != "framework":
            out.append((cells[0], float(cells[4].rstrip(" *")), cells[1]))
    return out


@pytest.fixture(scope="module")
def failing_run(tmp_path_factory, datasets_dir):
    """segment (19 features) and mfeat-factors (216): fails_on_wide fails twice."""
    d = tmp_path_factory.mktemp("two-failures")
    suite = _suite(d / "suite.yaml", "two-failures", ["segment", "mfeat-factors"],
                   ["constant", "rf", "fails_on_wide"], datasets_dir)  # fmt: skip
    p = run_cli("run", "--suite", suite, "--out", d / "run", "--parallel", "2", "--wait-report",
                env=_env())
    assert p.returncode == 0, p.stdout + p.stderr
    return d / "run", p


def test_terminal_and_report_agree_on_a_run_with_two_failures(failing_run):
    run, p = failing_run
    rows = _rows(run)
    assert (rows["status"] == "failed").sum() == 2
    report = pd.read_csv(run / "report" / "tables" / "leaderboard.csv")
    acc = [f"{a:.4f}" + (" *" if i else "") for a, i in zip(report["acc"], report["imputed"],
                                                              strict=True)]  # fmt: skip
    expected = list(zip(report["framework"], report["mean_rank"].round(3), acc, strict=True))
    shown = run_cli("show", run, env=_env())
    assert shown.returncode == 0, shown.stderr
    for text in (p.stdout, shown.stdout):
        board = _terminal_board(text)
        assert [(f, round(r, 3), a) for f, r, a in board] == expected, (board, expected)
    # the failures take the constant predictor's result and are marked as imputed
    fails = report.set_index("framework").loc["fails_on_wide"]
    assert fails["failures"] == 2 and fails["imputed"] == 2
    assert "fails_on_wide" in shown.stdout and " *" in shown.stdout
    # the report speaks to its reader: nothing about how the tool was built
    for page in ("report.md", "index.html"):
        text = (run / "report" / page).read_text().lower()
        for word in ("issue", "build machine", "during development", "helper", "session"):
            assert word not in text, (page, word)


def test_report_over_runs_with_different_tasks_compares_on_common_ones(
    failing_run, tmp_path, datasets_dir
):
    run_a, _ = failing_run  # segment, mfeat-factors: constant, rf, fails_on_wide
    suite = _suite(tmp_path / "suite.yaml", "other-tasks", ["mfeat-factors", "semeion"],
                   ["constant", "lightgbm"], datasets_dir)  # fmt: skip
    p = run_cli("run", "--suite", suite, "--out", tmp_path / "b", "--parallel", "2",
                "--no-report", env=_env())  # fmt: skip
    assert p.returncode == 0, p.stdout + p.stderr
    out = tmp_path / "report"
    p = run_cli("report", run_a, tmp_path / "b", "--out", out, env=_env())
    assert p.returncode == 0, p.stdout + p.stderr
    cov = pd.read_csv(out / "tables" / "coverage.csv", index_col=0)
    assert cov.loc["segment", "lightgbm"] == "-" and cov.loc["semeion", "rf"] == "-"
    assert cov.loc["mfeat-factors", "lightgbm"] == "2 / 2"
    assert cov.loc["mfeat-factors", "fails_on_wide"] == "0 / 2"
    cells = pd.read_csv(out / "tables" / "scores_imputed.csv")
    assert set(cells["task"]) == {"mfeat-factors"}  # only the task every framework ran
    assert not cells[cells["label"] == "lightgbm"]["imputed"].any()
    md = (out / "report.md").read_text()
    assert "segment: not run by lightgbm" in md and "semeion: not run by fails\\_on\\_wide, rf" in md
    # opting in: every task, missing frameworks imputed with the constant predictor's result
    p = run_cli("report", run_a, tmp_path / "b", "--out", tmp_path / "imputed",
                "--impute-missing", env=_env())  # fmt: skip
    assert p.returncode == 0, p.stdout + p.stderr
    cells = pd.read_csv(tmp_path / "imputed" / "tables" / "scores_imputed.csv")
    assert set(cells["task"]) == {"segment", "mfeat-factors", "semeion"}
    lgbm = cells[cells["label"] == "lightgbm"]
    assert lgbm[lgbm["task"] == "segment"]["imputed"].all()


def test_summary_names_every_framework_of_a_three_way_tie(tmp_path, datasets_dir):
    fw = tmp_path / "frameworks.yaml"
    fw.write_text("".join(
        f"{n}:\n  adapter: automl_bench_adapters.constant:ConstantPredictor\n  description: prior\n"
        for n in ("prior_a", "prior_b", "prior_c")))  # fmt: skip
    suite = _suite(tmp_path / "suite.yaml", "tie", ["segment", "semeion"],
                   ["prior_a", "prior_b", "prior_c"], datasets_dir)  # fmt: skip
    p = run_cli("run", "--suite", suite, "--out", tmp_path / "run", "--parallel", "2",
                "--wait-report", env={"AUTOML_BENCH_FRAMEWORKS": str(fw)})  # fmt: skip
    assert p.returncode == 0, p.stdout + p.stderr
    md = (tmp_path / "run" / "report" / "report.md").read_text()
    assert "prior\\_a, prior\\_b and prior\\_c share the best mean rank (2.00 over 2 tasks)" in md


BACKEND = "verdict_optional_backend"


def _install(site, version: str) -> None:
    (site / f"{BACKEND}.py").write_text("")
    for old in site.glob("verdict_optional_backend-*.dist-info"):
        for f in old.iterdir():
            f.unlink()
        old.rmdir()
    info = site / f"verdict_optional_backend-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: verdict-optional-backend\nVersion: {version}\n")


def test_skipped_jobs_run_once_installed_and_an_upgrade_reruns(tmp_path, datasets_dir):
    site = tmp_path / "site"
    site.mkdir()
    suite = _suite(tmp_path / "suite.yaml", "lifecycle", ["segment"], ["optional_backend"],
                   datasets_dir)  # fmt: skip
    args = ("run", "--suite", suite, "--out", tmp_path / "run", "--no-report")
    p = run_cli(*args, env=_env(site))
    assert p.returncode == 0, p.stdout + p.stderr
    rows = _rows(tmp_path / "run")
    assert list(rows["status"]) == ["skipped", "skipped"]

    _install(site, "1.0")
    p = run_cli(*args, env=_env(site))  # a plain resume
    assert p.returncode == 0, p.stdout + p.stderr
    assert "executed 2 of 2 jobs" in p.stdout
    rows = _rows(tmp_path / "run")
    assert sorted(rows["status"]) == ["ok", "ok"] and set(rows["version"]) == {"1.0"}

    p = run_cli(*args, env=_env(site))  # nothing changed: nothing reruns
    assert "executed 0 of 2 jobs" in p.stdout

    _install(site, "2.0")
    p = run_cli(*args, env=_env(site))
    assert p.returncode == 0, p.stdout + p.stderr
    assert "executed 2 of 2 jobs" in p.stdout
    rows = _rows(tmp_path / "run")
    assert len(rows) == 2 and set(rows["version"]) == {"2.0"}  # replaced, not duplicated
    assert sorted(rows["fold"]) == [0, 1]

    (site / f"{BACKEND}.py").unlink()  # uninstalled again: its results are kept as they are
    for old in site.glob("verdict_optional_backend-*.dist-info"):
        for f in old.iterdir():
            f.unlink()
        old.rmdir()
    p = run_cli(*args, env=_env(site))
    assert p.returncode == 0, p.stdout + p.stderr
    rows = _rows(tmp_path / "run")
    assert sorted(rows["status"]) == ["ok", "ok"] and set(rows["version"]) == {"2.0"}


def _memcg_writable() -> bool:
    from verdict_adapters import MEMCG_ROOT

    return os.path.isdir(MEMCG_ROOT) and os.access(MEMCG_ROOT, os.W_OK)


def test_a_kernel_oom_kill_is_memory_not_a_retried_failure(tmp_path, datasets_dir):
    """A job the kernel's OOM killer ends (here: in a memory cgroup of its own) is stored
    `memory` / OutOfMemory after one attempt, not retried as an infrastructure failure."""
    import sys

    sys.path.insert(0, str(TESTS))
    if not _memcg_writable():
        pytest.skip("needs root and a writable cgroup-v1 memory controller "
                    "(/sys/fs/cgroup/memory) to let the kernel's OOM killer end a job")  # fmt: skip
    suite = _suite(tmp_path / "suite.yaml", "oom", ["segment"],
                   ["killed_by_kernel_oom", "constant"], datasets_dir, folds=2)  # fmt: skip
    try:
        p = run_cli("run", "--suite", suite, "--out", tmp_path / "run", "--folds", "1",
                    "--no-report", env=_env())  # fmt: skip
        assert p.returncode == 0, p.stdout + p.stderr
        rows = _rows(tmp_path / "run").set_index("framework")
        oom = rows.loc["killed_by_kernel_oom"]
        assert (oom["status"], oom["error_type"]) == ("memory", "OutOfMemory"), oom.to_dict()
        assert oom["attempts"] == 1
        assert rows.loc["constant", "status"] == "ok"
    finally:
        from verdict_adapters import MEMCG_ROOT

        for d in os.listdir(MEMCG_ROOT):
            if d.startswith("automl-bench-oom-"):
                try:
                    os.rmdir(os.path.join(MEMCG_ROOT, d))
                except OSError:
                    pass
