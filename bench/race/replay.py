"""``automl-bench race --replay RUN_DIR``: the racing rule replayed on a finished run.

Reads the run's results (never writes into its directory, runs nothing) and says when each
framework would have been dropped, the race's best framework and the frameworks it keeps,
next to two verdicts on all of the full run's results: the race's own test applied once to
every task x fold block (what the race would conclude had it never dropped anything), and
the report's (best mean rank; frameworks whose Nemenyi p-value against the best is at least
0.05 over the task means are not significantly worse), and the share of the run's compute
(wall x cores) the race would have used.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from automl_bench.errors import BadInput
from automl_bench.race import rule as race


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
    same_test: dict[float, Verdict]  # budget -> the race's test once on every block
    used: float  # core-seconds the race would have used
    total: float  # core-seconds the run used
    raced: bool  # the run itself was raced (holds raced-out rows)


def full_verdict(loaded, alpha: float = 0.05) -> Verdict:
    """The report's verdict: best = first of the leaderboard (mean rank over tasks);
    not significantly worse = Nemenyi p-value against it >= alpha (Friedman + Nemenyi)."""
    from automl_bench.report import aggregate as ag
    from automl_bench.report import stats

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


def same_test_verdict(rows: pd.DataFrame, frameworks: list[str], constant: dict,
                      rule: race.Rule) -> Verdict:  # fmt: skip
    """The race's test decided once on every complete task x fold block of ``rows`` (one
    budget): its leader, and the frameworks it does not find significantly worse."""
    scores = race.block_scores(rows, constant).reindex(columns=frameworks).dropna()
    if scores.empty:
        return Verdict(None, [], "no block where every framework has a result")
    fp, leader, ranks, _, dropped = race.decide(scores, rule)
    order = sorted(ranks, key=lambda f: (ranks[f], f))
    caveat = None
    if fp is None:
        caveat = f"{len(scores)} blocks, fewer than the {rule.min_blocks} a decision needs"
    return Verdict(leader or order[0], [f for f in order if f not in dropped], caveat)


def replay(run_dir: Path, rule: race.Rule | None = None) -> Replay:
    from automl_bench.race.live import read_rule
    from automl_bench.race.report_section import replay_compute, run_trace
    from automl_bench.report.load import load_runs

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
    constant_names = loaded.constant_labels | {"constant"}
    constant = race.constant_results(rows, run_dir, tuple(constant_names))
    tr = run_trace(run_dir, rows, constant_names, rule, constant)
    best = {}
    for b in tr.budgets:
        last = tr.last(b)
        best[b] = last.leader if last and last.leader else (
            min(last.ranks, key=lambda f: (last.ranks[f], f)) if last and last.ranks else None)
    full, same = {}, {}
    for b in tr.budgets:
        sub = type(loaded)(loaded.runs, rows[rows["budget_s"] == b].reset_index(drop=True),
                           loaded.profiles, list(loaded.notes), set(loaded.constant_labels))  # fmt: skip
        full[b] = full_verdict(sub)
        same[b] = same_test_verdict(sub.results, tr.frameworks, constant, rule)
    used, total = replay_compute(rows, tr)
    raced = bool((rows["status"] == race.RACED_OUT).any())
    return Replay(run_dir, rule, tr, best, full, same, used, total, raced)


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
        drops = sorted((d for d in rp.trace.drops.values() if d.budget_s == b and not d.won),
                       key=lambda d: (d.round, d.framework))  # fmt: skip
        for d in drops:
            lines.append(f"  {d.framework}: dropped after round {d.round} ({d.blocks} blocks), "
                         f"worse than {d.leader}: Holm p = {d.pvalue:.3g}, mean rank "
                         f"{d.mean_rank:.2f}")  # fmt: skip
        if not drops:
            lines.append("  no framework dropped")
        won = rp.trace.winner(b)
        if won is not None:
            lines.append(f"  the race ended after round {won.round} ({won.blocks} blocks): "
                         f"{won.framework} the only framework left; its remaining "
                         f"{len(folds) - won.round} rounds not run")  # fmt: skip
        survivors = rp.trace.survivors(b)
        lines.append(f"  race: best {rp.race_best[b]}; kept {', '.join(survivors)}")
        for label, v in (("full run, the race's test on every block", rp.same_test[b]),
                         ("full run, the report's verdict (Nemenyi over task means)", rp.full[b])):  # fmt: skip
            best_kept = v.best in survivors
            same_set = set(survivors) == set(v.not_worse)
            lines.append(f"  {label}: best {v.best}; not significantly worse than the best: "
                         f"{', '.join(v.not_worse)}" + (f" ({v.caveat})" if v.caveat else ""))  # fmt: skip
            lines.append(f"    its best never dropped: {'yes' if best_kept else 'NO'}; same "
                         f"best: {'yes' if rp.race_best[b] == v.best else 'no'}; same set of "
                         f"frameworks not significantly worse: {'yes' if same_set else 'no'}")  # fmt: skip
        if set(rp.same_test[b].not_worse) != set(rp.full[b].not_worse):
            lines.append("  (the race's test compares every task x fold block pairwise with "
                         "the leader; the report's tests the task means with Friedman + "
                         "Nemenyi over all pairs, which has less power: the two sets can "
                         "differ)")  # fmt: skip
    share = rp.used / rp.total if rp.total > 0 else float("nan")
    lines.append("")
    lines.append(f"Compute (wall x cores): the race would have used {rp.used / 3600:.3g} of "
                 f"{rp.total / 3600:.3g} core-hours, {share:.1%} of the run's (no overlap "
                 "between rounds assumed: a live race may start a few more jobs of a framework "
                 "before the decision that drops it).")  # fmt: skip
    return lines
