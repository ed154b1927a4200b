"""The commands other than `run` (see :mod:`automl_bench.cli.run_command`): race, report,
estimate, list, show and env. Each takes the parsed arguments and returns the exit code."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from rich.text import Text

from automl_bench.cli.console import err, out
from automl_bench.cli.run_options import data_fields, plan_fields, race_rule
from automl_bench.errors import BadInput


def cmd_race(args) -> int:
    from automl_bench.race.replay import render, replay

    rp = replay(args.replay, race_rule(args, None))
    for line in render(rp):
        out.print(Text(line), highlight=False)
    return 0


def cmd_report(args) -> int:
    from automl_bench.planning.options import number
    from automl_bench.race.report_section import section as race_section
    from automl_bench.report import write_report
    from automl_bench.report.terminal import report

    number("--tolerance", args.tolerance)  # before anything is written
    # `..` taken lexically, as run's --out: a/missing/../../mine is ./mine
    out_dir = Path(os.path.normpath(args.out)) if args.out else None
    written = write_report(args.run_dirs, out_dir, args.prices,
                           impute_missing=args.impute_missing, race_section=race_section,
                           metric=args.metric, tolerance=args.tolerance,
                           references=args.reference)  # fmt: skip
    out.print(report(written.report))
    out.print(Text(f"report: {written.html}"))
    out.print(Text(f"markdown: {written.markdown}"))
    out.print(Text(f"tables: {written.out_dir / 'tables'}"))
    return 0


def cmd_estimate(args) -> int:
    from automl_bench.results.cost import load_prices
    from automl_bench.run.estimate import estimate, render
    from automl_bench.run.options import RunOptions

    opts = RunOptions(**plan_fields(args, check_run_dir=False))  # estimating writes nothing
    est = estimate(opts, load_prices(args.prices), calibrate_from=args.calibrate)
    for line in render(est):
        out.print(line)
    return 0


def cmd_list(args) -> int:
    from rich.table import Table

    if args.what is None:  # everything that needs no suite
        for what in ("frameworks", "suites"):
            cmd_list(argparse.Namespace(**{**vars(args), "what": what}))
        return 0
    if args.what == "frameworks":
        from automl_bench.planning import registry

        t = Table(title="Frameworks")
        for c in ("name", "adapter", "status", "description"):
            t.add_column(c)
        for name, v in sorted(registry.variants().items()):
            ok, reason = v.status()
            t.add_row(name, v.adapter, Text("installed", "green") if ok else Text(reason, "red"),
                      Text(v.description))  # fmt: skip
        out.print(t)
        from automl_bench.planning.capabilities import table as capability_table

        out.print(capability_table(registry.variants()))
    elif args.what == "tasks":
        from automl_bench.data.profile import table
        from automl_bench.planning.suite import load_suite
        from automl_bench.run.prepare import load_tasks, source_context

        suite, path = load_suite(args.suite)
        ctx = source_context(_data_opts(args), path)
        loaded, unavailable = load_tasks(suite, path, ctx)
        profiles = {t.name: t.profile for t in loaded}
        profiles.update({u.name: f"unavailable: {u.reason}" for u in unavailable})
        out.print(table(profiles, Text(f"Tasks of suite {suite.name} ({path})")))
    else:
        _list_suites()
    return 0


def _needs_internet(suite) -> bool:
    """A suite with OpenML tasks or an OpenML suite needs the internet (or an OpenML cache)."""
    return bool(suite.openml_suite) or any(t.source[0] == "openml" for t in suite.tasks)


def _list_suites() -> None:
    """One table of the suites, then each suite's whole path on a line of its own: a path is
    never cut, whatever the terminal's width."""
    from rich.table import Table

    from automl_bench.planning.suite import list_suites, load_suite

    t = Table(title="Suites", caption="internet: yes = needs the internet (OpenML) or an "
              "OpenML cache (--openml-cache); offline suites run anywhere")  # fmt: skip
    for c in ("name", "tasks", "folds", "constraint", "frameworks", "internet"):
        t.add_column(c)
    paths = []
    for name, path in list_suites():
        try:
            s, _ = load_suite(str(path))
            n = str(len(s.tasks)) + (f" + openml/s/{s.openml_suite}" if s.openml_suite else "")
            t.add_row(name, n, str(s.folds), s.constraint.name, ",".join(s.frameworks),
                      "yes" if _needs_internet(s) else "no")  # fmt: skip
        except BadInput as e:
            t.add_row(name, "-", "-", "-", Text(f"invalid: {e}", "red"), "-")
        paths.append((name, path))
    out.print(t)
    for name, path in paths:
        out.print(Text(f"{name}: {path}"), soft_wrap=True, overflow="ignore", crop=False)


