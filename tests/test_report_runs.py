"""Reports from real runs: seven framework variants (two of which fail for real inside the
backend) on two small tasks, a one-task run, and an all-failed run, through the CLI.

Escaping: suites only accept task names matching ^[A-Za-z0-9][A-Za-z0-9_.-]*$, so a task
called ``<script>`` cannot come out of our own runner. A report also reads results the
harness did not produce itself (a results.sqlite / results.csv copied from another machine or
another tool, e.g. an AMLB results.csv, where task names are OpenML dataset names). The test
therefore takes the real run, renames one task in its stored rows to a name carrying
``<script>`` (through the store's own API), and checks the report shows it as text. The error
message carrying ``<script>`` is real: scikit-learn's own parameter validation quotes the bad
value we gave the ``rf_broken`` variant.
"""

from __future__ import annotations

import os
import shutil

import pandas as pd
import pytest
from conftest import ROOT, run_cli, wait_for_report
from inprocess import main

from automl_bench.results.store import Store

SCRIPT = "<script>alert(1)</script>"
FRAMEWORKS_YAML = f"""
rf_small:
  adapter: automl_bench_adapters.random_forest:RandomForest
  description: 25 trees
  params: {{n_estimators: 25}}
rf_broken:
  adapter: automl_bench_adapters.random_forest:RandomForest
  description: an invalid parameter whose value is markup; fails inside scikit-learn
  params: {{max_features: "{SCRIPT}"}}
"""
MAIN_SUITE = """
name: report-main
folds: 2
seed: 0
constraint: {budget_s: 10, cores: 1, memory_mb: 2048, max_infer_1_ms: 1000}
frameworks: [constant, rf_small, xgboost, lightgbm, rf_broken]
tasks:
  - name: iris
    sklearn: {dataset: iris}
  - name: gen-30x3
    generated: {rows: 150, features: 30, informative: 6, classes: 3, seed: 4}
"""
ONE_TASK_SUITE = """
name: report-one-task
folds: 2
seed: 0
constraint: {budget_s: 10, cores: 1, memory_mb: 2048}
frameworks: [constant, rf_small]
tasks:
  - name: iris
    sklearn: {dataset: iris}
"""
ALL_FAILED_SUITE = ONE_TASK_SUITE.replace("report-one-task", "report-all-failed").replace(
    "[constant, rf_small]", "[rf_broken]"
)


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    d = tmp_path_factory.mktemp("report-env")
    (d / "frameworks.yaml").write_text(FRAMEWORKS_YAML)
    return {"AUTOML_BENCH_FRAMEWORKS": str(d / "frameworks.yaml")}


def _run(tmp_path_factory, env, name, suite_text, *extra):
    d = tmp_path_factory.mktemp(name)
    (d / "suite.yaml").write_text(suite_text)
    out = d / "run"
    p = run_cli("run", "--suite", d / "suite.yaml", "--out", out, "--parallel", "2", *extra,
                env=env)  # fmt: skip
    assert p.returncode == 0, p.stdout + p.stderr
    if "--no-report" not in extra and "--wait-report" not in extra:
        wait_for_report(out)
    return out, p


@pytest.fixture(scope="module")
def main_run(tmp_path_factory, env):
    return _run(tmp_path_factory, env, "main", MAIN_SUITE)


def test_run_builds_the_report_by_default(main_run):
    run, p = main_run
    report = run / "report"
    assert f"report: {report / 'index.html'}" in p.stdout.replace("\n", "")
    assert (report / "index.html").stat().st_size > 20_000
    assert (report / "report.md").exists()
    for name in ("leaderboard", "per_task", "win_rates", "ratings", "pareto", "budget",
                 "failures", "cost", "scores_imputed", "nemenyi_pvalues", "deployability"):  # fmt: skip
        assert (report / "tables" / f"{name}.csv").exists(), name
    for png in ("cd_diagram", "win_rates", "ratings", "pareto_time", "pareto_cost", "budget",
                "pareto_latency", "pareto_size"):  # fmt: skip
        assert (report / "img" / f"{png}.png").read_bytes().startswith(b"\x89PNG"), png


