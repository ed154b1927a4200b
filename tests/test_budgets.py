"""Budgets as an axis, through the real CLI: a run planned at several budgets, resumed per
budget, extended with a new budget (only its jobs run), refused when it would drop one, and
its report's budget curves (HTML, Markdown, tables, and in a headless browser)."""

from __future__ import annotations

import json
import os
import shutil

import pandas as pd
import pytest
from conftest import ROOT, run_cli
from inprocess import main

from automl_bench.errors import BadInput
from automl_bench.results.store import Store

SUITE = """
name: budget-axis
folds: 2
seed: 0
constraint: {budget_s: 2, cores: 1, memory_mb: 2048}
frameworks: [constant, rf, lightgbm]
tasks:
  - name: iris
    sklearn: {dataset: iris}
  - name: gen-40x4
    generated: {rows: 200, features: 40, informative: 8, classes: 4, seed: 3}
"""
FRAMEWORKS = {"constant", "rf", "lightgbm"}


def _rows(run) -> pd.DataFrame:
    with Store(run / "results.sqlite") as store:
        return store.frame()


def _executed(stdout: str) -> str:
    return next(line for line in stdout.splitlines() if line.startswith("executed "))


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One run directory taken through: a single budget, extended to two, resumed."""
    d = tmp_path_factory.mktemp("budgets")
    suite = d / "suite.yaml"
    suite.write_text(SUITE)
    out = d / "run"
    common = ("--suite", suite, "--out", out, "--parallel", "2", "--no-report")
    p1 = run_cli("run", *common)
    assert p1.returncode == 0, p1.stdout + p1.stderr
    single = _rows(out)
    single_report = d / "single-report"
    p = run_cli("report", out, "--out", single_report)
    assert p.returncode == 0, p.stderr
    p2 = run_cli("run", *common, "--budgets", "2,4")
    assert p2.returncode == 0, p2.stdout + p2.stderr
    p3 = run_cli("run", *common, "--budgets", "4,2")
    assert p3.returncode == 0, p3.stdout + p3.stderr
    report = d / "report"
    p4 = run_cli("report", out, "--out", report)
    assert p4.returncode == 0, p4.stdout + p4.stderr
    return {"dir": d, "suite": suite, "out": out, "single": single, "single_report": single_report,
            "first": p1, "extend": p2, "resume": p3, "report": report, "report_cli": p4}  # fmt: skip


def test_a_new_budget_runs_only_its_own_jobs(runs):
    assert _executed(runs["first"].stdout).startswith("executed 12 of 12 jobs")
    assert _executed(runs["extend"].stdout).startswith("executed 12 of 24 jobs")
    assert _executed(runs["resume"].stdout).startswith("executed 0 of 24 jobs")
    progress = " ".join(runs["extend"].stderr.split())
    assert "24 jobs planned at 2 budgets (2, 4 s): 12 done, 12 to run" in progress
    assert "iris fold 1 budget 4s" in progress and "budget 2s" not in progress
    rows = _rows(runs["out"])
    assert len(rows) == 24
    assert rows.groupby("budget_s").size().to_dict() == {2.0: 12, 4.0: 12}
    for b, g in rows.groupby("budget_s"):
        assert set(g["framework"]) == FRAMEWORKS and set(g["constraint"]) == {f"{b:g}s1c2048M"}
        assert g.groupby(["framework", "task", "fold"]).size().eq(1).all()
    # the first budget's results are the very rows of the first run, untouched
    before = runs["single"].set_index("job_id")[["utc", "result", "status"]]
    after = rows[rows["budget_s"] == 2.0].set_index("job_id")[["utc", "result", "status"]]
    pd.testing.assert_frame_equal(before.sort_index(), after.sort_index())
    plan = json.loads((runs["out"] / "plan.json").read_text())
    assert [j["budget_s"] for j in plan] == [2.0] * 12 + [4.0] * 12  # smallest budget first
    marker = json.loads((runs["out"] / ".automl-bench-run.json").read_text())
    assert marker["constraint"]["budgets"] == [2.0, 4.0]


def test_suite_budgets_resume_the_same_run(runs, tmp_path):
    suite = tmp_path / "suite.yaml"
    suite.write_text(SUITE.replace("budget_s: 2,", "budgets: [4, 2],"))
    p = run_cli("run", "--suite", suite, "--out", runs["out"], "--no-report")
    assert p.returncode == 0, p.stdout + p.stderr
    assert _executed(p.stdout).startswith("executed 0 of 24 jobs")


def test_dropping_or_replacing_a_budget_is_refused_naming_it(runs):
    before = (runs["out"] / "results.sqlite").read_bytes()
    for extra, says, hint in ((("--budgets", "4"), "budgets 2, 4 -> 4", "--budgets 2,4"),
                              (("--budget", "3"), "budgets 2, 4 -> 3", "--budgets 2,3,4"),
                              (("--budgets", "2,8"), "budgets 2, 4 -> 2, 8", "--budgets 2,4,8")):  # fmt: skip
        code, _, err = main("run", "--suite", runs["suite"], "--out", runs["out"], *extra)
        err = " ".join(err.split())
        assert code == 2 and says in err and hint in err, err
    assert (runs["out"] / "results.sqlite").read_bytes() == before


@pytest.mark.parametrize("value, says", [
    ("0", ">= 1 second (got 0)"), ("0.5", ">= 1 second (got 0.5)"), ("-1", "(got -1)"), ("nan", "finite number (got nan)"),
    ("inf", "finite number (got inf)"), ("1e309", "finite number (got 1e309)"),
    ("2,1e12", "<= 604800 seconds (got 1e12)"), ("abc", "'abc' is not a number"),
    ("2,2", "budget 2 is given twice"), ("2,,4", "(got '2,,4')"), ("", "(got '')"),
])  # fmt: skip
def test_bad_budgets_exit_2_naming_the_value(tmp_path, value, says):
    (tmp_path / "suite.yaml").write_text(SUITE)
    out = tmp_path / "run"
    code, _, err = main("run", "--suite", tmp_path / "suite.yaml", "--out", out, "--budgets", value)
    err = " ".join(err.split())
    assert code == 2 and "--budgets" in err and says in err, err
    assert not out.exists()
    code, _, err = main("estimate", "--suite", tmp_path / "suite.yaml", "--budgets", value)
    assert code == 2 and says in " ".join(err.split())


def test_budget_and_budgets_together_exit_2(tmp_path):
    (tmp_path / "suite.yaml").write_text(SUITE)
    code, _, err = main("run", "--suite", tmp_path / "suite.yaml", "--out", tmp_path / "r",
                        "--budget", "2", "--budgets", "2,4")  # fmt: skip
    assert code == 2 and "not both" in err and not (tmp_path / "r").exists()


@pytest.mark.parametrize("constraint, says", [
    ("{budget_s: 2, budgets: [2, 4]}", "either budget_s (one budget) or budgets"),
    ("{budgets: [2, 2]}", "budget 2 is given twice"),
    ("{budgets: [2, -4]}", "constraint.budgets"),
    ("{budgets: [2, .nan]}", "constraint.budgets"),
    ("{budgets: []}", "constraint.budgets"),
    ("{cores: 1}", "give budget_s (one budget, seconds) or budgets"),
])  # fmt: skip
def test_suite_budgets_are_validated(tmp_path, constraint, says):
    from automl_bench.planning.suite import load_suite

    path = tmp_path / "s.yaml"
    path.write_text(SUITE.replace("{budget_s: 2, cores: 1, memory_mb: 2048}", constraint))
    with pytest.raises(BadInput) as e:
        load_suite(str(path))
    assert says in str(e.value) and str(path) in str(e.value)


def test_one_element_budgets_is_the_single_budget(tmp_path):
    from automl_bench.planning import budgets
    from automl_bench.planning.suite import load_suite

    path = tmp_path / "s.yaml"
    path.write_text(SUITE.replace("budget_s: 2,", "budgets: [2],"))
    one = load_suite(str(path))[0].constraint
    path.write_text(SUITE)
    plain = load_suite(str(path))[0].constraint
    assert budgets.of(one) == budgets.of(plain) == [2.0] and one.name == plain.name


def test_estimate_counts_every_budget(tmp_path):
    (tmp_path / "suite.yaml").write_text(SUITE)
    code, out, err = main("estimate", "--suite", tmp_path / "suite.yaml", "--budgets", "2,4,8")
    assert code == 0, err
    text = " ".join(out.split())
    assert "jobs: 36" in text and "3 budgets (2, 4, 8 s): 12 jobs each" in text


def test_single_budget_report_has_no_budget_curves(runs):
    html = (runs["single_report"] / "index.html").read_text()
    assert "Budget curves" not in html and "largest budget" not in html
    assert not (runs["single_report"] / "tables" / "budget_curves.csv").exists()


def test_two_budget_report_shows_curves_best_and_plateaus(runs):
    report = runs["report"]
    html = (report / "index.html").read_text()
    md = (report / "report.md").read_text()
    for text in (html, md):
        assert "Budget curves" in text and "Best at each budget" in text
        assert "at the largest budget, 4 s" in text and "stops improving" in text
    assert (report / "img" / "budget_curves.png").read_bytes().startswith(b"\x89PNG")
    assert (report / "img" / "budget_cost.png").read_bytes().startswith(b"\x89PNG")
    points = pd.read_csv(report / "tables" / "budget_curves.csv")
    assert set(zip(points["framework"], points["budget_s"], strict=True)) == {
        (f, b) for f in FRAMEWORKS for b in (2.0, 4.0)}  # fmt: skip
    assert (points["jobs"] == 4).all() and (points["tasks"] == 2).all()
    assert points["cost_usd"].gt(0).all()
    const = points[points["framework"] == "constant"]
    assert const["normalised"].abs().max() < 1e-9  # the constant predictor is 0 at every budget
    assert points["normalised"].max() <= 1 + 1e-9
    best = pd.read_csv(report / "tables" / "budget_best.csv")
    assert list(best["budget_s"]) == [2.0, 4.0]
    assert set(best["leader"]) <= {"rf", "lightgbm"} and best["runner_up"].notna().all()
    plateaus = pd.read_csv(report / "tables" / "budget_plateaus.csv")
    assert set(plateaus["framework"]) == FRAMEWORKS
    assert set(plateaus["plateau_s"]) <= {2.0, 4.0}
    # the constant predictor never improves: its plateau is the smallest budget
    assert plateaus.set_index("framework").loc["constant", "plateau_s"] == 2.0
    # every comparison outside the curves is at one budget: four jobs per framework
    board = pd.read_csv(report / "tables" / "leaderboard.csv")
    assert set(board["framework"]) == FRAMEWORKS and (board["jobs"] == 4).all()
    # ... and so is the terminal's leaderboard, which says so
    assert "At 4 s, the largest of 2 budgets (2, 4 s)" in " ".join(runs["resume"].stdout.split())


def test_separate_runs_at_different_budgets_make_one_budget_axis(tmp_path):
    # the same suite run apart at 2 s and at 3 s, in two run directories, read together
    suite = tmp_path / "suite.yaml"
    suite.write_text(SUITE)
    runs_at = []
    for budget in (2, 3):
        out = tmp_path / f"run-{budget}"
        p = run_cli("run", "--suite", suite, "--out", out, "--budget", budget,
                    "--frameworks", "constant,rf", "--parallel", "2", "--no-report")  # fmt: skip
        assert p.returncode == 0, p.stdout + p.stderr
        runs_at.append(out)
    report = tmp_path / "report"
    p = run_cli("report", *runs_at, "--out", report)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "Budget curves" in (report / "report.md").read_text()
    points = pd.read_csv(report / "tables" / "budget_curves.csv")
    assert set(zip(points["framework"], points["budget_s"], strict=True)) == {
        (f, b) for f in ("constant", "rf") for b in (2.0, 3.0)}  # fmt: skip
    assert (points["jobs"] == 4).all()  # each budget's jobs from its own run, none mixed
    board = pd.read_csv(report / "tables" / "leaderboard.csv")
    assert (board["jobs"] == 4).all()  # the comparisons are at the largest budget only


@pytest.mark.skipif(
    not shutil.which("chromium") and not os.environ.get("AUTOML_BENCH_REQUIRE_BROWSER"),
    reason="chromium is not installed (as root: apt-get install --no-install-recommends "
    "chromium; CI installs it)",
)
def test_budget_curves_in_headless_chromium(runs):
    from browser import inspect_page

    shot = ROOT / "reports" / "browser-test" / "budget-report.png"
    page = inspect_page((runs["report"] / "index.html").resolve().as_uri(), shot)
    assert page["errors"] == []
    curves = [i for i in page["images"] if i["alt"] == "Normalised score versus budget"]
    assert len(curves) == 1
    assert curves[0]["complete"] and curves[0]["width"] > 100 and curves[0]["height"] > 100
    text = page["text"]
    assert "Budget curves" in text
    section = text[text.index("Every framework ran at 2 budgets"):]
    assert "Best at each budget" in section and "stops improving" in section
    for f in FRAMEWORKS:
        assert f in section


FIVE_TASKS = """
name: budget-five
folds: 2
seed: 0
constraint: {budgets: [2, 3], cores: 1, memory_mb: 2048}
frameworks: [constant, lightgbm]
tasks:
""" + "".join(
    f"  - name: gen-{i}\n"
    f"    generated: {{rows: 150, features: 20, informative: 6, classes: 3, seed: {i}, "
    "class_sep: 2.0}\n"
    for i in range(1, 6)
)


def test_five_tasks_give_intervals_a_significant_margin_and_a_plateau(tmp_path):
    """With 5 tasks the curves have intervals from resampling tasks: LightGBM's margin over the
    constant predictor is significant at both budgets, and its plateau follows the interval
    rule (a learner of fixed size gains nothing from 3 s over 2 s)."""
    (tmp_path / "suite.yaml").write_text(FIVE_TASKS)
    out = tmp_path / "run"
    p = run_cli("run", "--suite", tmp_path / "suite.yaml", "--out", out, "--folds", "1",
                "--parallel", "2", "--no-report")  # fmt: skip
    assert p.returncode == 0, p.stdout + p.stderr
    assert _executed(p.stdout).startswith("executed 20 of 20 jobs")
    p = run_cli("report", out)
    assert p.returncode == 0, p.stderr
    tables = out / "report" / "tables"
    points = pd.read_csv(tables / "budget_curves.csv").set_index(["framework", "budget_s"])
    assert (points["tasks"] == 5).all()
    lgbm = points.loc["lightgbm"]
    assert lgbm["lo"].notna().all() and (lgbm["lo"] <= lgbm["normalised"]).all()
    assert (lgbm["normalised"] <= lgbm["hi"]).all()
    best = pd.read_csv(tables / "budget_best.csv")
    assert list(best["leader"]) == ["lightgbm", "lightgbm"]
    assert best["significant"].tolist() == [True, True] and (best["lo"] > 0).all()
    plateaus = pd.read_csv(tables / "budget_plateaus.csv").set_index("framework")
    assert plateaus.loc["lightgbm", "plateau_s"] == 2.0
    assert plateaus.loc["lightgbm", "last_gain_lo"] <= 0  # the rule: no significant gain
    html = (out / "report" / "index.html").read_text()
    assert "At 2 s, lightgbm leads ahead of constant; the margin: significant." in html
