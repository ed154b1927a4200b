"""`report --reference`: published results beside a real run, through the CLI.

One real run (constant and rf on segment and optdigits, shipped with the tests, and anneal,
OpenML task 1882 of the test server from the OpenML cache in tests/data; 2 folds, 2 s) and
three results files the test writes itself in the layouts it has to read (no AMLB file is
copied here):

- AMLB's 2019 layout (reports/old/tables/1h/all_results.csv of openml/automlbenchmark): no
  constraint and no metric column, the constraint in the path, ``result`` the log loss itself
  for multi-class tasks (AUC for binary), failed folds empty with the constant predictor's
  value in ``imp_result``;
- AMLB's 2023 layout (data/amlb_2023Q2.csv of PGijsbers/amlb-results): a constraint column
  with two constraints, ``metric`` neg_logloss with ``result`` = minus log loss, the metric
  columns, a rerun row without a result;
- our own results.csv (the run's, its anneal rows renamed), matched by OpenML task id.
"""

from __future__ import annotations

import math
import re
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pytest
from conftest import ROOT, TEST_DATA, run_cli
from inprocess import main

SUITE = """
name: reference-run
folds: 2
seed: 0
constraint: {budget_s: 2, cores: 1, memory_mb: 2048}
frameworks: [constant, rf]
tasks:
  - name: segment
    file: {path: segment.parquet, target: class}
  - name: optdigits
    file: {path: optdigits.parquet, target: class}
  - name: anneal
    openml: {task: 1882, server: test}
"""

HEAD_2019 = ("acc,auc,duration,fold,framework,id,info,logloss,mode,models,params,result,seed,tag,"
             "task,utc,version,type,score,imp_result,imp_score,norm_score")  # fmt: skip
# (framework, task, id, fold, type, logloss or auc, acc); None: the fold failed
ROWS_2019 = [
    ("autosklearn", "segment", "openml.org/t/146822", 0, "multiclass", 0.0619, 0.9913),
    ("autosklearn", "segment", "openml.org/t/146822", 1, "multiclass", 0.0921, 0.9610),
    ("autosklearn", "segment", "openml.org/t/146822", 2, "multiclass", 0.0339, 0.9827),
    ("h2oautoml", "segment", "openml.org/t/146822", 0, "multiclass", 0.0594, 0.9913),
    ("h2oautoml", "segment", "openml.org/t/146822", 1, "multiclass", None, None),
    ("tpot", "OptDigits", "openml.org/t/28", 0, "multiclass", 0.0812, 0.9822),
    ("autosklearn", "australian", "openml.org/t/146818", 0, "binary", 0.9353, 0.8551),
]
HEAD_2023 = ("id,task,framework,constraint,fold,type,result,metric,mode,version,params,"
             "app_version,utc,duration,training_duration,predict_duration,models_count,seed,"
             "info,acc,auc,balacc,logloss,models_ensemble_count,source")  # fmt: skip
# (framework, task, id, constraint, fold, log loss, acc, balacc); None: no result (a rerun)
ROWS_2023 = [
    ("flaml", "optdigits", "openml.org/t/28", "1h8c_gp3", 0, 0.0512, 0.9858, 0.9857),
    ("flaml", "optdigits", "openml.org/t/28", "1h8c_gp3", 1, 0.0731, 0.9800, 0.9799),
    ("flaml", "optdigits", "openml.org/t/28", "1h8c_gp3", 1, None, None, None),
    ("flaml", "optdigits", "openml.org/t/28", "4h8c_gp3", 0, 0.0433, 0.9893, 0.9892),
    ("AutoGluon_benchmark", "segment", "openml.org/t/146822", "1h8c_gp3", 0, 0.0401, 0.9870, 0.9869),
    # the production server's task 1882 is not the test server's: never matched to anneal
    ("flaml", "not-anneal", "openml.org/t/1882", "1h8c_gp3", 0, 0.5, 0.5, 0.5),
]  # fmt: skip


