"""Racing (``run --race``) and its replay (``race --replay``) on real runs: the constant
predictor, clearly worse on every block, is dropped after the first rounds and its later jobs
never start; two identical frameworks (a perfect tie) are never dropped; replaying the rule
on the finished run reproduces the live race; resume keeps raced-out jobs out of a race and
runs them without one. The rule's statistics are checked on small tables at the end."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, adapter_env, run_cli
from scipy import stats as st
from sklearn.model_selection import train_test_split

from automl_bench.race import rule as race

TASKS = ("segment", "mfeat-factors", "semeion")
FOLDS = 4
SUITE = f"""
name: race-small
folds: {FOLDS}
seed: 0
constraint: {{budget_s: 2, cores: 1, memory_mb: 1024}}
frameworks: [constant, rf_a, rf_b]
tasks:
""" + "".join(f"  - name: {t}\n    file: {{path: {t}.parquet, target: class}}\n" for t in TASKS)


def _env(tmp) -> dict:
    return {**adapter_env(ROOT / "tests" / "race_frameworks.yaml"),
            "AUTOML_BENCH_CACHE": str(tmp / "cache")}  # fmt: skip


@pytest.fixture(scope="module")
def raced(tmp_path_factory, datasets_dir):
    d = tmp_path_factory.mktemp("race")
    for t in TASKS:  # 500 rows each, stratified: a few seconds per job
        df = pd.read_parquet(datasets_dir / f"{t}.parquet")
        small, _ = train_test_split(df, train_size=500, stratify=df["class"], random_state=0)
        small.reset_index(drop=True).to_parquet(d / f"{t}.parquet")
    (d / "suite.yaml").write_text(SUITE)
    out = d / "run"
    p = run_cli("run", "--suite", d / "suite.yaml", "--out", out, "--parallel", 2, "--race",
                "--no-report", env=_env(d))  # fmt: skip
    assert p.returncode == 0, p.stderr[-3000:]
    return d, out


def _rows(out) -> pd.DataFrame:
    return pd.read_csv(out / "results.csv")


def test_constant_is_dropped_after_round_two_and_its_later_jobs_never_start(raced):
    _, out = raced
    df = _rows(out)
    assert len(df) == len(TASKS) * FOLDS * 3
    state = json.loads((out / "race.json").read_text())
    [drop] = state["drops"]
    # 3 blocks per round, no drop before 5 blocks: the first test is after round 2, and the
    # constant predictor loses every block to both forests
    assert drop["framework"] == "constant" and drop["round"] == 2 and drop["blocks"] == 6
    assert drop["pvalue"] < 0.05 and drop["leader"] in ("rf_a", "rf_b")
    const = df[df["framework"] == "constant"]
    assert (const.loc[const["fold"] <= 1, "status"] == "ok").all()
    out_rows = const[const["status"] == "raced_out"]
    assert len(out_rows) >= 1
    assert set(out_rows["fold"]) <= {2, 3}
    assert (out_rows["race_round"] == 2).all() and (out_rows["race_pvalue"] < 0.05).all()
    assert set(out_rows["race_leader"]) == {drop["leader"]}
    assert out_rows["race_test"].str.contains("Wilcoxon").all()
    assert out_rows["race_mean_rank"].eq(3.0).all()
    # a raced-out job never started: no job directory, nothing ran for it
    jobs = {p.name for p in (out / "jobs").iterdir()}
    for r in out_rows.itertuples():
        assert not any(n.endswith(r.job_id[:8]) for n in jobs), r.job_id
        assert r.duration == 0
    # every constant job that did run was given its slot before the drop was decided
    for name in jobs:
        if name.startswith("constant-"):
            started = os.path.getmtime(out / "jobs" / name / "spec.json")
            assert started <= drop["decided_at"] + 1e-3, name


def test_a_tie_never_drops_either_framework(raced):
    _, out = raced
    df = _rows(out)
    a = df[df["framework"] == "rf_a"].sort_values(["task", "fold"])
    b = df[df["framework"] == "rf_b"].sort_values(["task", "fold"])
    assert (a["status"] == "ok").all() and (b["status"] == "ok").all()
    assert len(a) == len(b) == len(TASKS) * FOLDS
    # the tie is real: identical predictions give identical scores on every block
    assert np.allclose(a["result"].to_numpy(), b["result"].to_numpy())


def test_report_draws_the_race_and_never_imputes_raced_out_jobs(raced):
    d, out = raced
    p = run_cli("report", out, "--out", d / "report", env=_env(d))
    assert p.returncode == 0, p.stderr[-3000:]
    md = (d / "report" / "report.md").read_text()
    assert "## Race" in md and "dropped (p = " in md and "after round 2 (of 4)" in md
    assert "the race used" in md and "- Race (run): constant dropped after round 2" in md
    drops = pd.read_csv(d / "report" / "tables" / "race.csv")
    assert list(drops["framework"]) == ["constant"] and list(drops["round"]) == [2]
    cells = pd.read_csv(d / "report" / "tables" / "scores_imputed.csv")
    assert not cells["imputed"].any()  # raced-out jobs are not cells, and nothing failed
    fails = pd.read_csv(d / "report" / "tables" / "failures.csv")
    assert "raced_out" not in set(fails.get("status", []))
    cov = pd.read_csv(d / "report" / "tables" / "coverage.csv", index_col=0)
    assert cov["constant"].str.contains("raced out").any()


def test_replay_reproduces_the_live_race_and_writes_nothing(raced):
    d, out = raced
    before = {p: p.stat().st_mtime for p in out.rglob("*") if p.is_file()
              and not p.name.endswith(("-wal", "-shm"))}  # fmt: skip
    p = run_cli("race", "--replay", out, env=_env(d))
    assert p.returncode == 0, p.stderr[-3000:]
    assert "constant: dropped after round 2 (6 blocks)" in p.stdout
    assert p.stdout.count("its best never dropped: yes") == 2  # both full-run verdicts
    after = {p: p.stat().st_mtime for p in out.rglob("*") if p.is_file()
             and not p.name.endswith(("-wal", "-shm"))}  # fmt: skip
    assert after == before

    from automl_bench.race.replay import replay

    rp = replay(out)
    live = {(x["framework"], x["round"]) for x in json.loads((out / "race.json").read_text())["drops"]}
    assert {(k[0], v.round) for k, v in rp.trace.drops.items()} == live
    assert rp.trace.survivors(2.0) == ["rf_a", "rf_b"]
    # the race's own test once on every block where all ran: the same two kept
    assert sorted(rp.same_test[2.0].not_worse) == ["rf_a", "rf_b"]


def test_a_live_race_at_two_budgets_races_each_on_its_own_smallest_first(raced, tmp_path):
    d, _ = raced
    out = tmp_path / "run"
    p = run_cli("run", "--suite", d / "suite.yaml", "--out", out, "--parallel", 2, "--race",
                "--budgets", "1,2", "--frameworks", "constant,rf_a", "--no-report",
                env=_env(d))  # fmt: skip
    assert p.returncode == 0, p.stderr[-3000:]
    df = _rows(out)
    assert len(df) == 2 * len(TASKS) * FOLDS * 2
    drops = json.loads((out / "race.json").read_text())["drops"]
    # at each budget the constant predictor is dropped on that budget's own evidence, and
    # with one framework left that budget's race ends: rf_a won it after round 2 too
    assert sorted((x["framework"], x["budget_s"], x["round"], x["blocks"], x["won"])
                  for x in drops) == [("constant", 1.0, 2, 6, False), ("constant", 2.0, 2, 6, False),
                                      ("rf_a", 1.0, 2, 6, True), ("rf_a", 2.0, 2, 6, True)]  # fmt: skip
    gone = df[df["status"] == "raced_out"]
    assert set(gone["framework"]) == {"constant", "rf_a"} and set(gone["fold"]) <= {2, 3}
    assert set(gone["budget_s"]) <= {1.0, 2.0}
    rf = df[df["framework"] == "rf_a"]
    assert (rf.loc[rf["fold"] <= 1, "status"] == "ok").all()  # rounds 1 and 2 all ran
    won = gone[gone["framework"] == "rf_a"]
    assert len(won) >= 1 and (won["race_leader"] == "rf_a").all() and won["race_pvalue"].isna().all()
    assert won["error_message"].str.contains("the only framework left").all()
    # smallest budget first: every 1 s job that ran was given its slot before the last 2 s one
    started = {}
    for spec in out.glob("jobs/*/spec.json"):
        started.setdefault(json.loads(spec.read_text())["budget_s"], []).append(spec.stat().st_mtime)
    assert max(started[1.0]) <= max(started[2.0]) and min(started[1.0]) <= min(started[2.0])


def test_replay_of_a_bad_run_directory_exits_2(tmp_path):
    p = run_cli("race", "--replay", tmp_path / "absent")
    assert p.returncode == 2 and "no such run directory" in p.stderr
    p = run_cli("race", "--replay", tmp_path)
    assert p.returncode == 2 and "not a run directory" in p.stderr
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "results.csv").write_text("not,a,results,file\n")
    p = run_cli("race", "--replay", tmp_path / "results.csv")
    assert p.returncode == 2 and "not a run directory (a file)" in p.stderr
    p = run_cli("race", "--replay", tmp_path)
    assert p.returncode == 2 and "not a results file" in p.stderr
    assert (tmp_path / "results.csv").read_text() == "not,a,results,file\n"
    p = run_cli("race", "--replay", tmp_path, "--race-min-blocks", "1")
    assert p.returncode == 2 and "--race-min-blocks" in p.stderr


def test_race_options_are_checked(tmp_path):
    p = run_cli("run", "--suite", "smoke", "--out", tmp_path / "r", "--race-alpha", "0.1")
    assert p.returncode == 2 and "give --race too" in p.stderr
    p = run_cli("run", "--suite", "smoke", "--out", tmp_path / "r", "--race-run-winner")
    assert p.returncode == 2 and "give --race too" in p.stderr
    p = run_cli("run", "--suite", "smoke", "--out", tmp_path / "r", "--race",
                "--race-alpha", "0")  # fmt: skip
    assert p.returncode == 2 and "--race-alpha" in p.stderr
    assert not (tmp_path / "r").exists()


def test_resumed_race_keeps_raced_out_jobs_and_a_plain_run_runs_them(raced, tmp_path):
    d, raced_out = raced
    out = tmp_path / "run"  # a copy: the other tests read the raced run, in any order
    shutil.copytree(raced_out, out, symlinks=True)
    n_out = int((_rows(out)["status"] == "raced_out").sum())
    p = run_cli("run", "--suite", d / "suite.yaml", "--out", out, "--parallel", 2, "--race",
                "--no-report", env=_env(d))  # fmt: skip
    assert p.returncode == 0, p.stderr[-3000:]
    assert f"executed 0 of {len(TASKS) * FOLDS * 3} jobs" in p.stdout
    assert int((_rows(out)["status"] == "raced_out").sum()) == n_out
    p = run_cli("run", "--suite", d / "suite.yaml", "--out", out, "--parallel", 2,
                "--no-report", env=_env(d))  # fmt: skip
    assert p.returncode == 0, p.stderr[-3000:]
    assert f"executed {n_out} of" in p.stdout
    df = _rows(out)
    assert (df["status"] == "ok").all() and len(df) == len(TASKS) * FOLDS * 3


# -- the rule on small tables ----------------------------------------------------------------
def _table(cols: dict) -> pd.DataFrame:
    return pd.DataFrame(cols)


def test_friedman_matches_scipy():
    rng = np.random.default_rng(0)
    m = rng.normal(size=(12, 4))
    m[:, 3] -= 1.0
    ours = race._friedman(m)
    ref = st.friedmanchisquare(*m.T).pvalue
    assert ours == pytest.approx(ref, rel=1e-9)


def test_no_drop_before_min_blocks_and_identical_frameworks_never_drop():
    worse = np.arange(6, dtype=float)
    t = _table({"a": worse + 10, "b": worse + 10, "c": worse})
    fp, leader, ranks, pv, dropped = race.decide(t, race.Rule(0.05, 5))
    assert dropped == ["c"] and pv["b"] == 1.0 and leader in ("a", "b")
    fp, leader, ranks, pv, dropped = race.decide(t.iloc[:4], race.Rule(0.05, 5))
    assert fp is None and dropped == []  # 4 blocks < 5


def test_no_drop_when_friedman_does_not_reject():
    rng = np.random.default_rng(1)
    t = _table({f: rng.normal(size=8) for f in "abc"})
    fp, _, _, _, dropped = race.decide(t, race.Rule(0.05, 5))
    assert fp >= 0.05 and dropped == []


def test_holm_is_monotone_and_capped():
    out = race._holm({"x": 0.01, "y": 0.04, "z": 0.03})
    assert out == {"x": 0.03, "z": 0.06, "y": 0.06}
    assert race._holm({"x": 0.9, "y": 0.8}) == {"y": 1.0, "x": 1.0}


def test_failures_take_the_constant_result_and_skipped_jobs_leave_their_block_out():
    rows = pd.DataFrame([
        {"framework": "a", "task": "t", "fold": 0, "status": "ok", "result": -0.5},
        {"framework": "b", "task": "t", "fold": 0, "status": "timeout", "result": None},
        {"framework": "a", "task": "u", "fold": 0, "status": "ok", "result": -0.4},
        {"framework": "b", "task": "u", "fold": 0, "status": "skipped", "result": None},
        {"framework": "a", "task": "v", "fold": 0, "status": "ok", "result": -0.4},
        {"framework": "b", "task": "v", "fold": 0, "status": "raced_out", "result": None},
    ])  # fmt: skip
    m = race.block_scores(rows, {("t", 0): -2.0, ("u", 0): -2.5, ("v", 0): -2.2})
    assert m.loc[("t", 0), "b"] == -2.0
    assert np.isnan(m.loc[("u", 0), "b"])
    assert ("v", 0) not in m.dropna().index
    assert list(m.dropna().index) == [("t", 0)]


def test_each_budget_races_on_its_own():
    """c is worse than a and b at 10 s on every block, as good as them at 30 s: it is dropped
    at 10 s only, and the 30 s race does not see the 10 s evidence."""
    rows = []
    for budget, gap in ((10.0, 1.0), (30.0, 0.0)):
        for t in range(4):
            for fold in range(2):
                for f, shift in (("a", 0.0), ("b", 0.0), ("c", -gap)):
                    rows.append({"framework": f, "task": f"t{t}", "fold": fold,
                                 "budget_s": budget, "status": "ok",
                                 "result": -1.0 - 0.1 * t + shift})  # fmt: skip
    df = pd.DataFrame(rows)
    tr = race.trace(df, df, {}, race.Rule(0.05, 5))
    assert tr.budgets == [10.0, 30.0] and tr.rounds[10.0] == [0, 1]
    d = tr.dropped("c", 10.0)
    assert d is not None and d.round == 2 and d.blocks == 8
    assert tr.dropped("c", 30.0) is None
    assert tr.survivors(30.0) == ["a", "b", "c"]
    # a round not finished is not decided: remove one 30 s job of round 2
    part = df.drop(df[(df["budget_s"] == 30.0) & (df["fold"] == 1)].index[:1])
    tr2 = race.trace(part, df, {}, race.Rule(0.05, 5))
    assert tr2.decided(30.0) == 1 and tr2.decided(10.0) == 2


def _three(worse_c: float, folds: int = 4) -> pd.DataFrame:
    """a better than b, b better than c by ``worse_c``, on 4 tasks x ``folds`` folds."""
    rows = []
    for t in range(4):
        for fold in range(folds):
            for f, shift in (("a", 0.0), ("b", -1.0), ("c", -1.0 - worse_c)):
                rows.append({"framework": f, "task": f"t{t}", "fold": fold, "budget_s": 10.0,
                             "status": "ok", "result": -1.0 - 0.1 * t + shift})  # fmt: skip
    return pd.DataFrame(rows)


def test_the_race_ends_when_one_framework_is_left_unless_the_winner_runs_on():
    df = _three(1.0)
    tr = race.trace(df, df, {}, race.Rule(0.05, 5))
    # after round 2 (8 blocks) both b and c lose every block to a: a is left alone
    assert {f: (d.round, d.won) for (f, _), d in tr.drops.items()} == {
        "b": (2, False), "c": (2, False), "a": (2, True)}  # fmt: skip
    assert tr.winner(10.0).framework == "a" and tr.survivors(10.0) == ["a"]
    assert tr.decided(10.0) == 2  # no decision after the race ended
    assert "the only framework left" in tr.winner(10.0).message()
    assert tr.winner(10.0).columns()["race_pvalue"] is None
    # the winner's rounds 3 and 4 are not part of what the race uses
    from automl_bench.race.report_section import replay_compute

    used, total = replay_compute(df.assign(duration=1.0, cores=1), tr)
    assert (used, total) == (3 * 8.0, 48.0)  # a, b, c on rounds 1-2 of 4 tasks
    # --race-run-winner: the same drops, and a runs to the end
    tr2 = race.trace(df, df, {}, race.Rule(0.05, 5, run_winner=True))
    assert {f for (f, _) in tr2.drops} == {"b", "c"} and tr2.winner(10.0) is None
    assert replay_compute(df.assign(duration=1.0, cores=1), tr2)[0] == 8.0 * 2 + 16.0
    assert "runs every fold" in race.Rule(run_winner=True).describe()


def test_a_race_whose_last_round_leaves_one_framework_does_not_mark_a_winner():
    df = _three(1.0, folds=2)  # the only decision is after the last round
    tr = race.trace(df, df, {}, race.Rule(0.05, 5))
    assert tr.winner(10.0) is None and tr.survivors(10.0) == ["a"]
