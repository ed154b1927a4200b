"""The report's race section (runs made with ``run --race``): the race drawn as frameworks x
rounds, where each framework stopped with the p-value of its drop, and the compute the race
used against the full grid.

Compute is wall time x cores summed over jobs. A raced-out job never ran, so its compute in
the full grid is estimated as the mean wall x cores of the same framework's jobs that ran on
the same task at the same budget (a race always runs round 1, fold 0 of every task, for
every framework before any drop, so that estimate always has at least one job behind it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from automl_bench.race import rule as race
from automl_bench.report.document import Section, SectionResult
from automl_bench.report.tables import Table, num

ERROR_RATE = (
    "Error rate: at each decision a framework is dropped only if the Friedman test rejects "
    "equal ranks at alpha, so when the frameworks still racing are all equally good a drop "
    "happens with probability at most alpha; among frameworks that differ, Holm's correction "
    "keeps the chance of dropping one as good as the leader at most alpha. A race takes one "
    "decision per round, so over the whole race a wrong drop is more likely than alpha (at "
    "most alpha times the number of rounds)."
)


def job_compute(rows: pd.DataFrame) -> pd.Series:
    """Wall seconds x cores per row (0 for jobs that never ran)."""
    wall = pd.to_numeric(rows["duration"], errors="coerce").fillna(0.0)
    cores = pd.to_numeric(rows["cores"], errors="coerce").fillna(1.0)
    return (wall * cores).where(~rows["status"].isin(race.NOT_RUN), 0.0)


@dataclass
class Compute:
    used: float  # core-seconds of the jobs that ran
    skipped_estimate: float  # core-seconds the raced-out jobs would have taken
    raced_out: int  # raced-out jobs

    @property
    def full(self) -> float:
        return self.used + self.skipped_estimate

    @property
    def share(self) -> float:
        return self.used / self.full if self.full > 0 else float("nan")


def compute(rows: pd.DataFrame) -> Compute:
    """Compute used by a raced run and the estimate of the full grid (module docstring)."""
    c = rows.assign(cs=job_compute(rows), budget_s=rows["budget_s"].astype(float))
    ran = c[~c["status"].isin(race.NOT_RUN)]
    same_task = ran.groupby(["framework", "task", "budget_s"])["cs"].mean()
    same_fw = ran.groupby(["framework", "budget_s"])["cs"].mean()
    out = c[c["status"] == race.RACED_OUT]
    est = 0.0
    for r in out.itertuples(index=False):
        v = same_task.get((r.framework, r.task, r.budget_s))
        if v is None or pd.isna(v):
            v = same_fw.get((r.framework, r.budget_s))
        if v is None or pd.isna(v):  # nothing of it ran at this budget: its budget
            v = float(r.budget_s) * float(r.cores or 1)
        est += float(v)
    return Compute(float(ran["cs"].sum()), est, len(out))


def replay_compute(rows: pd.DataFrame, tr: race.Trace) -> tuple[float, float]:
    """(core-seconds the race would have used, core-seconds of the whole run) on a finished
    run: a framework dropped after round r, or the winner of a race that ended after round r,
    runs rounds 1..r at that budget (no overlap with the next round is assumed)."""
    c = rows.assign(cs=job_compute(rows), budget_s=rows["budget_s"].astype(float))
    total = float(c["cs"].sum())
    used = 0.0
    for r in c.itertuples(index=False):
        d = tr.dropped(r.framework, r.budget_s)
        folds = tr.rounds.get(float(r.budget_s), [])
        if d is None or int(r.fold) not in folds or race.round_of(folds, r.fold) <= d.round:
            used += float(r.cs)
    return used, total


def rounds_table(tr: race.Trace, budget: float) -> Table:
    """Frameworks x rounds: mean rank at each decision while racing, the drop with its
    p-value, then '-' for rounds it did not run."""
    folds = tr.rounds.get(budget, [])
    decisions = {d.round: d for d in tr.decisions if d.budget_s == budget}
    cols = ["framework"] + [f"round {i} (fold {f})" for i, f in enumerate(folds, start=1)]
    t = Table(cols + ["stopped"], caption=(
        f"Budget {budget:g} s. Cells: mean rank over the blocks seen at that round's decision "
        "(1 = best); 'dropped' marks the round after which the framework stopped, with the "
        "Holm-corrected p-value against the leader; 'won': the only framework left, where the "
        "race ended; '-': raced out; blank: not decided yet."))
    for f in tr.frameworks:
        d = tr.dropped(f, budget)
        row = [f]
        for i in range(1, len(folds) + 1):
            dec = decisions.get(i)
            if d is not None and i > d.round:
                row.append("-")
            elif dec is None:
                row.append("")
            elif d is not None and i == d.round and d.won:
                row.append(f"{num(dec.ranks.get(f), 3)} won (the only one left)")
            elif d is not None and i == d.round:
                row.append(f"{num(dec.ranks.get(f), 3)} dropped (p = {d.pvalue:.3g})")
            else:
                lead = " leader" if dec.leader == f else ""
                row.append(f"{num(dec.ranks.get(f), 3)}{lead}")
        row.append("never (finished)" if d is None else
                   f"won after round {d.round} (of {len(folds)}): the race ended" if d.won
                   else f"after round {d.round} (of {len(folds)})")  # fmt: skip
        t.rows.append(row)
    return t


def run_trace(run_path: Path, rows: pd.DataFrame, constant_names, rule: race.Rule,
              const: dict | None = None) -> race.Trace:  # fmt: skip
    """The race over a run's stored rows; ``const``: the constant predictor's results when
    the caller already has them (race.constant_results)."""
    plan = rows[["framework", "task", "fold", "budget_s"]]
    if const is None:
        const = race.constant_results(rows, run_path, tuple(constant_names))
    return race.trace(rows, plan, const, rule)


def section(ctx) -> SectionResult:
    """The report's section builder (``ctx``: the report's context): the race section for
    the raced runs among the runs (None when none was raced), the table of the drops for the
    report's CSV files, and one conclusion per raced run."""
    s, drops, notes = _race(ctx.loaded)
    if s is None:
        return SectionResult(None)
    return SectionResult(s, {"race": drops}, notes)


