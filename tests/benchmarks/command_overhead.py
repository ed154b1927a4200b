"""What a user waits for outside the jobs: CLI start, input checks, task loading, the warm
launcher, the first worker, each job's own overhead, and the end of the run, on a 10-job
constant-predictor run of a cached task; optionally beside the AutoML Benchmark (AMLB) on the
same 10 splits.

    python tests/benchmarks/command_overhead.py [--repeats 3] [--cold-start] [--source DIR]
                                                [--amlb AMLB_CHECKOUT --amlb-python PYTHON]

``--source DIR`` runs the CLI from another source tree (e.g. an older commit unpacked with
``git archive``) to compare, with the same data and machine. ``--amlb`` runs AMLB's
``constantpredictor`` (``runbenchmark.py ... -m local``, its own interpreter given by
``--amlb-python``) on CSV files of the same 10 train/test splits, alternating with our runs
so both see the same load; it needs no network (a local file dataset).

Prints medians over --repeats runs of the whole command, each into a fresh run directory,
wall seconds and CPU seconds (CPU time is what a busy machine inflates least; the load
average is printed before and after). The phases come from the marks the CLI writes when
``$AUTOML_BENCH_TIMELINE`` names a file (:mod:`automl_bench.timeline`):
- CLI start: `--help`, `list suites` and a bad-input error (targets < 0.5 s);
- checks: command start to the end of the cheap input checks (suite, frameworks, options);
- data loaded: to the end of loading, validating and splitting the cached task;
- launcher ready: the warm launcher (started first thing) has imported what workers need;
- first worker: command start to the first worker's started.json (target < 1 s);
- per-job overhead: a job's wall time minus its fit and predict time (median over jobs);
- after the last job: to results.csv written, and to the command's exit;
- outside jobs: whole-command wall minus the time when a job was running (target < 2 s);
  its CPU is the CPU of every process of the command less that of the jobs;
- report: how long after the command's exit the background report's index.html appears.

The task is semeion from the shared datasets (1593 x 256, 10 classes) when present, else a
generated Parquet file of the same shape; a first, unmeasured run fills the task cache.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("AUTOML_BENCH_SHARED", ROOT.parent / "shared"))
CLI = [sys.executable, "-m", "automl_bench"]
BUDGET_S = 30

SUITE = """
name: overhead-10
folds: 10
seed: 0
constraint: {{budget_s: {budget}, cores: 1, memory_mb: 2048}}
frameworks: [constant]
tasks:
  - name: {name}
    file: {{path: {path}, target: {target}}}