def _csv_2019(path):
    lines = [HEAD_2019]
    for fw, task, tid, fold, kind, value, acc in ROWS_2019:
        ok = value is not None
        loss = value if ok and kind == "multiclass" else ""
        auc = value if ok and kind == "binary" else ""
        info = "" if ok else "Error: H2O could not produce any model in the requested time."
        result = value if ok else ""
        score = (-value if kind == "multiclass" else value) if ok else ""
        lines.append(f"{acc if ok else ''},{auc},3600,{fold},{fw},{tid},{info},{loss},aws.docker,"
                     f"10,,{result},1,stable,{task},2019-04-15T12:49:29,0.5.1,{kind},{score},"
                     f"{result if ok else 9.99},{score if ok else -9.99},1")  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def _csv_2023(path):
    lines = [HEAD_2023]
    for fw, task, tid, constraint, fold, loss, acc, bal in ROWS_2023:
        ok = loss is not None
        cells = [tid, task, fw, constraint, fold, "multiclass", -loss if ok else "", "neg_logloss",
                 "aws.docker", "1.2.4", "", "v2.1.0", "2023-06-01T10:00:00", 3600, 3500, 2, 100,
                 123, "" if ok else "rerun", acc if ok else "", "", bal if ok else "",
                 loss if ok else "", "", "2023Q2"]  # fmt: skip
        lines.append(",".join("" if c is None else str(c) for c in cells))
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def ref(tmp_path_factory, datasets_dir):
    d = tmp_path_factory.mktemp("reference")
    (d / "suite.yaml").write_text(SUITE)
    run = d / "run"
    p = run_cli("run", "--suite", d / "suite.yaml", "--out", run, "--parallel", 2, "--folds", 2,
                "--no-report", "--no-inference", "--openml-cache", TEST_DATA / "openml-cache",
                "--cache-dir", d / "cache", env={"AUTOML_BENCH_DATA": str(datasets_dir)})  # fmt: skip
    assert p.returncode == 0, p.stdout + p.stderr
    files = {"2019": d / "amlb" / "tables" / "1h" / "all_results.csv",
             "2023": d / "amlb_2023Q2.csv", "ours": d / "earlier.csv", "other": d / "other.csv"}  # fmt: skip
    _csv_2019(files["2019"])
    _csv_2023(files["2023"])
    ours = pd.read_csv(run / "results.csv")
    earlier = ours[(ours["task"] == "anneal") & (ours["framework"] == "rf")]
    earlier = earlier.assign(task="anneal-elsewhere", framework="rf_earlier")
    earlier.to_csv(files["ours"], index=False)
    files["other"].write_text(HEAD_2023 + "\n" + ",".join(
        ["openml.org/t/3", "kr-vs-kp", "flaml", "1h8c_gp3", "0", "binary", "0.99", "auc"]
        + [""] * 17) + "\n")  # fmt: skip
    reports = {  # three reports of the one run, built side by side
        "plain": (),
        "with": ("--reference", f"{files['2019']}:AMLB 2019,1h8c", "--reference",
                 f"{files['2023']}:AMLB 2023", "--reference", f"{files['ours']}:earlier run"),
        "balacc": ("--metric", "balanced_accuracy", "--reference", files["2019"], "--reference",
                   f"{files['2023']}:AMLB 2023,4h8c_gp3", "--reference", f"{files['other']}:elsewhere"),
    }  # fmt: skip

    def report(item):
        name, extra = item
        return name, run_cli("report", run, "--out", d / name, *extra)

    with ThreadPoolExecutor(len(reports)) as pool:
        done = dict(pool.map(report, reports.items()))
    for name, proc in done.items():
        assert proc.returncode == 0, (name, proc.stdout + proc.stderr)
    return {"dir": d, "run": run, "files": files, "stdout": done["with"].stdout,
            "balacc_stdout": done["balacc"].stdout,
            "table": pd.read_csv(d / "with" / "tables" / "reference.csv")}  # fmt: skip


def _row(table, task, source, framework):
    got = table[(table["task"] == task) & (table["source"] == source)
                & (table["framework"] == framework)]  # fmt: skip
    assert len(got) == 1, (task, source, framework, table)
    return got.iloc[0]


def _mean(values):
    return sum(values) / len(values)