def _race(loaded) -> tuple[Section | None, pd.DataFrame, list[str]]:
    from automl_bench.race.live import read_rule

    s, drops, notes = None, [], []
    for run in loaded.runs:
        rule = read_rule(run.path)
        if rule is None:
            continue
        rows = loaded.results[loaded.results["run"] == run.name]
        if rows.empty:
            continue
        if s is None:
            s = Section("race", "Race")
            s.p(f"Racing rule: {rule.describe()}. Rounds: fold 0 of every task, then fold 1, "
                "and so on; each budget races on its own. A framework dropped by the race does "
                "not run its remaining jobs there: they are listed as raced out, never imputed, "
                "and the framework is compared on the folds it ran. When the race ends with one "
                "framework left, that framework's remaining jobs are not run either.")  # fmt: skip
            s.p(ERROR_RATE)
        tr = run_trace(run.path, rows, loaded.constant_labels | {"constant"}, rule)
        for b in tr.budgets:
            s.table(rounds_table(tr, b))
        comp = compute(rows)
        stops = sorted(tr.drops.values(), key=lambda d: (d.budget_s, d.round, d.won, d.framework))
        notes.append(f"Race ({run.name}): " + ("; ".join(
            f"{d.framework} won after round {d.round} at {d.budget_s:g} s (the only one left)"
            if d.won else f"{d.framework} dropped after round {d.round} at {d.budget_s:g} s "
            f"(Holm p = {d.pvalue:.3g})" for d in stops) or "no framework dropped")
            + f"; it used {comp.share:.0%} of the full grid's estimated compute.")  # fmt: skip
        s.p(f"{run.name}: the race ran {num(comp.used / 3600, 3)} core-hours; the full grid is "
            f"estimated at {num(comp.full / 3600, 3)} core-hours ({comp.raced_out} raced-out "
            "jobs, each estimated from the same framework's finished jobs on the same task at "
            f"the same budget): the race used {comp.share:.0%} of the full grid's compute, "
            f"saving {1 - comp.share:.0%}.")  # fmt: skip
        for d in tr.drops.values():
            drops.append({"run": run.name, "framework": d.framework, "budget_s": d.budget_s,
                          "outcome": "won" if d.won else "dropped",
                          "round": d.round, "blocks": d.blocks, "leader": d.leader,
                          "pvalue_holm": d.pvalue, "mean_rank": d.mean_rank, "test": race.TEST})  # fmt: skip
    return s, pd.DataFrame(drops), notes
