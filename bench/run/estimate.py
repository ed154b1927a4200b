"""Before running: how many jobs, CPU-hours, dollars and how long on this machine.

Each job's wall time is predicted from a timing model per adapter (``bench/run/timings.yaml``):

- ``budget``: AutoML systems search until their budget is spent: fit = fraction x budget;
- ``work``: fixed-size learners (random forest, boosting with a fixed number of rounds) take
  ``fit_s + coef x rows^a x features^b x classes^c x n_estimators`` on the training rows;
- ``fixed``: a constant fit time (the constant predictor);

plus a per-job overhead outside the fit (worker start, imports, data read, predict, JVM
start), capped at the kill limit (budget + grace). The shipped coefficients were measured on
a 2-core machine and are declared with their provenance; ``--calibrate RUN_DIR...`` refits
them from runs on *your* machine. The jobs are then scheduled the way the local executor
does (plan order, parallel slots packed by cores) to give the expected wall time.
"""

from __future__ import annotations

import heapq
import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from automl_bench.errors import BadInput
from automl_bench.execution.jobs import Limits
from automl_bench.execution.slots import available_cpus
from automl_bench.results.cost import PriceTable, load_prices
from automl_bench.run.vendor_estimate import VendorEstimate, render_lines, usd_text, vendor_estimate
from automl_bench.yamlio import describe_validation_error, read_yaml

SHIPPED = Path(__file__).resolve().parent / "timings.yaml"


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["budget", "work", "fixed"]
    overhead_s: float = Field(ge=0)
    fit_s: float = Field(default=0.0, ge=0)
    fraction: float = Field(default=1.0, ge=0)  # budget: share of the budget used
    coef: float = Field(default=0.0, ge=0)  # work: seconds per unit
    rows: float = 1.0  # work: exponents
    features: float = 1.0
    classes: float = 1.0
    n_estimators: int | None = None  # work: the adapter's default when a variant sets none
    stop_at: float | None = None  # work: the learner stops itself at this share of its budget
    source: str = ""


class Timings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    measured: str  # where and how the shipped numbers were measured
    driver_per_job_s: float = Field(ge=0)  # the driver's own work per job (scoring, store)
    run_setup_s: float = Field(ge=0)  # interpreter start, plan, writing task files
    default: Model
    adapters: dict[str, Model] = Field(default_factory=dict)  # "module:Class" -> model
    frameworks: dict[str, Model] = Field(default_factory=dict)  # variant name -> model


def load_timings(path: Path | None = None) -> Timings:
    path = Path(path) if path else SHIPPED
    data = read_yaml(path)
    try:
        t = Timings.model_validate(data)
    except ValidationError as e:
        raise BadInput(describe_validation_error(path, e)) from None
    return t


def model_for(timings: Timings, framework: str, adapter: str) -> Model:
    if framework in timings.frameworks:
        m = timings.frameworks[framework]
        return m if m.source else replace_source(m, f"declared for {framework}")
    if adapter in timings.adapters:
        m = timings.adapters[adapter]
        return m if m.source else replace_source(m, f"declared for {adapter}")
    return replace_source(
        timings.default, "no model for this adapter: assumed to use its full budget"
    )


def replace_source(m: Model, source: str) -> Model:
    return m.model_copy(update={"source": source})


def units(m: Model, rows: float, features: int, classes: int, params: dict) -> float:
    trees = params.get("n_estimators", m.n_estimators) or 1
    return rows**m.rows * features**m.features * classes**m.classes * float(trees)


def fit_seconds(m: Model, budget_s: float, rows: float, features: int, classes: int, params: dict):
    if m.kind == "budget":
        return m.fraction * budget_s
    if m.kind == "fixed":
        return m.fit_s
    return m.fit_s + m.coef * units(m, rows, features, classes, params)


def stop_seconds(m: Model, budget_s: float) -> float:
    """When a learner that honours its budget stops on its own (inf if it does not)."""
    return math.inf if m.stop_at is None else m.stop_at * budget_s


# -- calibration from measured runs ----------------------------------------------------------
def _task_shapes(run: Path) -> dict:
    """task -> (train rows per fold list, features, classes) from the run's task files."""
    out = {}
    for meta_path in (run / "tasks").glob("*/meta.json"):
        meta = json.loads(meta_path.read_text())
        folds_path = meta_path.parent / "folds.json"
        if not folds_path.exists() or "features" not in meta:
            continue
        folds = json.loads(folds_path.read_text())
        out[meta["name"]] = (
            [len(f["train"]) for f in folds],
            meta["features"],
            len(meta["classes"]),
        )
    return out