def test_reference_means_are_the_means_of_the_rows_written(ref):
    t = ref["table"]
    # 2019: no constraint column, given as AMLB 2019,1h8c; result is the log loss itself
    seg = _row(t, "segment", "AMLB 2019, 1h8c", "autosklearn")
    assert seg["metric"] == "log loss" and seg["matched_by"] == "name"
    assert math.isclose(seg["mean"], _mean([0.0619, 0.0921, 0.0339]), rel_tol=1e-12)
    assert (seg["folds_ok"], seg["folds"]) == (3, 3)
    h2o = _row(t, "segment", "AMLB 2019, 1h8c", "h2oautoml")  # the failed fold: not its 9.99
    assert math.isclose(h2o["mean"], 0.0594) and (h2o["folds_ok"], h2o["folds"]) == (1, 2)
    tpot = _row(t, "optdigits", "AMLB 2019, 1h8c", "tpot")  # OptDigits: the name, case aside
    assert math.isclose(tpot["mean"], 0.0812)
    # 2023: a constraint column (two constraints apart), minus log loss in result
    one_h = _row(t, "optdigits", "AMLB 2023, 1h8c_gp3", "flaml")
    assert math.isclose(one_h["mean"], _mean([0.0512, 0.0731]), rel_tol=1e-12)
    assert (one_h["folds_ok"], one_h["folds"]) == (2, 2)  # the rerun row without a result: once
    four_h = _row(t, "optdigits", "AMLB 2023, 4h8c_gp3", "flaml")
    assert math.isclose(four_h["mean"], 0.0433) and four_h["folds"] == 1
    assert math.isclose(_row(t, "segment", "AMLB 2023, 1h8c_gp3", "AutoGluon_benchmark")["mean"],
                        0.0401)  # fmt: skip
    assert "australian" not in set(t["task"]) and "not-anneal" not in set(t["reference_task"])


def test_the_run_stands_beside_them_with_its_own_means(ref):
    t, ours = ref["table"], pd.read_csv(ref["run"] / "results.csv")
    for (task, fw), g in ours.groupby(["task", "framework"]):
        row = _row(t, task, "this run, 2s1c2048M", fw)
        assert row["kind"] == "run" and row["metric"] == "log loss"
        assert math.isclose(row["mean"], g.loc[g["status"] == "ok", "logloss"].mean(),
                            rel_tol=1e-12)  # fmt: skip
    for task, rows in t.groupby("task", sort=False):  # the run's rows first, then the files'
        kinds = list(rows["kind"])
        assert kinds == sorted(kinds, key=["run", "reference"].index), task


def test_matching_by_openml_task_id(ref):
    t, ours = ref["table"], pd.read_csv(ref["run"] / "results.csv")
    row = _row(t, "anneal", "earlier run, 2s1c2048M", "rf_earlier")
    assert row["reference_task"] == "anneal-elsewhere"  # another name, the same OpenML task
    assert row["matched_by"] == "OpenML task 1882 on test.openml.org"
    rf = ours[(ours["task"] == "anneal") & (ours["framework"] == "rf")]
    assert math.isclose(row["mean"], rf["logloss"].mean(), rel_tol=1e-12)
    assert (row["folds_ok"], row["folds"]) == (2, 2)
    # openml.org/t/1882 is another server's task 1882: not anneal's
    assert not t["reference_id"].fillna("").str.fullmatch("openml.org/t/1882").any()


def test_rankings_are_the_same_with_and_without_references(ref):
    d = ref["dir"]
    plain = sorted(p.name for p in (d / "plain" / "tables").glob("*.csv"))
    assert sorted(p.name for p in (d / "with" / "tables").glob("*.csv")) == sorted(
        [*plain, "reference.csv"])  # fmt: skip
    for name in plain:
        assert (d / "plain" / "tables" / name).read_bytes() == (
            d / "with" / "tables" / name).read_bytes(), name  # fmt: skip
    board = re.compile(r"## Leaderboard\n.*?\n## ", re.S)
    md = {k: (d / k / "report.md").read_text() for k in ("plain", "with")}
    assert board.search(md["plain"])[0] == board.search(md["with"])[0]
    assert "## Published results" in md["with"] and "## Published results" not in md["plain"]
    html = (d / "with" / "index.html").read_text()
    assert 'href="#reference"' in html and "AMLB 2019, 1h8c" in html


def test_section_says_what_it_read_and_the_terminal_points_to_it(ref):
    md = (ref["dir"] / "with" / "report.md").read_text()
    section = md.split("## Published results", 1)[1].split("\n## ", 1)[0]
    assert "never ranked" in md and "not a verdict" in section
    assert "constraint 1h8c (as given: the file has no constraint column)" in section
    assert "1 fold on the shared tasks without a result" in section
    assert "1 row repeats" in section  # the 2023 rerun row
    assert "Published results AMLB 2019: 2 of the run's 3 tasks shared" in ref["stdout"]