"""


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg()) + f" on {os.cpu_count()} CPUs"


def data(tmp: Path) -> tuple[str, Path, str]:
    semeion = SHARED / "datasets" / "semeion.parquet"
    if semeion.exists():
        return "semeion", semeion, "class"
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.integers(0, 2, size=(1593, 256)).astype(float),
                         columns=[f"f{i}" for i in range(256)])  # fmt: skip
    frame["class"] = rng.integers(0, 10, size=1593).astype(str)
    path = tmp / "generated-1593x256.parquet"
    frame.to_parquet(path)
    return "generated", path, "class"


def children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def timed(cmd, env, cwd) -> tuple[float, float, subprocess.CompletedProcess]:
    """(wall, CPU seconds, result) of one command and every process it waited for."""
    c0, t0 = children_cpu(), time.monotonic()
    p = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    return time.monotonic() - t0, children_cpu() - c0, p


def union(intervals) -> float:
    total, end = 0.0, -np.inf
    for a, b in sorted(intervals):
        if b > end:
            total += b - max(a, end)
            end = b
    return total


def marks(path: Path, driver_pid: int) -> dict:
    """phase -> (wall time, CPU seconds of its process); 'job done' -> list of them."""
    out: dict = {"job done": []}
    for line in path.read_text().splitlines():
        m = json.loads(line)
        point = (m["time"], m["cpu"])
        if m["phase"] == "job done" and m["pid"] == driver_pid:
            out["job done"].append(point)
        elif m["phase"].startswith("launcher") and m["pid"] != driver_pid:
            out.setdefault(m["phase"], point)  # the first launcher's
        elif m["pid"] == driver_pid:
            out[m["phase"]] = point
    return out


def our_run(suite: Path, out: Path, env, cwd, extra) -> dict:
    from automl_bench.planning.plan import job_dir

    trace = out.with_name(out.name + ".timeline")
    env = {**env, "AUTOML_BENCH_TIMELINE": str(trace)}
    c0, t0 = children_cpu(), time.time()
    proc = subprocess.Popen([*CLI, "run", "--suite", suite, "--out", out, *extra], env=env,
                            cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    stdout, stderr = proc.communicate()
    t_exit, cpu = time.time(), children_cpu() - c0
    if proc.returncode != 0:
        sys.exit(f"run failed:\n{stdout}\n{stderr}")
    df = pd.read_csv(out / "results.csv")
    assert len(df) == 10 and (df["status"] == "ok").all(), df["error_message"]
    jobs = []
    for r in df.itertuples():
        d = job_dir(out, r.framework, r.task, r.fold, r.job_id)
        jobs.append((json.loads((d / "started.json").read_text())["time"],
                     (d / "outcome.json").stat().st_mtime))  # fmt: skip
    html = out / "report" / "index.html"
    deadline = time.time() + 300
    while "--no-report" not in extra and not html.exists() and time.time() < deadline:
        time.sleep(0.05)
    nan = (float("nan"), float("nan"))  # a source tree older than the marks has none
    m = marks(trace, proc.pid) if trace.exists() else {"job done": [nan]}
    checked, loaded, ready = m.get("checked", nan), m.get("loaded", nan), m.get("launcher ready", nan)
    last_end = max(e for _, e in jobs)
    last_done_cpu = max(c for _, c in m["job done"])
    wall, jobs_cpu = t_exit - t0, float(df["cpu_time"].sum())
    return {
        "wall": wall,
        "cpu": cpu,
        "checked": checked[0] - t0,
        "checked_cpu": checked[1],
        "loaded": loaded[0] - t0,
        "loaded_cpu": loaded[1] - checked[1],
        "launcher": ready[0] - t0,
        "launcher_cpu": ready[1],
        "preloaded": m.get("launcher preloaded", ready)[0] - t0,
        "first_worker": min(s for s, _ in jobs) - t0,
        "per_job": statistics.median(df["duration"] - df["training_duration"]
                                     - df["predict_duration"]),  # fmt: skip
        "job_cpu": float(df["cpu_time"].median()),
        "jobs": union(jobs),
        "jobs_cpu": jobs_cpu,
        "results_final": (out / "results.csv").stat().st_mtime - last_end,
        "exit_after_last_job": t_exit - last_end,
        "tail_cpu": m.get("exit", nan)[1] - last_done_cpu,
        "report_after_exit": html.stat().st_mtime - t_exit if html.exists() else float("nan"),
        "outside": wall - union(jobs),
        "outside_cpu": cpu - jobs_cpu,
    }


# -- the AutoML Benchmark on the same splits ---------------------------------------------------


def amlb_inputs(run_dir: Path, name: str, tmp: Path) -> tuple[Path, Path]:
    """CSV files of our run's 10 train/test splits, and an AMLB user dir (benchmark file,
    a 1-core constraint with our budget, the config naming it)."""
    task = run_dir / "tasks" / name
    meta = json.loads((task / "meta.json").read_text())
    frame = pd.read_parquet(task / "data.parquet").rename(columns={meta["target_column"]: "class"})
    data_dir, user = tmp / "amlb-data", tmp / "amlb-user"
    data_dir.mkdir()
    user.mkdir()
    train, test = [], []
    for i, fold in enumerate(json.loads((task / "folds.json").read_text())):
        train.append(str(data_dir / f"{name}_train_{i}.csv"))
        test.append(str(data_dir / f"{name}_test_{i}.csv"))
        frame.iloc[fold["train"]].to_csv(train[-1], index=False)
        frame.iloc[fold["test"]].to_csv(test[-1], index=False)
    (user / "bench.yaml").write_text(json.dumps([{
        "name": name, "folds": len(train),
        "dataset": {"train": train, "test": test, "target": "class", "type": "multiclass"},
    }]))  # fmt: skip
    (user / "constraints.yaml").write_text(json.dumps(
        {"overhead": {"folds": len(train), "max_runtime_seconds": BUDGET_S, "cores": 1}}))  # fmt: skip
    (user / "config.yaml").write_text(json.dumps({"benchmarks": {"constraints_file": [
        "{root}/resources/constraints.yaml", "{user}/constraints.yaml"]}}))  # fmt: skip
    return data_dir, user


def amlb_run(amlb: Path, python: str, data_dir: Path, user: Path, out: Path) -> dict:
    cmd = [python, str(amlb / "runbenchmark.py"), "constantpredictor", str(user / "bench.yaml"),
           "overhead", "-m", "local", "-u", str(user), "-o", str(out), "-i", str(data_dir)]  # fmt: skip
    wall, cpu, p = timed(cmd, {**os.environ, "PYTHONPATH": ""}, amlb)
    if p.returncode != 0:
        sys.exit(f"AMLB failed:\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
    (log,) = out.glob("*/logs/*.full.log")
    jobs = [float(s) for s in re.findall(r"Job `[^`]+` executed in ([0-9.]+) seconds", log.read_text())]
    (scores,) = out.glob("*/scores/results.csv")
    df = pd.read_csv(scores)
    assert len(jobs) == len(df) == 10 and df["result"].notna().all(), (jobs, df)
    fit = (df["training_duration"] + df["predict_duration"]).to_numpy()
    return {"wall": wall, "cpu": cpu, "jobs": sum(jobs), "outside": wall - sum(jobs),
            "per_job": statistics.median(np.asarray(jobs) - fit)}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--cold-start", action="store_true", help="pass --cold-start to run")
    ap.add_argument("--source", type=Path, default=ROOT, help="source tree of the CLI to time")
    ap.add_argument("--amlb", type=Path, help="an AutoML Benchmark checkout to run beside ours")
    ap.add_argument("--amlb-python", default="python3", help="the interpreter AMLB is installed in")
    args = ap.parse_args()
    print(f"load average before: {load()}; CLI from {args.source}")
    tmp = Path(tempfile.mkdtemp(prefix="automl-bench-command-overhead-"))
    env = {**os.environ, "AUTOML_BENCH_CACHE": str(tmp / "cache"),
           "PYTHONPATH": os.pathsep.join(p for p in (str(args.source.resolve()),
                                                     os.environ.get("PYTHONPATH")) if p)}  # fmt: skip
    try:
        starts = {}
        for label, a in (("--help", ["--help"]), ("list suites", ["list", "suites"]),
                         ("bad input", ["run", "--suite", "no-such-suite"])):  # fmt: skip
            times = [timed([*CLI, *a], env, tmp) for _ in range(max(3, args.repeats))]
            starts[label] = [statistics.median(t[i] for t in times) for i in (0, 1)]
        print("CLI start, median wall (CPU): "
              + ", ".join(f"{k} {w:.2f} s ({c:.2f} s)" for k, (w, c) in starts.items())
              + " (target < 0.5 s)")  # fmt: skip

        name, path, target = data(tmp)
        suite = tmp / "suite.yaml"
        suite.write_text(SUITE.format(name=name, path=path, target=target, budget=BUDGET_S))
        extra = ["--cold-start"] if args.cold_start else []
        our_run(suite, tmp / "fill-cache", env, tmp, [*extra, "--no-report"])
        amlb_dirs = amlb_inputs(tmp / "fill-cache", name, tmp) if args.amlb else None
        runs, theirs = [], []
        for i in range(args.repeats):  # alternating, so both see the same load
            runs.append(our_run(suite, tmp / f"run-{i}", env, tmp, extra))
            if amlb_dirs:
                theirs.append(amlb_run(args.amlb, args.amlb_python, *amlb_dirs, tmp / f"amlb-{i}"))
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        print(f"10 constant-predictor jobs on {name} (cached task), 1 slot, {args.repeats} runs, "
              "medians, wall (CPU):")  # fmt: skip
        rows = [
            ("whole command", f"{med['wall']:.2f} s", f"{med['cpu']:.2f} s", "all processes"),
            ("checks done", f"at {med['checked']:.2f} s", f"{med['checked_cpu']:.2f} s",
             "driver, interpreter start included"),
            ("data loaded", f"at {med['loaded']:.2f} s", f"+{med['loaded_cpu']:.2f} s", "driver"),
            ("launcher ready", f"at {med['launcher']:.2f} s", f"{med['launcher_cpu']:.2f} s",
             f"launcher (run's adapters loaded at {med['preloaded']:.2f} s)"),
            ("first worker", f"at {med['first_worker']:.2f} s", "", "target < 1 s"),
            ("per-job overhead", f"{med['per_job']:.3f} s", f"{med['job_cpu']:.3f} s",
             "job wall - fit - predict; CPU: a whole job's"),
            ("jobs running", f"{med['jobs']:.2f} s", f"{med['jobs_cpu']:.2f} s", "all 10 jobs"),
            ("results.csv final", f"{med['results_final']:.2f} s", "", "after the last job"),
            ("command exits", f"{med['exit_after_last_job']:.2f} s", f"{med['tail_cpu']:.2f} s",
             "after the last job; CPU: driver"),
            ("outside jobs", f"{med['outside']:.2f} s", f"{med['outside_cpu']:.2f} s",
             "target < 2 s"),
        ]  # fmt: skip
        for label, wall, cpu, note in rows:
            print(f"  {label:20s} {wall:>10s} {cpu:>9s}   {note}")
        when = med["report_after_exit"]
        print(f"  report ready {abs(when):.2f} s "
              + ("after the command exited (background)" if when >= 0 else
                 "before the command exited (built in the foreground)"))  # fmt: skip
        if theirs:
            am = {k: statistics.median(r[k] for r in theirs) for k in theirs[0]}
            print(f"AMLB constantpredictor, same 10 splits (CSV), {args.repeats} runs alternating "
                  "with ours, medians:")  # fmt: skip
            print(f"  whole command        {am['wall']:>8.2f} s {am['cpu']:>7.2f} s")
            print(f"  jobs (its own timer) {am['jobs']:>8.2f} s")
            print(f"  outside jobs         {am['outside']:>8.2f} s")
            print(f"  per-job overhead     {am['per_job']:>8.3f} s")
            ratio = [o["wall"] / t["wall"] for o, t in zip(runs, theirs, strict=True)]
            print(f"whole command, ours / AMLB's: median {statistics.median(ratio):.2f} "
                  f"(runs: {', '.join(f'{r:.2f}' for r in ratio)}); outside jobs "
                  f"{med['outside']:.2f} s vs {am['outside']:.2f} s")  # fmt: skip
    finally:
        print(f"load average after: {load()}")
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