def calibrate(timings: Timings, run_dirs) -> tuple[Timings, list[str]]:
    """Refit overhead (and coef or fraction) per adapter from ok jobs in ``run_dirs``."""
    from automl_bench.report.load import load_runs

    loaded = load_runs(run_dirs)
    ok = loaded.results[loaded.results["status"] == "ok"]
    shapes = {}
    for run in loaded.runs:
        for k, v in _task_shapes(run.path).items():
            shapes.setdefault(k, v)
    adapters = {}
    for run in loaded.runs:
        adapters.update(run.adapters)
    # Under CPU contention a job's wall time stretches; its CPU share (cpu_time / wall, per
    # core) undoes that, so calibrating on a busy machine still gives idle-machine seconds.
    share = (ok["cpu_time"] / (ok["duration"] * ok["cores"].fillna(1))).clip(upper=1.0)
    ok = ok.assign(fit_s=ok["training_duration"] * share,
                   overhead_s=(ok["duration"] - ok["training_duration"]) * share)  # fmt: skip
    notes, new = [], dict(timings.adapters)
    for adapter in sorted(set(adapters.values())):
        names = [f for f, a in adapters.items() if a == adapter]
        rows = ok[ok["framework"].isin(names)]
        rows = rows[rows["fit_s"].notna() & rows["task"].isin(shapes)]
        if rows.empty:
            continue
        base = model_for(timings, names[0], adapter)
        upd = {"overhead_s": float(rows["overhead_s"].median())}
        if base.kind == "budget":
            upd["fraction"] = float((rows["fit_s"] / rows["budget_s"]).median())
        elif base.kind == "fixed":
            upd["fit_s"] = float(rows["fit_s"].median())
        else:
            logs = []
            if base.stop_at is not None:  # fits cut short by the learner's own deadline
                rows = rows[rows["training_duration"] < 0.95 * base.stop_at * rows["budget_s"]]
            for r in rows.itertuples():
                train, f, c = shapes[r.task]
                n = train[int(r.fold)] if int(r.fold) < len(train) else train[0]
                u = units(base, n, f, c, json.loads(r.params or "{}"))
                if u > 0 and r.fit_s > 0:
                    logs.append(math.log(r.fit_s / u))
            if logs:  # geometric mean: one slow outlier should not set the scale
                upd["coef"] = float(math.exp(sum(logs) / len(logs)))
        upd["source"] = (
            f"calibrated from {len(rows)} jobs in {', '.join(r.name for r in loaded.runs)}"
        )
        new[adapter] = base.model_copy(update=upd)
        notes.append(f"{adapter}: {upd['source']}")
    return timings.model_copy(update={"adapters": new, "frameworks": {}}), notes


# -- the estimate -----------------------------------------------------------------------------
@dataclass
class JobEstimate:
    framework: str
    task: str
    fold: int
    cores: int
    wall_s: float  # on an idle machine
    kill_s: float
    capped: bool  # predicted to run into the kill limit (a timeout)
    loaded_wall_s: float = 0.0  # at the load measured when estimating


@dataclass
class Estimate:
    suite: str
    jobs: list[JobEstimate]
    parallel: int
    slots: int
    setup_s: float
    makespan_s: float
    prices: PriceTable
    models: dict[str, Model]
    load: float = 0.0  # other CPU-hungry processes measured before the estimate
    slowdown: float = 1.0  # expected stretch of every job at that load
    loaded_makespan_s: float = 0.0
    notes: list[str] = field(default_factory=list)
    vendor: VendorEstimate = field(default_factory=lambda: VendorEstimate([]))

    @property
    def wall_s(self) -> float:
        return self.setup_s + self.makespan_s

    @property
    def loaded_wall_s(self) -> float:
        return self.setup_s * self.slowdown + self.loaded_makespan_s

    @property
    def cpu_hours(self) -> float:
        return sum(j.wall_s * j.cores for j in self.jobs) / 3600.0

    @property
    def worst_cpu_hours(self) -> float:
        return sum(j.kill_s * j.cores for j in self.jobs) / 3600.0

    @property
    def usd(self) -> float:
        return self.cpu_hours * self.prices.usd_per_vcpu_hour

    def by_framework(self) -> pd.DataFrame:
        df = pd.DataFrame([j.__dict__ for j in self.jobs])
        g = df.groupby("framework", sort=False)
        t = pd.DataFrame({"jobs": g.size(), "mean_job_s": g["wall_s"].mean(),
                          "cpu_h": g.apply(lambda x: (x["wall_s"] * x["cores"]).sum() / 3600.0),
                          "capped": g["capped"].sum()})  # fmt: skip
        t["usd"] = t["cpu_h"] * self.prices.usd_per_vcpu_hour
        t["model"] = [self.models[f].source for f in t.index]
        return t.reset_index()


