"""The racing rule: which frameworks a race drops, after which round, on what evidence.

A race runs jobs in rounds: round 1 is fold 0 of every task, round 2 fold 1, and so on.
With several budgets each budget is its own race (smallest budget first): a framework dropped
at one budget keeps running at the others, because the ranking can change with the budget and
only evidence at a budget may stop a framework there.

After round r, the blocks (task x fold) of rounds 1..r are tested, over the frameworks still in
the race at that budget (F-Race, Birattari et al. 2002, with Holm's correction):

1. the score of a block is the report's primary metric (``result``, higher is better); a job
   that did not produce a score takes the constant predictor's result on the same task and
   fold, as the report imputes it;
2. no framework is dropped before ``min_blocks`` blocks are in;
3. Friedman test over the blocks (ranks within each block): if p >= alpha, nobody is dropped;
4. otherwise the leader is the framework with the best mean rank (ties: higher mean score,
   then name); every other framework is compared with it by a one-sided paired Wilcoxon
   signed-rank test over the blocks (is it worse?), the p-values Holm-corrected over these
   comparisons; a framework whose corrected p-value is below alpha is dropped;
5. when one framework is left the race is decided and ends, as F-Race does: the winner's
   remaining rounds at that budget are not run (they would not change the decision), unless
   the rule says ``run_winner`` (``--race-run-winner``: its score on every fold).

Error rate: at one decision, when all frameworks still racing are equally good, a drop needs
the Friedman test to reject, which happens with probability at most alpha; among frameworks
that do differ, Holm keeps the chance of dropping any framework that is as good as the leader
at most alpha. A race takes one decision per round, so over a whole race the chance of a
wrong drop is higher than alpha (at most alpha times the number of decisions); the race-wide
rate under no differences is measured by ``tests/benchmarks/race_error_rate.py``.

The decision after round r uses rounds 1..r only, whatever else has finished by then, so the
same results always give the same drops: ``race --replay`` on a finished run reproduces what a
live race would decide. This module only computes; it runs nothing and writes nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from automl_bench.planning import options

if TYPE_CHECKING:  # the data libraries load when a race is decided, not for `--help`
    import numpy as np
    import pandas as pd

ALPHA = 0.05
MIN_BLOCKS = 5
TEST = "Friedman + one-sided Wilcoxon vs leader, Holm"
RACED_OUT = "raced_out"
NOT_RUN = ("skipped", RACED_OUT)  # statuses of jobs that never ran


@dataclass(frozen=True)
class Rule:
    alpha: float = ALPHA
    min_blocks: int = MIN_BLOCKS
    run_winner: bool = False  # the last framework left runs its remaining rounds

    def describe(self) -> str:
        end = ("the last framework left runs every fold" if self.run_winner
               else "the race ends when one framework is left")  # fmt: skip
        return (f"Friedman test over task x fold blocks, then a one-sided Wilcoxon signed-rank "
                f"test of each framework against the leader (best mean rank), Holm-corrected; "
                f"alpha {self.alpha:g} per decision, no drop before {self.min_blocks} blocks; "
                f"{end}")


def check_rule(alpha: float, min_blocks: int, run_winner: bool = False) -> Rule:
    """The rule for these options, or ValueError naming the option at fault."""
    said = options.problem("--race-alpha", alpha) or options.problem("--race-min-blocks",
                                                                        min_blocks)  # fmt: skip
    if said or isinstance(alpha, bool) or not isinstance(min_blocks, int):
        raise ValueError(said or f"--race-alpha must be a number and --race-min-blocks an "
                         f"integer (got {alpha!r}, {min_blocks!r})")  # fmt: skip
    return Rule(float(alpha), int(min_blocks), bool(run_winner))


@dataclass
class Drop:
    """Where a framework stopped racing at a budget: dropped (significantly worse than the
    leader), or ``won`` (the only framework left: the race at that budget ended)."""

    framework: str
    budget_s: float
    round: int  # 1-based: the round after which it stopped
    pvalue: float | None  # Holm-corrected (None for the winner)
    mean_rank: float
    leader: str
    blocks: int
    won: bool = False

    def message(self) -> str:
        if self.won:
            return (f"not run: the race ended after round {self.round} ({self.blocks} blocks) "
                    f"with {self.framework} the only framework left (mean rank "
                    f"{self.mean_rank:.2f})")  # fmt: skip
        return (f"dropped by the race after round {self.round} ({self.blocks} blocks): "
                f"significantly worse than {self.leader} (Holm p = {self.pvalue:.3g}, "
                f"mean rank {self.mean_rank:.2f})")

    def columns(self) -> dict:
        """The evidence a raced-out row carries (store columns ``race_*``)."""
        return {"race_round": self.round, "race_test": TEST, "race_pvalue": self.pvalue,
                "race_mean_rank": self.mean_rank, "race_leader": self.leader}  # fmt: skip


@dataclass
class Decision:
    budget_s: float
    round: int  # 1-based
    fold: int
    blocks: int
    alive: list[str]  # frameworks tested
    ranks: dict[str, float]  # mean rank over the blocks (1 = best)
    friedman_p: float | None  # None: not tested (too few blocks or one framework)
    leader: str | None
    pvalues: dict[str, float]  # Holm-corrected, per framework other than the leader
    dropped: list[str]


@dataclass
class Trace:
    """The race over one set of results: per budget, the decisions taken so far."""

    rule: Rule
    budgets: list[float]
    rounds: dict[float, list[int]]  # budget -> folds in round order
    frameworks: list[str]  # frameworks in the race (those with a job that could run)
    decisions: list[Decision] = field(default_factory=list)
    drops: dict[tuple[str, float], Drop] = field(default_factory=dict)  # (framework, budget)

    def dropped(self, framework: str, budget_s: float) -> Drop | None:
        return self.drops.get((framework, float(budget_s)))

    def survivors(self, budget_s: float) -> list[str]:
        """The frameworks not dropped at this budget (a race's winner included)."""
        stops = {f: self.drops.get((f, float(budget_s))) for f in self.frameworks}
        return [f for f, d in stops.items() if d is None or d.won]

    def winner(self, budget_s: float) -> Drop | None:
        """The framework the race ended on at this budget (None: it ran to its last round)."""
        return next((d for d in self.drops.values()
                     if d.won and d.budget_s == float(budget_s)), None)  # fmt: skip

    def decided(self, budget_s: float) -> int:
        """Rounds decided so far at this budget."""
        return sum(1 for d in self.decisions if d.budget_s == float(budget_s))

    def last(self, budget_s: float) -> Decision | None:
        ds = [d for d in self.decisions if d.budget_s == float(budget_s)]
        return ds[-1] if ds else None


def round_of(folds: list[int], fold: int) -> int:
    return sorted(folds).index(int(fold)) + 1


def _holm(p: dict[str, float]) -> dict[str, float]:
    names = sorted(p, key=lambda k: p[k])
    m, out, running = len(names), {}, 0.0
    for i, n in enumerate(names):
        running = max(running, min(1.0, (m - i) * p[n]))
        out[n] = running
    return out


def _friedman(m: np.ndarray) -> float:
    """p-value of the tie-corrected Friedman test on blocks x frameworks (k >= 2)."""
    import numpy as np
    from scipy import stats as st

    n, k = m.shape
    r = np.apply_along_axis(st.rankdata, 1, -m)
    rj = r.sum(axis=0)
    a = float((r**2).sum())
    c = n * k * (k + 1) ** 2 / 4.0
    if a - c <= 1e-12:  # every block a complete tie
        return 1.0
    t = (k - 1) * float(((rj - n * (k + 1) / 2.0) ** 2).sum()) / (a - c)
    return float(st.chi2.sf(t, k - 1))


def _worse(x: np.ndarray, leader: np.ndarray) -> float:
    """One-sided paired Wilcoxon signed-rank p-value that x is worse than leader."""
    import numpy as np
    from scipy import stats as st

    d = x - leader
    if not np.any(np.abs(d) > 1e-12):
        return 1.0
    return float(st.wilcoxon(d, alternative="less", zero_method="wilcox").pvalue)


def decide(scores: pd.DataFrame, rule: Rule) -> tuple[float | None, str | None, dict, dict, list]:
    """One decision on a blocks x frameworks score table (higher is better, no NaN):
    (Friedman p, leader, mean ranks, Holm p-values, dropped)."""
    ranks = scores.rank(axis=1, ascending=False, method="average").mean()
    ranks_d = {k: float(v) for k, v in ranks.items()}
    if scores.shape[1] < 2 or len(scores) < rule.min_blocks:
        return None, None, ranks_d, {}, []
    order = sorted(scores.columns, key=lambda f: (ranks[f], -scores[f].mean(), f))
    leader = order[0]
    fp = _friedman(scores.to_numpy(dtype=float))
    if fp >= rule.alpha:
        return fp, leader, ranks_d, {}, []
    lead = scores[leader].to_numpy(dtype=float)
    raw = {f: _worse(scores[f].to_numpy(dtype=float), lead) for f in order[1:]}
    holm = _holm(raw)
    dropped = [f for f in order[1:] if holm[f] < rule.alpha]
    return fp, leader, ranks_d, holm, dropped


def block_scores(rows: pd.DataFrame, constant: dict) -> pd.DataFrame:
    """Rows of one budget -> (task, fold) x framework scores, failures imputed with the constant
    predictor's result (``constant``: (task, fold) -> result); raced-out rows are left out.
    A skipped job (its framework cannot run the task) leaves its block out, as the report
    leaves out tasks a framework never ran."""
    df = rows[rows["status"] != RACED_OUT]
    vals = []
    for r in df.itertuples(index=False):
        v = r.result if r.status == "ok" else None
        if r.status == "skipped":
            v = math.nan
        elif v is None or (isinstance(v, float) and math.isnan(v)):
            v = constant.get((r.task, int(r.fold)), math.nan)
        vals.append(float(v))
    df = df.assign(score=vals, fold=df["fold"].astype(int))
    return df.pivot_table(index=["task", "fold"], columns="framework", values="score",
                          aggfunc="first", dropna=False)  # fmt: skip


def racing_frameworks(rows: pd.DataFrame, plan: pd.DataFrame) -> list[str]:
    """The planned frameworks, less those every one of whose jobs is stored as skipped (e.g.
    not installed: the report leaves them out too). One with jobs still to run races."""
    out = []
    for f, jobs in plan.groupby("framework"):
        mine = rows[rows["framework"] == f] if not rows.empty else rows
        if len(mine) >= len(jobs) and len(mine) and (mine["status"] == "skipped").all():
            continue
        out.append(str(f))
    return sorted(out)


def trace(rows: pd.DataFrame, plan: pd.DataFrame, constant: dict, rule: Rule) -> Trace:
    """Replay the rule over stored ``rows`` for the jobs of ``plan`` (both with framework,
    task, fold, budget_s; rows also status and result). A round is decided only once every
    job of it and of the rounds before it has a row, for every framework still racing."""
    import pandas as pd

    plan = plan.assign(budget_s=plan["budget_s"].astype(float), fold=plan["fold"].astype(int))
    rows = rows.assign(budget_s=rows["budget_s"].astype(float), fold=rows["fold"].astype(int))
    budgets = sorted(plan["budget_s"].unique())
    rounds = {b: sorted(plan.loc[plan["budget_s"] == b, "fold"].unique()) for b in budgets}
    frameworks = racing_frameworks(rows, plan)
    out = Trace(rule, [float(b) for b in budgets], {float(b): [int(f) for f in v]
                                                    for b, v in rounds.items()}, frameworks)  # fmt: skip
    for b in budgets:
        alive = list(frameworks)
        pb = plan[plan["budget_s"] == b]
        rb = rows[rows["budget_s"] == b]
        have = set(zip(rb["framework"], rb["task"], rb["fold"], strict=True))
        scores = block_scores(rb, constant) if not rb.empty else pd.DataFrame()
        for i, fold in enumerate(rounds[b], start=1):
            jobs = pb[(pb["fold"] == fold) & pb["framework"].isin(alive)]
            if any((j.framework, j.task, j.fold) not in have for j in jobs.itertuples()):
                break  # this round is not finished: nothing after it is decided
            seen = pb[pb["fold"].isin(rounds[b][:i])][["task", "fold"]].drop_duplicates()
            keys = list(zip(seen["task"], seen["fold"], strict=True))
            m = scores.reindex(index=pd.MultiIndex.from_tuples(keys, names=["task", "fold"])
                               if keys else None, columns=alive).dropna()  # fmt: skip
            fp, leader, ranks, pv, dropped = decide(m, rule)
            out.decisions.append(Decision(float(b), i, int(fold), len(m), list(alive), ranks, fp,
                                          leader, pv, dropped))  # fmt: skip
            for f in dropped:
                out.drops[(f, float(b))] = Drop(f, float(b), i, pv[f], ranks[f], leader, len(m))
            alive = [f for f in alive if f not in dropped]
            if dropped and len(alive) == 1 and i < len(rounds[b]) and not rule.run_winner:
                w = alive[0]  # decided: the winner's later rounds would not change it
                out.drops[(w, float(b))] = Drop(w, float(b), i, None, ranks[w], w, len(m), True)
                break
    return out


def constant_results(rows: pd.DataFrame, run_dir=None, constant_names=("constant",)) -> dict:
    """(task, fold) -> the constant predictor's result: from the rows' ok constant jobs, else
    recomputed from the run's task files (class prior of the training fold)."""
    from pathlib import Path

    from automl_bench.results.baseline import constant_scores

    out = {}
    ok = rows[rows["framework"].isin(constant_names) & (rows["status"] == "ok")]
    for r in ok.itertuples(index=False):
        out.setdefault((r.task, int(r.fold)), float(r.result))
    if run_dir is not None:
        for task, fold in rows[["task", "fold"]].drop_duplicates().itertuples(index=False):
            if (task, int(fold)) not in out:
                s = constant_scores(Path(run_dir) / "tasks" / str(task), int(fold))
                if s and s.get("result") is not None:
                    out[(task, int(fold))] = float(s["result"])
    return out