def test_failures_are_listed_and_imputed_with_the_constant_result(main_run):
    run, _ = main_run
    tables = run / "report" / "tables"
    board = pd.read_csv(tables / "leaderboard.csv").set_index("framework")
    assert set(board.index) == {"constant", "rf_small", "xgboost", "lightgbm", "rf_broken"}
    assert board.loc["rf_broken", "failures"] == 4 and board.loc["rf_broken", "imputed"] == 4
    # imputed: the broken variant scores exactly what the constant predictor scored
    for metric in ("acc", "logloss", "balacc"):
        assert board.loc["rf_broken", metric] == pytest.approx(board.loc["constant", metric])
    assert board.loc["rf_small", "acc"] > 0.8 and board.loc["rf_small", "failures"] == 0
    assert board.loc["constant", "normalised"] == pytest.approx(0.0)
    assert board["normalised"].max() == pytest.approx(1.0, abs=0.35)
    fails = pd.read_csv(tables / "failures.csv")
    assert set(fails["framework"]) == {"rf_broken"} and set(fails["status"]) == {"failed"}
    assert fails["error_message"].str.contains("max_features").all()
    html = (run / "report" / "index.html").read_text()
    assert "Imputation rule" in html and "4 of 20 framework x task x fold values" in html
    cost = pd.read_csv(tables / "cost.csv").set_index("framework")
    assert cost.loc["total", "cost_usd"] == pytest.approx(cost.loc["total", "vcpu_h"] * 0.048)
    assert cost.loc["total", "vertex-ai-tabular-training_usd"] == pytest.approx(
        cost.loc["total", "wall_h"] * 21.252
    )


@pytest.fixture(scope="module")
def script_report(main_run, tmp_path_factory):
    """The real run, with one task renamed in its stored rows to carry markup."""
    run, _ = main_run
    copy = tmp_path_factory.mktemp("script") / "run"
    shutil.copytree(run, copy, ignore=shutil.ignore_patterns("jobs", "report"))
    with Store(copy / "results.sqlite") as store:
        for row in store.frame().to_dict("records"):
            if row["task"] == "iris":
                store.delete([row["job_id"]])
                store.put({**row, "task": f"iris{SCRIPT}", "job_id": row["job_id"] + "x"})
    p = run_cli("report", copy, "--out", copy / "report")
    assert p.returncode == 0, p.stdout + p.stderr
    return copy / "report", p


def test_markup_in_task_names_and_errors_is_escaped(script_report):
    report, p = script_report
    html = (report / "index.html").read_text()
    assert "<script" not in html.lower()
    assert "iris&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # the real scikit-learn error quoting the bad value, escaped
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html.split('id="failures"')[1]
    # markdown: a backslash escape (no entity) keeps the markup text once rendered
    from markdown_it import MarkdownIt

    md = (report / "report.md").read_text()
    assert "iris\\<script>alert(1)\\</script>" in md and "&lt;" not in md
    rendered = MarkdownIt("commonmark").enable("table").render(md)
    assert "<script" not in rendered and "iris&lt;script&gt;alert(1)&lt;/script&gt;" in rendered


@pytest.mark.skipif(
    not shutil.which("chromium") and not os.environ.get("AUTOML_BENCH_REQUIRE_BROWSER"),
    reason="chromium is not installed (as root: apt-get install --no-install-recommends "
    "chromium; CI installs it)",
)
def test_report_opens_in_headless_chromium(script_report):
    from browser import inspect_page

    report, _ = script_report
    shot = ROOT / "reports" / "browser-test" / "report.png"
    page = inspect_page(report.joinpath("index.html").resolve().as_uri(), shot)
    assert page["errors"] == []
    assert len(page["images"]) == 8
    assert all(i["complete"] and i["width"] > 100 and i["height"] > 100 for i in page["images"])
    alts = {i["alt"] for i in page["images"]}
    assert {"Pareto front: score vs 1-row latency", "Pareto front: score vs model size"} <= alts
    # the deployability section as the reader sees it: its table with batch sizes, the suite's
    # latency budget line, and a measured latency for the frameworks that finished ok
    text = page["text"]
    deploy = text.split("Deployability")[-1].split("Cost")[0]
    assert "1,000 rows ms" in deploy and "model MB" in deploy and "joblib" in deploy
    assert "Fits your latency budget (1000 ms to predict 1 row, median): " in deploy
    fits = deploy.split("Fits your latency budget")[1].split("; over it")[0]
    assert "rf_small (" in fits.split(". Best score")[0]
    assert page["scripts"] == 0  # the markup stayed text: no script element exists
    assert f"iris{SCRIPT}" in page["text"]  # ...and the reader sees it as written
    assert shot.stat().st_size > 50_000