def schedule(jobs: list[JobEstimate], parallel: int, n_cpus: int, loaded: bool = False) -> float:
    """Makespan of the local executor's policy: plan order, at most ``parallel`` jobs, each
    needing ``min(cores, n_cpus)`` free CPUs (a job starts anyway when nothing runs)."""
    t, free, running, pending = 0.0, n_cpus, [], list(jobs)
    i = 0
    while i < len(pending) or running:
        while i < len(pending) and len(running) < parallel:
            need = min(pending[i].cores, n_cpus)
            if free < need and running:
                break
            free -= min(need, free)
            job = pending[i]
            heapq.heappush(running, (t + (job.loaded_wall_s if loaded else job.wall_s), need))
            i += 1
        end, need = heapq.heappop(running)
        t, free = end, free + need
    return t


def contention(n_cpus: int, seconds: float = 1.0) -> float:
    """How many CPU-hungry processes other than ours compete for the CPUs right now.

    Measured, not read from the load average (which also counts processes waiting on I/O):
    spin for ``seconds`` and see what share of a core the scheduler gives. With D others on
    n CPUs a new process gets n / (D + 1), so D = n / share - 1. A share near 1 cannot tell
    idle from "fewer others than CPUs"; then the 1-minute load average, capped at n - 1,
    stands in.
    """
    w0, c0 = time.perf_counter(), time.process_time()
    while time.perf_counter() - w0 < seconds:
        sum(range(2000))
    share = (time.process_time() - c0) / max(time.perf_counter() - w0, 1e-9)
    if share < 0.95:
        return max(0.0, n_cpus / max(share, 1e-3) - 1.0)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    return min(load, n_cpus - 1.0)


