"""One test per class of hostile input or shared-machine defect, on real data: run
directories that are not ours, damaged stores, values that switch enforcement off, planted
pids, data-derived markup, alias bombs, the former exit-1 cases, and contention."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import adapter_env, run_cli
from inprocess import main as cli

from automl_bench.planning import plan

TESTS = Path(__file__).resolve().parent
FW_ENV = adapter_env(TESTS / "hostile_frameworks.yaml")

SUITE = """name: {name}
folds: 2
constraint: {{budget_s: {budget}, cores: 1, memory_mb: 1024}}
frameworks: [constant]
tasks:
  - name: {task}
    file: {{path: {data}, target: {target}}}
"""


def _suite(tmp: Path, data: Path, name="hostile", budget=5, task="segment", target="class"):
    p = tmp / f"{name}.yaml"
    p.write_text(SUITE.format(name=name, budget=budget, task=task, data=json.dumps(str(data)),
                              target=target))  # fmt: skip
    return p


@pytest.fixture
def env(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("AUTOML_BENCH_CACHE", str(cache))
    return {"AUTOML_BENCH_CACHE": str(cache)}


@pytest.fixture
def segment(datasets_dir, tmp_path) -> Path:
    p = tmp_path / "segment.parquet"
    shutil.copyfile(datasets_dir / "segment.parquet", p)
    return p


def _run(suite, out, *extra, env=None):
    return run_cli("run", "--suite", suite, "--out", out, "--no-report", *extra, env=env)


# ------------------------------------------------------------ 2. a run directory is ours


def test_out_root_and_user_files_are_refused(tmp_path, segment, env):
    suite = _suite(tmp_path, segment)
    code, _, err = cli("run", "--suite", suite, "--out", "/", "--cold-start")
    assert code == 2 and "did not write" in err
    mine = tmp_path / "mine"
    mine.mkdir()
    files = {"results.csv": "a,b\n1,2\n", "suite.yaml": "mine: 1\n", "plan.json": "[]",
             "notes.txt": "x"}  # fmt: skip
    for k, v in files.items():
        (mine / k).write_text(v)
    (mine / "report").mkdir()
    (mine / "report" / "index.html").write_text("<p>mine</p>")
    code, _, err = cli("run", "--suite", suite, "--out", mine, "--cold-start")
    assert code == 2 and "choose another --out" in " ".join(err.split())
    assert {k: (mine / k).read_text() for k in files} == files
    assert (mine / "report" / "index.html").read_text() == "<p>mine</p>"
    assert not (env["AUTOML_BENCH_CACHE"] and Path(env["AUTOML_BENCH_CACHE"]).exists())


def test_other_suite_data_or_constraint_into_a_run_is_refused(tmp_path, segment, env):
    out = tmp_path / "run"
    suite = _suite(tmp_path, segment)
    assert _run(suite, out, env=env).returncode == 0
    marker = json.loads((out / ".automl-bench-run.json").read_text())
    assert marker["constraint"] == {"budget_s": 5.0, "cores": 1, "memory_mb": 1024}
    assert set(marker["data"]) == {"segment"} and marker["suite"] == "hostile"
    csv = (out / "results.csv").read_bytes()

    for extra, says in ((["--budget", "3"], "budget_s 5 -> 3"),):
        p = _run(suite, out, *extra, env=env)
        assert p.returncode == 2 and says in p.stderr and "another --out" in p.stderr
    other = _suite(tmp_path, segment, name="other")
    p = _run(other, out, env=env)
    assert p.returncode == 2 and "suite 'hostile' -> 'other'" in p.stderr
    # the data file changes under the same suite
    df = pd.read_parquet(segment)
    df.iloc[:5, 0] = df.iloc[:5, 0] * 2 + 1
    df.to_parquet(segment)
    p = _run(suite, out, env=env)
    assert p.returncode == 2 and "data of task(s) 'segment'" in " ".join(p.stderr.split())
    assert (out / "results.csv").read_bytes() == csv  # the old rows are neither mixed nor lost
    # without its marker the directory is no longer a run's: refused, nothing written
    (out / ".automl-bench-run.json").unlink()
    code, _, err = cli("run", "--suite", suite, "--out", out, "--budget", "4", "--cold-start")
    assert code == 2 and "did not write" in err
    assert (out / "results.csv").read_bytes() == csv
    # elsewhere it runs, and the same inputs resume into their own directory
    assert _run(suite, tmp_path / "run2", env=env).returncode == 0
    assert "executed 0 of 2" in _run(suite, tmp_path / "run2", env=env).stdout


def test_a_report_writes_only_where_a_report_of_ours_lives(tmp_path, segment, env, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "run"
    assert _run(_suite(tmp_path, segment), out, env=env).returncode == 0
    mine = tmp_path / "mine"  # the user's folder, with files named like a report's
    (mine / "tables").mkdir(parents=True)
    files = {"index.html": "<p>mine</p>", "report.md": "# mine\n", "tables/leaderboard.csv": "a\n"}
    for k, v in files.items():
        (mine / k).write_text(v)
    code, _, err = cli("report", out, "--out", mine)
    assert code == 2 and "did not write" in err and str(mine) in " ".join(err.split())
    assert {k: (mine / k).read_text() for k in files} == files
    # `..` is taken lexically: nothing is created on the way to a refusal
    code, _, err = cli("report", out, "--out", "a/missing/../../mine")
    assert code == 2 and "did not write" in err and not (tmp_path / "a").exists()
    # a new directory becomes a report's (its marker), and a report there again is allowed
    assert cli("report", out, "--out", "a/missing/../../rep")[0] == 0
    rep = tmp_path / "rep"
    assert (rep / ".automl-bench-report.json").is_file() and not (tmp_path / "a").exists()
    assert cli("report", out, "--out", rep)[0] == 0
    # a link planted in it is never written through
    (rep / "tables" / "leaderboard.csv").unlink()
    (rep / "tables" / "leaderboard.csv").symlink_to(mine / "tables" / "leaderboard.csv")
    code, _, err = cli("report", out, "--out", rep)
    assert code == 2 and "symbolic link" in err
    assert {k: (mine / k).read_text() for k in files} == files
    # a run's own report folder is the run's, marker or not (as older runs made it)
    (out / "report").mkdir()
    (out / "report" / "index.html").write_text("old")
    assert cli("report", out)[0] == 0 and (out / "report" / "index.html").read_text() != "old"


@pytest.mark.parametrize("damage", ["empty", "half"])
def test_damaged_store_is_named_never_rebuilt(tmp_path, segment, env, damage):
    out = tmp_path / "run"
    suite = _suite(tmp_path, segment)
    assert _run(suite, out, env=env).returncode == 0
    csv = (out / "results.csv").read_bytes()
    db = out / "results.sqlite"
    size = db.stat().st_size
    with open(db, "r+b") as f:
        f.truncate(0 if damage == "empty" else size // 2)
    for argv in (["show", out], ["report", out], ["run", "--suite", suite, "--out", out,
                                                   "--cold-start"]):  # fmt: skip
        code, o, e = cli(*argv)
        assert code == 2, (argv, o, e)
        assert "damaged results store" in e and "results.sqlite" in e
        assert "Traceback" not in o + e
    assert (out / "results.csv").read_bytes() == csv
    assert db.stat().st_size == (0 if damage == "empty" else size // 2)


# ------------------------------------------- 3. values that switched enforcement off


def test_nan_inf_and_negative_limits_refused_before_anything_is_written(tmp_path, segment, env):
    suite = _suite(tmp_path, segment)
    for extra in (["--grace-margin", "nan"], ["--budget", "inf"], ["--setup-grace", "-100"],
                  ["--seed", "-1"], ["--kill-grace", "nan"]):  # fmt: skip
        code, _, err = cli("run", "--suite", suite, "--out", tmp_path / "run", "--cold-start",
                           *extra)  # fmt: skip
        assert code == 2 and extra[0] in err, (extra, err)
    assert not (tmp_path / "run").exists() and not (tmp_path / "cache").exists()


def _start_time(pid: int) -> float:
    from automl_bench.execution.proctree import proc_table

    return proc_table()[pid].start


def test_planted_worker_json_never_signals_a_stranger(tmp_path, segment, env):
    """A resume reads jobs/<id>/worker.json: a process it names is killed only when its
    environment carries the run's token and the job's directory."""
    out = tmp_path / "run"
    suite = _suite(tmp_path, segment)
    assert _run(suite, out, "--folds", "1", env=env).returncode == 0
    job = json.loads((out / "plan.json").read_text())[0]
    job_dir = plan.job_dir(out, job["framework"], job["task"], job["fold"], job["id"])
    token = json.loads((out / ".automl-bench-run.json").read_text())["token"]
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"],
                                start_new_session=True)  # fmt: skip
    ours = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(120)"], start_new_session=True,
        env={**os.environ, "AUTOML_BENCH_RUN_TOKEN": token, "AUTOML_BENCH_JOB_DIR": str(job_dir)},
    )  # fmt: skip
    try:
        time.sleep(0.3)
        results = []
        for victim in (stranger, ours):
            (job_dir / "worker.json").write_text(
                json.dumps({"pid": victim.pid, "start": _start_time(victim.pid)}))  # fmt: skip
            with sqlite3.connect(out / "results.sqlite") as c:  # the job must run again
                c.execute("DELETE FROM results WHERE job_id = ?", (job["id"],))
            p = _run(suite, out, "--folds", "1", env=env)
            assert p.returncode == 0, p.stderr[-2000:]
            time.sleep(0.2)
            results.append(victim.poll())
        assert results[0] is None, "a process not of this run was signalled"
        assert results[1] == -signal.SIGKILL, "the run's own leftover was not swept"
    finally:
        for p in (stranger, ours):
            if p.poll() is None:
                p.kill()
            p.wait()


# ----------------------------------------------------- 4. text is printed as text


def test_markup_in_data_errors_and_hints_is_printed_literally(tmp_path, datasets_dir, env):
    df = pd.read_parquet(datasets_dir / "anneal.parquet")
    df = df.rename(columns={"m": "[/b]", "marvi": "[bold]x[/bold]"})  # all-missing: dropped
    df["class"] = "[red]" + df["class"].astype(str)
    data = tmp_path / "anneal[bold].parquet"
    df.to_parquet(data)
    suite = _suite(tmp_path, data, task="anneal")
    suite.write_text(suite.read_text().replace("[constant]", "[constant, fails_with_markup]"))
    out = tmp_path / "run"
    p = _run(suite, out, env={**env, **FW_ENV})
    assert p.returncode == 0, p.stderr[-3000:]
    assert "column [/b] has [bold]odd[/bold] values" in p.stderr  # the progress line, verbatim
    s = run_cli("show", out, env=FW_ENV)
    assert s.returncode == 0 and "[/b]" in s.stdout and "anneal[bold].parquet" in s.stdout
    t = run_cli("list", "tasks", "--suite", suite, env={**env, **FW_ENV})
    assert t.returncode == 0 and "[bold]x[/bold]" in t.stdout
    f = run_cli("list", "frameworks", env=FW_ENV)
    assert f.returncode == 0
    assert "'.[h2o]'" in f.stdout and "[red]markup[/red]" in f.stdout


# ------------------------------------------------------------ 5. suites are bounded


def test_alias_bomb_refused_fast_and_suite_parsed_once(tmp_path, segment):
    from automl_bench import yamlio
    from automl_bench.planning.suite import load_suite

    levels = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, 9):
        levels.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join(levels) + "\n" + SUITE.format(
        name="b", budget=5, task="t", data=segment, target="class"))  # fmt: skip
    assert bomb.stat().st_size < 1000
    t0 = time.perf_counter()
    code, _, err = cli("run", "--suite", bomb, "--out", tmp_path / "run", "--cold-start")
    assert code == 2 and "aliases are expanded" in err and len(err) < 1000
    assert time.perf_counter() - t0 < 60  # expanded, 9**9 values would take far longer
    # a long bad value is quoted in at most a few hundred characters
    long = _suite(tmp_path, segment, name="long")
    long.write_text(long.read_text().replace("folds: 2", "folds: '" + "7" * 100_000 + "'"))
    code, _, err = cli("run", "--suite", long, "--out", tmp_path / "run", "--cold-start")
    assert code == 2 and "folds" in err and len(err) < 1000
    # parsed once: the second load returns the same object without reading the file again
    good = _suite(tmp_path, segment)
    calls = []
    real = yamlio.read_yaml
    import automl_bench.planning.suite as suite_mod

    suite_mod.read_yaml = lambda p: calls.append(p) or real(p)
    try:
        assert load_suite(str(good))[0] is load_suite(str(good))[0]
    finally:
        suite_mod.read_yaml = real
    assert len(calls) == 1


# ---------------------------------------------------------- 6. former exit-1 cases


def test_huge_integer_labels_exit_2_and_leave_no_temp_dirs(tmp_path, datasets_dir, env):
    df = pd.read_parquet(datasets_dir / "segment.parquet")
    codes = {v: i for i, v in enumerate(sorted(df["class"].unique()))}
    df["class"] = [str(2**70 + codes[v]) for v in df["class"]]
    data = tmp_path / "huge.csv"
    df.to_csv(data, index=False)
    code, _, err = cli("run", "--suite", _suite(tmp_path, data), "--out", tmp_path / "run",
                       "--cold-start")  # fmt: skip
    assert code == 2 and "beyond 64 bits" in err and "huge.csv" in err
    cache = Path(env["AUTOML_BENCH_CACHE"])
    assert not list(cache.rglob(".*")) and not (tmp_path / "run").exists()


def test_parquet_gz_runs_on_real_data(tmp_path, datasets_dir, env):
    import gzip

    data = tmp_path / "cnae-9.parquet.gz"
    data.write_bytes(gzip.compress((datasets_dir / "cnae-9.parquet").read_bytes()))
    target = pd.read_parquet(datasets_dir / "cnae-9.parquet").columns[-1]
    suite = _suite(tmp_path, data, task="cnae", target=target)
    p = _run(suite, tmp_path / "run", env=env)
    assert p.returncode == 0, p.stderr[-2000:]
    df = pd.read_csv(tmp_path / "run" / "results.csv")
    assert (df["status"] == "ok").all() and len(df) == 2


def test_cache_key_includes_the_file_format(tmp_path, datasets_dir, env):
    df = pd.read_parquet(datasets_dir / "optdigits.parquet")
    target = df.columns[-1]
    csv = tmp_path / "opt.csv"
    df.to_csv(csv, index=False)
    assert _run(_suite(tmp_path, csv, task="opt", target=target), tmp_path / "a",
                env=env).returncode == 0  # fmt: skip
    fake = tmp_path / "opt.parquet"
    shutil.copyfile(csv, fake)  # the same bytes, named as Parquet
    code, _, err = cli("run", "--suite", _suite(tmp_path, fake, name="b", task="opt",
                                                 target=target), "--out", tmp_path / "b",
                       "--cold-start")  # fmt: skip
    assert code == 2 and "cannot be read as parquet" in err


def test_short_csv_header_is_an_error_not_a_shift(tmp_path, datasets_dir):
    df = pd.read_parquet(datasets_dir / "mfeat-factors.parquet").head(400)
    lines = df.to_csv(index=False).splitlines()
    data = tmp_path / "short.csv"
    data.write_text(",".join(lines[0].split(",")[1:]) + "\n" + "\n".join(lines[1:]) + "\n")
    target = df.columns[-1]
    code, _, err = cli("run", "--suite", _suite(tmp_path, data, target=target), "--out",
                       tmp_path / "run", "--cold-start")  # fmt: skip
    assert code == 2 and "more fields than the header" in err


def test_paths_named_for_what_they_are_and_env_values_not_echoed(tmp_path, monkeypatch):
    monkeypatch.setenv("HOSTILE_TOKEN", "tok-123-secret")
    (tmp_path / "loop-a").symlink_to(tmp_path / "loop-b")
    (tmp_path / "loop-b").symlink_to(tmp_path / "loop-a")
    for data, says in ((tmp_path, "is a directory"), (tmp_path / "loop-a", "symbolic link loop"),
                       ("$HOSTILE_TOKEN/data.csv", "does not exist")):  # fmt: skip
        code, _, err = cli("run", "--suite", _suite(tmp_path, data), "--out", tmp_path / "r",
                           "--cold-start")  # fmt: skip
        assert code == 2 and says in err and "tok-123-secret" not in err, err


@pytest.mark.parametrize("server", ["file:///tmp/", "wwww", "[/b]"])
def test_openml_server_must_be_www_test_or_http(tmp_path, server, openml_cache):
    suite = tmp_path / "s.yaml"
    suite.write_text(SUITE.format(name="o", budget=5, task="t", data="x", target="y").replace(
        "file: {path: x, target: y}", f"openml: {{task: 1882, server: {json.dumps(server)}}}"))  # fmt: skip
    code, _, err = cli("run", "--suite", suite, "--out", tmp_path / "r", "--cold-start",
                       "--openml-cache", openml_cache)  # fmt: skip
    assert code == 2 and "http(s) URL" in err and not (tmp_path / "r").exists()


# ------------------------------------------------------------ 7. contention is visible


def _hogs(n: int, cpu: int | None = None) -> list[subprocess.Popen]:
    code = "import os, sys\n" + (f"os.sched_setaffinity(0, {{{cpu}}})\n" if cpu is not None
                                 else "") + "while True: pass\n"  # fmt: skip
    return [subprocess.Popen([sys.executable, "-c", code]) for _ in range(n)]


def test_cpu_share_and_load_recorded_and_flagged(tmp_path, segment, env):
    suite = _suite(tmp_path, segment)
    first_cpu = sorted(os.sched_getaffinity(0))[0]
    hogs = _hogs(2, first_cpu)  # the job is pinned to the first free CPU: it gets <= 1/3 of it
    try:
        p = _run(suite, tmp_path / "run", "--folds", "1", env=env)
    finally:
        for h in hogs:
            h.kill()
            h.wait()
    assert p.returncode == 0, p.stderr[-2000:]
    df = pd.read_csv(tmp_path / "run" / "results.csv")
    assert df["cpu_share"].notna().all() and df["load_at_start"].notna().all()
    assert (df["cpu_share"] > 0).all() and (df["cpu_share"] < 0.8).all()
    expected = (df["cpu_time"] / (df["duration"] * df["cores"])).round(4)
    assert (abs(df["cpu_share"] - expected) < 1e-3).all()
    r = run_cli("report", tmp_path / "run")
    assert r.returncode == 0 and "Contention: 1 of 1 jobs" in r.stdout  # the terminal says it
    md = (tmp_path / "run" / "report" / "report.md").read_text()
    assert "## CPU contention" in md and "1 of 1 jobs of CPU-bound backends got less than 80%" in md


def test_exclusive_waits_for_a_quiet_machine(tmp_path, segment, env):
    suite = _suite(tmp_path, segment)
    hogs = _hogs(max(2, len(os.sched_getaffinity(0))))
    try:
        t0 = time.monotonic()
        p = _run(suite, tmp_path / "run", "--folds", "1", "--exclusive", "--exclusive-wait", "3",
                 env=env)  # fmt: skip
        wall = time.monotonic() - t0
    finally:
        for h in hogs:
            h.kill()
            h.wait()
    assert p.returncode == 0, p.stderr[-2000:]
    assert "waiting for the machine to be quiet" in p.stderr
    assert "running the job anyway" in p.stderr and wall >= 3
    df = pd.read_csv(tmp_path / "run" / "results.csv")
    assert (df["status"] == "ok").all()