@pytest.fixture(scope="module")
def one_task_run(tmp_path_factory, env):
    run, p = _run(tmp_path_factory, env, "one-task", ONE_TASK_SUITE, "--wait-report")
    assert f"report: {run / 'report' / 'index.html'}" in p.stdout.replace("\n", "")
    assert "background" not in p.stdout  # built before the command exited
    return run


def test_one_task_run_says_what_cannot_be_concluded(one_task_run):
    html = (one_task_run / "report" / "index.html").read_text()
    assert "Only one task (iris)" in html
    assert "Critical difference diagram not drawn" in html and "at least two tasks" in html
    assert "no interval" in html  # ratings without a bootstrap over tasks
    board = pd.read_csv(one_task_run / "report" / "tables" / "leaderboard.csv")
    assert list(board["framework"]) == ["rf_small", "constant"]


def test_all_failed_run_still_reports(tmp_path_factory, env):
    run, p = _run(tmp_path_factory, env, "all-failed", ALL_FAILED_SUITE, "--no-report")
    assert not (run / "report").exists() and "report:" not in p.stdout
    p = run_cli("report", run)
    assert p.returncode == 0, p.stderr
    assert "Every job failed" in p.stdout
    html = (run / "report" / "index.html").read_text()
    assert "Every job failed" in html and "Only one task" not in html
    assert "max_features" in html  # the real error is shown
    fails = pd.read_csv(run / "report" / "tables" / "failures.csv")
    assert len(fails) == 2 and set(fails["status"]) == {"failed"}


def test_report_bad_input_exits_2(tmp_path):
    code, _, err = main("report", tmp_path)
    assert code == 2 and "not a run directory" in err
    bad = tmp_path / "prices.yaml"
    bad.write_text(
        "reference: {name: x, usd_per_hour: -1, vcpus: 8, source: s, date: 2024-01-01}\n"
    )
    (tmp_path / "r").mkdir()
    code, _, err = main("report", tmp_path / "r", "--prices", bad)
    assert code == 2 and "usd_per_hour" in err and str(bad) in err.replace("\n", "")
    assert not (tmp_path / "r" / "report").exists()  # nothing written


def test_report_over_two_runs(main_run, one_task_run, tmp_path):
    run, _ = main_run
    p = run_cli("report", run, one_task_run, "--out", tmp_path / "both")
    assert p.returncode == 0, p.stderr
    board = pd.read_csv(tmp_path / "both" / "tables" / "leaderboard.csv").set_index("framework")
    assert set(board.index) == {"constant", "rf_small", "xgboost", "lightgbm", "rf_broken"}
    # same framework, constraint and parameters on the same task folds: the newer rows count
    html = (tmp_path / "both" / "index.html").read_text()
    assert "4 result rows appear in more than one run; the most recent is used" in html
    assert "Run run<" in html and "Run one-task0/run<" in html  # two environments, named apart


def test_estimate_calibrates_from_a_measured_run(main_run, env, tmp_path):
    run, _ = main_run
    (tmp_path / "suite.yaml").write_text(MAIN_SUITE)
    p = run_cli("estimate", "--suite", tmp_path / "suite.yaml", "--calibrate", run, env=env)
    assert p.returncode == 0, p.stderr
    assert "jobs: 20" in p.stdout
    assert "calibrated from 4 jobs in run" in p.stdout  # e.g. xgboost: 4 ok jobs measured
