"""``automl-bench race --replay RUN_DIR``: the racing rule replayed on a finished run.

Reads the run's results (never writes into its directory, runs nothing) and says when each
framework would have been dropped, the race's best framework and the frameworks it keeps,
next to the full run's verdict as the report gives it (best mean rank; frameworks whose
Nemenyi p-value against the best is at least 0.05 are not significantly worse), and the share
of the run's compute (wall x cores) the race would have used.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from bench import race
from bench.errors import BadInput


@dataclass
class Verdict:
    best: str | None
    not_worse: list[str]  # best included
    caveat: str | None = None


@dataclass
class Replay:
    run_dir: Path
    rule: race.Rule
    trace: race.Trace
    race_best: dict[float, str | None]  # budget -> the leader at the last decision
    full: dict[float, Verdict]  # budget -> the report's verdict on all the run's results
    used: float  # core-seconds the race would have used
    total: float  # core-seconds the run used
    raced: bool  # the run itself was raced (holds raced-out rows)


def full_verdict(loaded, alpha: float = 0.05) -> Verdict:
    """The report's verdict: best = first of the leaderboard (mean rank over tasks);
    not significantly worse = Nemenyi p-value against it >= alpha (Friedman + Nemenyi)."""
    from bench.report import aggregate as ag
    from bench.report import stats

    grid = ag.build_grid(loaded)
    matrix = ag.task_matrix(grid)
    if matrix.empty:
        return Verdict(None, [], "no framework has results to rank")
    ranks = ag.mean_ranks(matrix)
    norm = ag.normalised(grid)
    order = sorted(ranks.index, key=lambda f: (ranks[f], -(norm[f].mean() if f in norm else 0), f))
    best = order[0]
    cd = stats.critical_difference(matrix, alpha)
    if not cd.available:
        return Verdict(best, list(order), "; ".join(cd.caveats))
    keep = [f for f in order if f == best or cd.pvalues.loc[best, f] >= alpha]
    return Verdict(best, keep, None)


def replay(run_dir: Path, rule: race.Rule | None = None) -> Replay:
    from bench.race_live import read_rule
    from bench.report.load import load_runs
    from bench.report.race import replay_compute, run_trace

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise BadInput(f"{run_dir}: " + ("not a run directory (a file)" if run_dir.exists()
                                         else "no such run directory"))  # fmt: skip
    loaded = load_runs([run_dir])  # BadInput when it holds no results
    rows = loaded.results
    if rows.empty:
        raise BadInput(f"{run_dir}: the run holds no results to replay")
    missing = [c for c in ("framework", "task", "fold", "budget_s", "status", "result",
                           "duration", "cores") if c not in rows or rows[c].isna().all()]  # fmt: skip
    if missing:
        raise BadInput(f"{run_dir}: its results lack the columns {missing} the race needs")
    rule = rule or read_rule(run_dir) or race.Rule()
    rows = rows.assign(budget_s=pd.to_numeric(rows["budget_s"], errors="coerce"))
    tr = run_trace(run_dir, rows, loaded.constant_labels | {"constant"}, rule)
    best = {}
    for b in tr.budgets:
        last = tr.last(b)
        best[b] = last.leader if last and last.leader else (
            min(last.ranks, key=lambda f: (last.ranks[f], f)) if last and last.ranks else None)
    full = {}
    for b in tr.budgets:
        sub = type(loaded)(loaded.runs, rows[rows["budget_s"] == b].reset_index(drop=True),
                           loaded.profiles, list(loaded.notes), set(loaded.constant_labels))  # fmt: skip
        full[b] = full_verdict(sub)
    used, total = replay_compute(rows, tr)
    raced = bool((rows["status"] == race.RACED_OUT).any())
    return Replay(run_dir, rule, tr, best, full, used, total, raced)


def render(rp: Replay) -> list[str]:
    """The replay as lines of text for the terminal."""
    lines = [f"Race replayed on {rp.run_dir} ({len(rp.trace.frameworks)} frameworks): "
             f"{rp.rule.describe()}."]  # fmt: skip
    if rp.raced:
        lines.append("This run was itself raced: its raced-out jobs never ran, so the full "
                     "verdict below covers only the jobs that ran.")  # fmt: skip
    for b in rp.trace.budgets:
        folds = rp.trace.rounds[b]
        lines.append("")
        lines.append(f"Budget {b:g} s: {len(folds)} rounds (folds {', '.join(map(str, folds))}), "
                     f"{rp.trace.decided(b)} decided.")  # fmt: skip
        drops = sorted((d for d in rp.trace.drops.values() if d.budget_s == b),
                       key=lambda d: (d.round, d.framework))  # fmt: skip
        for d in drops:
            lines.append(f"  {d.framework}: dropped after round {d.round} ({d.blocks} blocks), "
                         f"worse than {d.leader}: Holm p = {d.pvalue:.3g}, mean rank "
                         f"{d.mean_rank:.2f}")  # fmt: skip
        if not drops:
            lines.append("  no framework dropped")
        survivors = rp.trace.survivors(b)
        v = rp.full[b]
        lines.append(f"  race: best {rp.race_best[b]}; kept {', '.join(survivors)}")
        lines.append(f"  full run (report's verdict): best {v.best}; not significantly worse "
                     f"than the best: {', '.join(v.not_worse)}"
                     + (f" ({v.caveat})" if v.caveat else ""))  # fmt: skip
        best_kept = v.best in survivors
        same_set = set(survivors) == set(v.not_worse)
        lines.append(f"  full run's best never dropped: {'yes' if best_kept else 'NO'}; same "
                     f"best: {'yes' if rp.race_best[b] == v.best else 'no'}; same set of "
                     f"frameworks not significantly worse: {'yes' if same_set else 'no'}")  # fmt: skip
        if not same_set:
            last = rp.trace.last(b)
            lines.append(f"  (the race tests {last.blocks if last else 0} task x fold blocks "
                         "pairwise against its leader; the report's verdict tests the task "
                         "means with Friedman + Nemenyi over all pairs, so the two can differ "
                         "in power)")  # fmt: skip
    share = rp.used / rp.total if rp.total > 0 else float("nan")
    lines.append("")
    lines.append(f"Compute (wall x cores): the race would have used {rp.used / 3600:.3g} of "
                 f"{rp.total / 3600:.3g} core-hours, {share:.1%} of the run's (no overlap "
                 "between rounds assumed: a live race may start a few more jobs of a framework "
                 "before the decision that drops it).")  # fmt: skip
    return lines
