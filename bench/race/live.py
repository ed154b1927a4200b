"""A race while the run goes (``run --race``): job order, decisions, and which jobs may start.

Jobs are ordered in rounds (smallest budget first, then fold 0 of every task, fold 1, ...;
within a round by task, then framework, in the suite's order). The run's slots stay busy:
jobs of the next round start while the last ones of a round still run. The decision after
round r is taken the moment the last result of rounds 1..r (of the frameworks still racing)
is stored; it uses rounds 1..r only (see :mod:`automl_bench.race.rule`). A job starts only if, at the
moment its slot comes free, its framework has not been dropped at its budget; jobs already
running when a framework is dropped finish and are stored as usual. A job that may not start
is stored as a ``raced_out`` row carrying the evidence, and gets no job directory.

The state lives in the store: every decision is recomputed from the stored rows, so a resumed
race takes up where it stopped. ``race.json`` in the run directory records the rule and, for
each decision, when it was taken.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pandas as pd

from automl_bench.race import rule as race

STATE = "race.json"


def ordered(jobs: list, frameworks: list[str], tasks: list[str]) -> list:
    """Jobs in race order: budget, fold, task (suite order), framework (suite order)."""
    fi = {f: i for i, f in enumerate(frameworks)}
    ti = {t: i for i, t in enumerate(tasks)}
    return sorted(jobs, key=lambda j: (j.budget_s, j.fold, ti.get(j.task, len(ti)), j.task,
                                       fi.get(j.framework, len(fi)), j.framework))  # fmt: skip


def plan_frame(jobs: list) -> pd.DataFrame:
    return pd.DataFrame([{"framework": j.framework, "task": j.task, "fold": j.fold,
                          "budget_s": j.budget_s} for j in jobs],
                        columns=["framework", "task", "fold", "budget_s"])  # fmt: skip


class LiveRace:
    def __init__(self, run_dir: Path, store, jobs: list, rule: race.Rule, constant_names):
        self.run_dir = Path(run_dir)
        self.store = store
        self.plan = plan_frame(jobs)
        self.rule = rule
        self.constant_names = tuple(constant_names)
        self.trace: race.Trace | None = None
        self.times: dict[str, float] = {}  # "budget/round" -> when the decision was taken
        old = self._read()
        if old and old.get("rule") == self._rule_dict():
            self.times = {k: float(v) for k, v in old.get("decided_at", {}).items()}
        self.refresh()

    def _rule_dict(self) -> dict:
        return {"alpha": self.rule.alpha, "min_blocks": self.rule.min_blocks,
                "run_winner": self.rule.run_winner, "test": race.TEST}  # fmt: skip

    def _read(self) -> dict | None:
        try:
            return json.loads((self.run_dir / STATE).read_text())
        except (OSError, ValueError):
            return None

    def refresh(self) -> list[race.Drop]:
        """Recompute the race from the stored rows; the drops decided since the last call."""
        rows = self.store.frame()
        before = set(self.trace.drops) if self.trace else set()
        const = race.constant_results(rows, self.run_dir, self.constant_names)
        self.trace = race.trace(rows, self.plan, const, self.rule)
        now = time.time()
        for d in self.trace.decisions:
            self.times.setdefault(f"{d.budget_s:g}/{d.round}", now)
        self._write()
        return [d for k, d in self.trace.drops.items() if k not in before]

    def dropped(self, job) -> race.Drop | None:
        return self.trace.dropped(job.framework, job.budget_s) if self.trace else None

    def _write(self) -> None:
        t = self.trace
        state = {
            "rule": self._rule_dict(),
            "description": self.rule.describe(),
            "rounds": {f"{b:g}": v for b, v in t.rounds.items()},
            "decided_at": self.times,
            "drops": [{"framework": d.framework, "budget_s": d.budget_s, "round": d.round,
                       "pvalue": d.pvalue, "mean_rank": d.mean_rank, "leader": d.leader,
                       "blocks": d.blocks, "won": d.won,
                       "decided_at": self.times.get(f"{d.budget_s:g}/{d.round}")}
                      for d in t.drops.values()],
        }  # fmt: skip
        tmp = self.run_dir / (STATE + ".tmp")
        tmp.write_text(json.dumps(state, indent=1))
        os.replace(tmp, self.run_dir / STATE)


def read_rule(run_dir: Path) -> race.Rule | None:
    """The rule a live race in this run directory used (None: the run was not raced)."""
    try:
        r = json.loads((Path(run_dir) / STATE).read_text())["rule"]
        # a race recorded before races ended at one framework ran the winner to the end
        return race.Rule(float(r["alpha"]), int(r["min_blocks"]), bool(r.get("run_winner", True)))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def admit(live: LiveRace, job, start, raced_out) -> bool:
    """Called as ``job``'s slot is given: ``start()`` (write its job directory) and True while
    its framework races at its budget; else ``raced_out(drop)`` (store its row) and False."""
    drop = live.dropped(job)
    if drop is None:
        start()
        return True
    raced_out(drop)
    return False