def estimate(opts, prices: PriceTable | None = None, timings: Timings | None = None,
             calibrate_from=None) -> Estimate:  # fmt: skip
    """``opts``: a automl_bench.run.options.RunOptions (suite, frameworks, budget, folds, parallel, limits)."""
    from automl_bench.data.taskcache import CachedTask
    from automl_bench.planning.plan import plan_jobs
    from automl_bench.run.prepare import prepare

    prices = prices or load_prices()
    timings = timings or load_timings()
    notes = []
    if calibrate_from:
        timings, notes = calibrate(timings, calibrate_from)
    t0 = time.perf_counter()
    others = contention(len(available_cpus()))  # before we add our own work
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    prep = prepare(opts)  # loads and validates every task, exactly as `run` does first
    load_s = time.perf_counter() - t0
    shapes, cached = {}, []
    for t in prep.tasks:
        shapes[t.name] = ([(len(tr), len(te)) for tr, te in t.splits], t.frame.shape[1] - 1,
                          len(t.classes))  # fmt: skip
        cached.append(CachedTask(t.name, Path("."), t.source_id, t.classes, len(t.splits),
                                 t.digest, t.task_type))  # fmt: skip
    plan = plan_jobs(prep.variants, cached, prep.constraint, prep.seed, opts.folds)
    axis = sorted({j.budget_s for j in plan})
    if len(axis) > 1:
        notes.append(f"{len(axis)} budgets ({', '.join(f'{b:g}' for b in axis)} s): "
                     f"{len(plan) // len(axis)} jobs each, all counted above")  # fmt: skip
    limits: Limits = opts.limits
    models = {v.name: model_for(timings, v.name, v.adapter) for v in prep.variants}
    n_cpus = len(available_cpus())
    slots = max(1, min(opts.parallel, n_cpus // max(1, prep.constraint.cores)))
    # CPU-bound jobs on a shared machine: with `others` CPU-hungry processes already there
    # plus our own slots, each job gets n_cpus / (others + slots x cores) of a core if < 1.
    slowdown = max(1.0, (others + slots * prep.constraint.cores) / n_cpus)
    jobs = []
    for j in plan:
        m = models[j.framework]
        rows, f, c = shapes[j.task]
        train, test = rows[j.fold]
        fit = fit_seconds(m, j.budget_s, train, f, c, j.params)
        own = {"predict_allowance_s": limits.predict_allowance(j.budget_s, train, test)}
        kill = j.budget_s + limits.for_job(own).grace(j.budget_s)
        # a budget-filling system stops at its budget whatever the load, and so does a learner
        # with its own deadline; the rest of the job stretches with the load
        stop = stop_seconds(m, j.budget_s)
        busy = m.overhead_s * slowdown + (fit if m.kind == "budget" else min(fit * slowdown, stop))
        wall = m.overhead_s + min(fit, stop)
        jobs.append(JobEstimate(j.framework, j.task, j.fold, j.cores,
                                min(wall, kill) + timings.driver_per_job_s, kill, wall > kill,
                                min(busy, kill) + timings.driver_per_job_s))  # fmt: skip
    makespan = schedule(jobs, opts.parallel, n_cpus)
    loaded_makespan = schedule(jobs, opts.parallel, n_cpus, loaded=True)
    # task loading happens again at run start, plus writing the task files once
    setup = timings.run_setup_s + 2.0 * load_s
    for u in getattr(prep, "unavailable", []):
        notes.append(f"task {u.name!r} is unavailable ({u.reason}); its jobs will be recorded "
                     "as failed without running and are not counted here")  # fmt: skip
    if opts.parallel > n_cpus:
        notes.append(f"--parallel {opts.parallel} exceeds this machine's {n_cpus} CPUs: "
                     "jobs wait for free cores")  # fmt: skip
    notes.append(f"1-minute load average {load:.1f}; measured competing CPU-bound processes "
                 f"{others:.1f}")  # fmt: skip
    return Estimate(prep.suite.name, jobs, opts.parallel, slots, setup, makespan, prices,
                    models, others, slowdown, loaded_makespan, notes,
                    vendor_estimate(plan, prep.variants, prep.tasks, prices))  # fmt: skip


def hms(seconds: float) -> str:
    seconds = int(math.ceil(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h{m:02d}m{s:02d}s" if h else f"{m}m{s:02d}s"


def render(est: Estimate) -> list:
    """Rich renderables: a table per framework, then the totals."""
    from rich.table import Table

    t = Table(title=f"Estimate: {est.suite}")
    vendor = {v.framework: v.usd for v in est.vendor.lines}
    cols = ("framework", "jobs", "expected s/job", "CPU-hours", "USD",
            *(("billed by the vendor, USD",) if vendor else ()), "killed", "timing model")
    for c in cols:
        t.add_column(c, justify="left" if c in ("framework", "timing model") else "right")
    for _, r in est.by_framework().iterrows():
        f = r["framework"]
        bill = (("-" if f not in vendor else usd_text(vendor[f])),) if vendor else ()
        t.add_row(str(r["framework"]), str(r["jobs"]), f"{r['mean_job_s']:.1f}",
                  f"{r['cpu_h']:.4f}", f"${r['usd']:.4f}", *bill, str(int(r["capped"])),
                  r["model"])  # fmt: skip
    ref = est.prices.reference
    lines = [
        t,
        f"jobs: {len(est.jobs)}",
        f"CPU-hours: {est.cpu_hours:.4f} expected, {est.worst_cpu_hours:.4f} if every job ran "
        "to its kill limit",
        f"cost: ${est.usd:.4f} expected, ${est.worst_cpu_hours * est.prices.usd_per_vcpu_hour:.4f}"
        f" at most (${ref.usd_per_vcpu_hour:.4f}/vCPU-h, {ref.name}, {ref.date})",
        f"expected wall time: {hms(est.wall_s)} ({est.wall_s:.0f} s) on an idle machine with "
        f"--parallel {est.parallel} ({est.slots} concurrent jobs on {len(available_cpus())} "
        f"CPUs), including {est.setup_s:.0f} s of setup",
    ]
    if est.slowdown > 1.0:
        lines.append(
            f"at the current load ({est.load:.1f} other CPU-bound processes on "
            f"{len(available_cpus())} CPUs, jobs ~{est.slowdown:.1f}x slower): {hms(est.loaded_wall_s)} "
            f"({est.loaded_wall_s:.0f} s)"
        )
    capped = sum(j.capped for j in est.jobs)
    if capped:
        lines.append(f"{capped} jobs are expected to reach the kill limit (budget + grace) "
                     "and end as timeouts")  # fmt: skip
    for p in est.prices.projections:
        wall_h = sum(j.wall_s for j in est.jobs) / 3600.0
        lines.append(f"projection {p.name}: ${p.cost(wall_h, est.cpu_hours):.2f} for the same "
                     f"job hours at ${p.usd}/{p.unit} ({p.date})")  # fmt: skip
    lines += render_lines(est.vendor, est.usd)
    lines += [f"note: {n}" for n in est.notes]
    return lines