def test_constraint_from_the_path_and_a_metric_the_file_lacks(ref):
    """Balanced accuracy: the 2023 file has it; the 2019 file does not, so its rows show the
    file's own result (log loss), named as such. Its constraint comes from its path (1h)."""
    t = pd.read_csv(ref["dir"] / "balacc" / "tables" / "reference.csv")
    seg = _row(t, "segment", "1h/all_results.csv, 1h", "autosklearn")
    assert seg["metric"] == "log loss (the file's result)"
    assert math.isclose(seg["mean"], _mean([0.0619, 0.0921, 0.0339]), rel_tol=1e-12)
    only = t[t["source"].str.startswith("AMLB 2023")]  # CONSTRAINT selected its rows
    assert set(only["source"]) == {"AMLB 2023, 4h8c_gp3"} and set(only["metric"]) == {
        "balanced accuracy"}  # fmt: skip
    assert math.isclose(only["mean"].iloc[0], 0.9892)
    run = _row(t, "segment", "this run, 2s1c2048M", "rf")
    ours = pd.read_csv(ref["run"] / "results.csv")
    rf = ours[(ours["task"] == "segment") & (ours["framework"] == "rf")]
    assert math.isclose(run["mean"], rf["balacc"].mean(), rel_tol=1e-12)


def test_a_file_sharing_no_task_is_a_note_not_an_error(ref):
    out = ref["balacc_stdout"]
    assert "Published results elsewhere" in out and "share no task with the run" in out
    md = (ref["dir"] / "balacc" / "report.md").read_text()
    assert "It shares no task with the run" in md and "kr-vs-kp" in md
    assert "elsewhere" not in set(pd.read_csv(ref["dir"] / "balacc" / "tables" /
                                              "reference.csv")["source"])  # fmt: skip


BAD = {
    "no_fold_column": ("task,framework,result\nsegment,flaml,-0.1\n", ["no column 'fold'"]),
    "not_utf8": (b"\x89PNG\r\n\x1a\n\xff\xfe", ["not UTF-8 text"]),
    "bad_csv": ('task,framework,fold,result\n"segment,flaml,0,-0.1\n', ["not a CSV file"]),
    "header_only": ("task,framework,fold,result\n", ["no result rows"]),
    "bad_fold": ("task,framework,fold,result\nsegment,flaml,first,-0.1\n",
                 ["data row 1", "field 'fold'", "'first'"]),
    "bad_result": ("task,framework,fold,result\nsegment,flaml,0,-0.1\nsegment,flaml,1,high\n",
                   ["data row 2", "field 'result'", "'high'"]),
    "empty_task": ("task,framework,fold,result\n,flaml,0,-0.1\n", ["field 'task' is empty"]),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_reference_files_exit_2_naming_file_and_field(ref, tmp_path, case):
    content, expected = BAD[case]
    f = tmp_path / f"{case}.csv"
    f.write_bytes(content if isinstance(content, bytes) else content.encode())
    code, out, err = main("report", ref["run"], "--out", tmp_path / "r", "--reference", f)
    assert code == 2, out + err
    assert str(f) in err and all(e in err for e in expected), err
    assert not (tmp_path / "r").exists()


def test_unreadable_or_unselectable_references_exit_2_before_writing(ref, tmp_path):
    out = tmp_path / "r"
    missing = tmp_path / "missing.csv"
    cases = [
        ([missing], [str(missing), "cannot read file"]),
        ([tmp_path], [str(tmp_path), "is a directory"]),
        ([f"{ref['files']['2023']}:AMLB 2023,2h8c"], ["field 'constraint'", "1h8c_gp3"]),
        ([f"{missing}:"], ["FILE:SOURCE,CONSTRAINT"]),
        ([ref["files"]["2019"], ref["files"]["2019"]], ["given twice"]),
    ]
    for files, expected in cases:
        args = [a for f in files for a in ("--reference", f)]
        code, stdout, err = main("report", ref["run"], "--out", out, *args)
        assert code == 2 and all(e in err for e in expected), (files, err)
        assert not out.exists()
    big = tmp_path / "big.csv"
    with open(big, "wb") as fh:  # sparse: 64 MiB + 1 byte of nothing, past the bound
        fh.truncate((64 << 20) + 1)
    code, _, err = main("report", ref["run"], "--out", out, "--reference", big)
    assert code == 2 and "too large for a results file" in err and str(big) in err
    assert not out.exists()


def test_bad_reference_through_the_real_cli(ref, tmp_path):
    f = tmp_path / "results.csv"
    f.write_text("task,framework,fold\nsegment,flaml,0\n")
    p = run_cli("report", ref["run"], "--out", tmp_path / "r", "--reference", f, cwd=ROOT)
    assert p.returncode == 2 and str(f) in p.stderr and "no column 'result'" in p.stderr
    assert not (tmp_path / "r").exists()
