"""The report as a decision, on real short runs of the shipped suites: one named decision
metric, normalised scores bounded in [0, 1], the summary naming the best (ties included) and
the cheapest system as good as it, charts where nothing overlaps (read with matplotlib's
renderer), clean Markdown and HTML (checked in headless Chromium), and the command line's
defaults around it (`run` runs hd-real, `list suites`, the `--race` warning).

Runs: smoke with two identical random forests (``rf_fast``, ``rf_twin``: same parameters and
seed, so they tie on every task) at two budgets, and hd-real (real data shipped with the
package) at a 3 s budget on one fold."""

from __future__ import annotations

import inspect
import os
import re
import shutil

import pandas as pd
import pytest
from chart_overlaps import overlaps
from conftest import ROOT, run_cli

FRAMEWORKS_YAML = """
rf_fast:
  adapter: automl_bench_adapters.random_forest:RandomForest
  description: 25 trees
  params: {n_estimators: 25}
rf_twin:
  adapter: automl_bench_adapters.random_forest:RandomForest
  description: the same 25 trees under another name (ties rf_fast everywhere)
  params: {n_estimators: 25}
"""
SCIENTIFIC = re.compile(r"\d\.?\d*e[-+]\d\d")
FORMULA = "Normalised score per task = (score - constant) / (best - constant)"


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    d = tmp_path_factory.mktemp("decision-env")
    (d / "frameworks.yaml").write_text(FRAMEWORKS_YAML)
    return {"AUTOML_BENCH_FRAMEWORKS": str(d / "frameworks.yaml")}


def _run(tmp_path_factory, env, name, *args):
    out = tmp_path_factory.mktemp(name) / "run"
    p = run_cli("run", *args, "--out", out, "--parallel", "2", "--wait-report", env=env)
    assert p.returncode == 0, p.stdout + p.stderr
    return out


@pytest.fixture(scope="module")
def smoke(tmp_path_factory, env):
    return _run(tmp_path_factory, env, "smoke", "--suite", "smoke", "--frameworks",
                "constant,rf_fast,rf_twin,lightgbm", "--budgets", "2,4")  # fmt: skip


@pytest.fixture(scope="module")
def hd(tmp_path_factory, env):
    return _run(tmp_path_factory, env, "hd", "--suite", "hd-real", "--frameworks",
                "constant,lightgbm,xgboost", "--budget", "3", "--folds", "1")  # fmt: skip


def _tables(run):
    t = run / "report" / "tables"
    return pd.read_csv(t / "leaderboard.csv"), pd.read_csv(t / "per_task.csv")


@pytest.mark.parametrize("which", ["smoke", "hd"])
def test_normalised_scores_are_bounded_and_the_formula_is_stated(which, request):
    run = request.getfixturevalue(which)
    board, per_task = _tables(run)
    assert board["normalised"].between(0, 1).all(), board
    assert per_task["normalised"].between(0, 1).all(), per_task
    assert (board.set_index("framework").loc["constant", "normalised"]) == 0
    best = per_task.groupby("task")["normalised"].max()
    assert (best == 1).all(), best  # every task here has a framework beating the constant
    below = per_task[per_task["below_constant"]]
    assert (below["normalised"] == 0).all()
    md = (run / "report" / "report.md").read_text()
    assert FORMULA in md


def _ranks(per_task, column, higher_is_better):
    return (per_task.pivot_table(index="task", columns="framework", values=column)
            .rank(axis=1, ascending=not higher_is_better).mean())  # fmt: skip


def test_one_decision_metric_ranks_and_is_named(smoke, tmp_path):
    board, per_task = _tables(smoke)
    expected = _ranks(per_task, "logloss", False)  # default for multi-class: log loss
    got = board.set_index("framework")["mean_rank"]
    assert got.to_dict() == pytest.approx(expected.reindex(got.index).to_dict())
    md = (smoke / "report" / "report.md").read_text()
    assert "Ranked on log loss (lower is better)" in md
    assert "Ranks use the per-task mean of log loss (lower is better)" in md
    first = md.split("## What can and cannot be concluded")[1].strip().splitlines()[0]
    assert first.startswith("- Decision on log loss (lower is better) at 4 s per job")

    out = tmp_path / "acc"
    p = run_cli("report", smoke, "--out", out, "--metric", "accuracy")
    assert p.returncode == 0, p.stdout + p.stderr
    board = pd.read_csv(out / "tables" / "leaderboard.csv").set_index("framework")
    per_task = pd.read_csv(out / "tables" / "per_task.csv")
    expected = _ranks(per_task, "acc", True)
    assert board["mean_rank"].to_dict() == pytest.approx(expected.reindex(board.index).to_dict())
    assert set(board["metric"]) == {"accuracy"}
    assert "Decision on accuracy (higher is better)" in p.stdout.replace("\n", " ")


def test_summary_names_ties_and_the_cheapest_system_as_good_as_the_best(smoke):
    md = (smoke / "report" / "report.md").read_text()
    lines = md.split("## What can and cannot be concluded")[1].strip().splitlines()
    decision, cheapest = lines[0], lines[1]
    # the twins tie on every task: named together, never one as "the next" alone
    tied = re.search(r"rf\\_fast(, | and )(\S+, )*rf\\_twin[^;(]*( share the best mean rank| \(tied\))",
                     decision)  # fmt: skip
    assert tied, decision
    assert "significant" in decision or "not tested" in decision
    assert cheapest.startswith("- Cheapest system as good as the best"), cheapest
    assert "per 1,000 jobs" in cheapest and "per CPU-hour" in cheapest
    assert "ms to predict 1 row" in cheapest and "MB" in cheapest