def cmd_show(args) -> int:
    from automl_bench.report.leaderboard import leaderboard
    from automl_bench.report.terminal import table as render
    from automl_bench.results.rundir import check_store
    from automl_bench.results.store import Store

    db = args.run_dir / "results.sqlite"
    check_store(args.run_dir, expect_results=True)  # a damaged store is named, exit 2
    if not db.exists():
        raise BadInput(f"{args.run_dir}: not a run directory (no results.sqlite)")
    with Store(db) as store:
        df = store.frame()
    out.print(render(leaderboard([args.run_dir])[0], f"Leaderboard: {args.run_dir}"))
    _show_starved(df)
    counts = df["status"].value_counts().to_dict() if not df.empty else {}
    out.print(f"{len(df)} jobs: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    profiles = _run_profiles(args.run_dir)
    if profiles:
        from automl_bench.data.profile import table

        out.print(table(profiles))
    return 0


def cmd_cleanup(args) -> int:
    """Stop and delete what the run's remote jobs left; 1 when a resource could not be."""
    from automl_bench.execution import remote_cleanup
    from automl_bench.execution.runlock import run_lock

    run_dir = args.run_dir
    if not (run_dir / ".automl-bench-run.json").is_file() and not (run_dir / "jobs").is_dir():
        raise BadInput(f"{run_dir}: not a run directory (no .automl-bench-run.json or jobs/)")
    remote_cleanup.pending(run_dir)  # every ledger checked before the lock file is written
    with run_lock(run_dir):  # not while a run is using it
        lines, ok = remote_cleanup.clean(run_dir)
    for line in lines:
        out.print(Text(line), highlight=False)
    if not lines:
        out.print(Text(f"{run_dir}: nothing left to clean up"), highlight=False)
    return 0 if ok else 1


def _show_starved(df) -> None:
    """Jobs whose backend could search for less than half its budget, with that flag."""
    from automl_bench.results import starvation

    table = starvation.render(df)
    if table is not None:
        out.print(table)


def _run_profiles(run_dir: Path) -> dict:
    import json

    profiles = {}
    for p in sorted((run_dir / "tasks").glob("*/profile.json")):
        try:
            profiles[p.parent.name] = json.loads(p.read_text())
        except (OSError, ValueError):
            profiles[p.parent.name] = f"unreadable profile {p}"
    return profiles


def _data_opts(args):
    from automl_bench.run.options import RunOptions

    return RunOptions(**data_fields(args))


def cmd_env(args) -> int:
    from automl_bench.planning import backend_envs as envs
    from automl_bench.planning import registry

    if args.env_command == "list" and args.names:  # for scripts: one framework per environment
        for _spec, frameworks in registry.environments().values():
            out.print(Text(frameworks[0]), highlight=False)
        return 0
    if args.env_command == "list":
        return _env_list(envs.listing(registry.environments()))
    if args.env_command == "remove":
        name = args.name
        if registry.known(name) and (env := registry.get(name).environment()) is not None:
            name = env.name
        path = envs.remove(name)
        out.print(Text(f"environment {name} removed ({path})"), highlight=False)
        return 0
    v = registry.get(args.name)  # unknown name: BadInput before anything is written
    spec = v.environment()
    if spec is None:
        raise BadInput(f"{args.name} runs in this environment ({sys.prefix}): its requirements "
                       "are met here, it needs no environment of its own")  # fmt: skip
    if not args.force and not envs.missing(spec.name, v.adapter_class().requirements.packages):
        out.print(Text(f"environment {spec.name} for {args.name} is ready "
                       f"({envs.env_path(spec.name)}); --force rebuilds it"), highlight=False)
        return 0
    err.print(Text(f"creating environment {spec.name} for {args.name} in "
                   f"{envs.env_path(spec.name)} (pip output: "
                   f"{envs.envs_dir() / (spec.name + '.log')})"), highlight=False)  # fmt: skip
    try:
        with envs.building(spec.name):  # one build at a time (a run may be building it)
            info = envs.create(spec, python=args.python, force=args.force, log_to=sys.stderr,
                               built_for=(args.name,))  # fmt: skip
    except envs.Unresolvable as e:
        raise BadInput(f"{args.name}: {e}") from None
    except envs.EnvError as e:
        err.print(Text("error: ", "red") + Text(str(e)), highlight=False)
        return 1
    versions = ", ".join(f"{k} {v}" for k, v in info["versions"].items() if v)
    out.print(Text(f"environment {spec.name} ready in {info['build_s']:.0f} s: "
                   f"{info['python']} ({versions})"), highlight=False)  # fmt: skip
    return 0


def _env_list(rows: list[dict]) -> int:
    from rich.table import Table

    from automl_bench.planning import backend_envs as envs

    t = Table(title=f"Environments in {envs.envs_dir()}")
    for c in ("name", "frameworks", "status", "versions", "description"):
        t.add_column(c)
    for row in rows:
        ok = row["status"] == "ready"
        versions = ", ".join(f"{k} {v}" for k, v in row["versions"].items() if v)
        t.add_row(row["name"], Text(", ".join(row["frameworks"])),
                  Text("ready", "green") if ok else Text(row["status"], "red"),
                  Text(versions), Text(row["description"]))  # fmt: skip
    out.print(t)
    return 0


def cmd_check_adapter(args) -> int:
    """Run the adapter contract's checks (automl_bench.run.adapter_checks) in the interpreter
    that runs the framework's jobs; print one row per check; 1 when one fails."""
    import json
    import subprocess
    import tempfile

    from rich.table import Table

    from automl_bench.execution.job_env import job_env
    from automl_bench.planning import registry

    if not args.budget > 0:
        raise BadInput(f"--budget must be > 0 seconds (got {args.budget})")
    v = registry.get(args.name)
    ok, reason = v.status()
    if not ok:
        raise BadInput(f"{args.name} is not installed: {reason}")
    request = {"adapter": v.adapter, "params": v.params, "paths": list(v.paths),
               "budget": args.budget}  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="check-adapter-") as cwd:
        # its temporary folders (scratch, saved models) go where this one is removed; the
        # thread pools sized for one core, as a one-core job's are
        env = {**os.environ, **job_env(1, Path(cwd)), "TMPDIR": cwd}
        proc = subprocess.run([v.python() or sys.executable, "-m", "automl_bench.run.adapter_checks"],
                              input=json.dumps(request), capture_output=True, text=True, cwd=cwd,
                              env=env)  # fmt: skip
    rows = [json.loads(line[6:]) for line in proc.stdout.splitlines() if line.startswith("CHECK ")]
    t = Table(title=f"{args.name}: the adapter contract ({v.adapter}, budget {args.budget:g} s)")
    for c in ("check", "result", "why"):
        t.add_column(c)
    for r in rows:
        t.add_row(r["check"], Text("pass", "green") if r["passed"] else Text("FAIL", "red"),
                  Text(r["why"]))  # fmt: skip
    out.print(t)
    if proc.returncode != 0:
        err.print(Text(f"the checks stopped (exit {proc.returncode}): {proc.stderr[-2000:]}"),
                  highlight=False)  # fmt: skip
        return 1
    return 0 if rows and all(r["passed"] for r in rows) else 1