@pytest.mark.parametrize("which", ["smoke", "hd"])
def test_charts_overlap_nothing(which, request, tmp_path, monkeypatch):
    """Every figure of the report, read with matplotlib's renderer as it is saved."""
    from automl_bench.report import budget_plots, plots, write_report

    run = request.getfixturevalue(which)
    found: dict[str, list[str]] = {}
    save = plots._png

    def check(fig):
        name = inspect.stack()[1].function
        distinct = name in ("pareto", "cd_diagram", "budget_cost")  # one marker per system
        key = f"{name} {sum(k.startswith(name) for k in found) + 1}"
        found[key] = overlaps(fig, marker_pairs=distinct,
                              inside=name in ("pareto", "budget_cost"))  # fmt: skip
        return save(fig)

    monkeypatch.setattr(plots, "_png", check)
    monkeypatch.setattr(budget_plots, "_png", check)
    write_report([run], tmp_path / "report", n_boot=50)
    drawn = {k.split()[0] for k in found}
    assert {"pareto", "cd_diagram", "win_rate_heatmap", "ratings", "budget"} <= drawn
    if which == "smoke":
        assert {"budget_curves", "budget_cost"} <= drawn
    assert {k: v for k, v in found.items() if v} == {}


def test_markdown_holds_no_entity_and_renders_as_written(smoke):
    from markdown_it import MarkdownIt

    md = (smoke / "report" / "report.md").read_text()
    for literal in ("&gt;", "&lt;", "&amp;", "\\`"):
        assert literal not in md, literal
    assert not SCIENTIFIC.search(md), SCIENTIFIC.search(md)
    html = MarkdownIt("commonmark").enable("table").render(md)
    text = re.sub(r"<[^>]+>", " ", html)
    assert "\\" not in text  # every backslash escape was consumed by the renderer
    assert "rf_fast" in text and "<script" not in html
    assert 'style="text-align:right"' in html  # number columns right-aligned


@pytest.mark.skipif(
    not shutil.which("chromium") and not os.environ.get("AUTOML_BENCH_REQUIRE_BROWSER"),
    reason="chromium is not installed (as root: apt-get install --no-install-recommends "
    "chromium; CI installs it)",
)
def test_html_reads_clean_in_headless_chromium(hd):
    from browser import inspect_page

    shots = ROOT / "reports" / "browser-test"
    page = inspect_page((hd / "report" / "index.html").resolve().as_uri(),
                        shots / "decision-report.png",
                        first_screen=shots / "decision-first-screen.png")  # fmt: skip
    assert page["errors"] == []
    assert page["broken_words"] == []  # no name broken mid-word
    assert page["left_numbers"] == []  # every number right-aligned
    text = page["text"]
    assert "`" not in text and "&gt;" not in text and "&lt;" not in text
    assert not SCIENTIFIC.search(text), SCIENTIFIC.search(text)
    assert "Decision on log loss (lower is better)" in text
    assert re.search(r"\$\d[\d,]*\.?\d* per 1,000 jobs", text)
    assert (shots / "decision-first-screen.png").stat().st_size > 20_000


def test_run_defaults_to_hd_real():
    from automl_bench.cli.parser import build_parser

    assert build_parser().parse_args(["run"]).suite == "hd-real"


def test_list_suites_shows_whole_paths_and_marks_internet():
    p = run_cli("list", "suites", env={"COLUMNS": "40"})
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    for path in sorted((ROOT / "suites").glob("*.yaml")):
        assert f"{path.stem}: {path}" in lines, p.stdout  # whole, on one line
    marks = {line.split("│")[1].strip(): line.split("│")[-2].strip()
             for line in lines if line.count("│") > 2}  # fmt: skip
    assert marks["openml-hd-multiclass"] == "yes" and marks["amlb-classification"] == "yes"
    assert marks["hd-real"] == "no" and marks["smoke"] == "no"


def test_race_says_before_it_starts_when_the_suite_is_too_small(tmp_path):
    p = run_cli("run", "--suite", "smoke", "--frameworks", "constant,lightgbm", "--budget", "1",
                "--folds", "1", "--race", "--no-report", "--out", tmp_path / "run")  # fmt: skip
    assert p.returncode == 0, p.stdout + p.stderr
    err = " ".join(p.stderr.split())
    assert "--race cannot drop any framework on this suite: it has 2 task x fold block(s)" in err
    assert "more tasks (at least 5 task x fold blocks)" in err
    assert "--race-min-blocks 2" in err
    # said before the first job ran
    assert err.index("cannot drop") < err.index("jobs planned")


def test_a_point_on_another_systems_marker_never_hides_it():
    """Two systems that meet at one budget only (same cost and score there, by chance): the
    later one's line passes through the earlier one's marker instead of covering it."""
    from automl_bench.report import budget_plots

    found: list[list[str]] = []
    save = budget_plots._png
    frame = pd.DataFrame({
        "framework": ["constant", "constant", "rf_fast", "rf_fast", "rf_twin", "rf_twin"],
        "budget_s": [2, 4] * 3,
        "cost_usd": [1e-5, 2e-5, 1e-4, 2e-4, 1e-4, 2.6e-4],
        "normalised": [0.0, 0.0, 0.9, 0.92, 0.9, 0.92],
    })  # fmt: skip

    def check(fig):
        found.append(overlaps(fig, marker_pairs=True, inside=True))
        (line,) = [x for x in fig.axes[0].lines if x.get_label() == "rf_twin"]
        found.append(list(line.get_markevery()))
        return save(fig)

    budget_plots._png = check
    try:
        budget_plots.budget_cost(frame)
    finally:
        budget_plots._png = save
    assert found == [[], [1]]  # no overlap; rf_twin's marker only at 4 s, where it stands alone
