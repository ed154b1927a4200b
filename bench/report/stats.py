"""Are the differences real? Friedman + Nemenyi (critical difference), pairwise win rates and
Bradley-Terry (Elo-scale) ratings with bootstrap intervals over tasks.

Every function takes a tasks x frameworks matrix of a higher-is-better score (one value per
task, e.g. the mean over folds) and returns numbers plus, where the input cannot support a
conclusion, a sentence saying so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scikit_posthocs as sp
from scipy import stats as st
from scipy.special import expit

ALPHA = 0.05


@dataclass
class CriticalDifference:
    ranks: pd.Series  # mean rank per framework (1 = best)
    n_tasks: int
    statistic: float | None  # Friedman chi-square (tie-corrected)
    pvalue: float | None
    cd: float | None  # Nemenyi critical difference at ALPHA
    pvalues: pd.DataFrame | None  # Nemenyi pairwise p-values
    cliques: list[list[str]] = field(default_factory=list)  # groups not significantly different
    caveats: list[str] = field(default_factory=list)

    @property
    def available(self) -> bool:
        return self.pvalues is not None


def nemenyi_cd(k: int, n: int, alpha: float = ALPHA) -> float:
    """Demsar's critical difference q_alpha * sqrt(k(k+1) / 6N), q from the studentized range."""
    q = st.studentized_range.ppf(1 - alpha, k, np.inf) / math.sqrt(2)
    return float(q * math.sqrt(k * (k + 1) / (6.0 * n)))


def critical_difference(matrix: pd.DataFrame, alpha: float = ALPHA) -> CriticalDifference:
    m = matrix.dropna(axis=0, how="any")
    caveats = []
    if len(m) < len(matrix):
        caveats.append(
            f"{len(matrix) - len(m)} tasks without a score for every framework are left out"
        )
    k, n = m.shape[1], m.shape[0]
    ranks = (
        m.rank(axis=1, ascending=False, method="average").mean() if n else pd.Series(dtype=float)
    )
    if k < 2:
        caveats.append("only one framework: there is nothing to compare it with")
        return CriticalDifference(ranks, n, None, None, None, None, [], caveats)
    if n < 2:
        caveats.append(
            f"only {n} task{'s' if n != 1 else ''} with a score for every framework: ranks over "
            "tasks, the Friedman test and the critical difference need at least two tasks"
        )
        return CriticalDifference(ranks, n, None, None, None, None, [], caveats)
    stat = pval = None
    if k >= 3:
        res = st.friedmanchisquare(*[m[c].to_numpy() for c in m.columns])
        stat, pval = float(res.statistic), float(res.pvalue)
        if not np.isfinite(stat):  # every task ranks the frameworks identically with all ties
            stat, pval = 0.0, 1.0
        if pval >= alpha:
            caveats.append(
                f"Friedman test p = {pval:.3g} >= {alpha}: the frameworks' ranks are not "
                f"significantly different on these {n} tasks; the diagram is descriptive only"
            )
    else:
        caveats.append("with two frameworks the Friedman test does not apply; Nemenyi only")
    if n < 5:
        caveats.append(f"{n} tasks give these tests little power: treat groupings as tentative")
    pvalues = sp.posthoc_nemenyi_friedman(m.to_numpy())
    pvalues.index = pvalues.columns = list(m.columns)
    cd = nemenyi_cd(k, n, alpha)
    return CriticalDifference(ranks, n, stat, pval, cd, pvalues, cliques(ranks, cd), caveats)


def cliques(ranks: pd.Series, cd: float) -> list[list[str]]:
    """Maximal runs of frameworks (sorted by rank) whose rank spread is at most ``cd``."""
    r = ranks.sort_values()
    names, vals = list(r.index), r.to_numpy()
    out: list[list[str]] = []
    for i in range(len(names)):
        j = i
        while j + 1 < len(names) and vals[j + 1] - vals[i] <= cd + 1e-12:
            j += 1
        group = names[i : j + 1]
        if len(group) > 1 and not any(set(group) <= set(g) for g in out):
            out.append(group)
    return out


def win_rates(matrix: pd.DataFrame) -> pd.DataFrame:
    """Row framework's share of tasks won against the column framework (ties count one half)."""
    m = matrix.dropna(axis=0, how="any")
    cols = list(matrix.columns)
    out = pd.DataFrame(np.nan, index=cols, columns=cols)
    if m.empty:
        return out
    v = m.to_numpy()
    for i, a in enumerate(cols):
        for j, b in enumerate(cols):
            if i != j:
                out.loc[a, b] = float(np.mean((v[:, i] > v[:, j]) + 0.5 * (v[:, i] == v[:, j])))
    return out


# -- Bradley-Terry / Elo -------------------------------------------------------------------
ELO_SCALE = 400.0 / math.log(10.0)  # Elo points per unit of log-odds
ELO_BASE = 1000.0


def _battles(m: np.ndarray):
    """Every pair of frameworks on every task: arrays i, j and outcome (1 win, .5 tie, 0 loss)."""
    n, k = m.shape
    i, j = np.triu_indices(k, 1)
    a, b = m[:, i], m[:, j]
    outcome = np.where(a > b, 1.0, np.where(a == b, 0.5, 0.0))
    return np.tile(i, n), np.tile(j, n), outcome.ravel()


def _fit_bt(m: np.ndarray, anchor: int, c: float) -> np.ndarray:
    """Bradley-Terry strengths (log-odds units): maximum likelihood with a weak L2 penalty.

    Minimises 0.5 |beta|^2 + c * sum over battles of the log loss of
    P(i beats j) = sigmoid(beta_i - beta_j), a tie counting half a win each way (the
    objective of an L2 logistic regression on +1/-1 battle rows, as Chatbot Arena and
    TabArena fit Elo). The penalty keeps strengths finite when a framework wins every
    battle (complete separation), which is common with few tasks.
    """
    k = m.shape[1]
    i, j, o = _battles(m)

    def loss(beta):
        d = beta[i] - beta[j]
        return 0.5 * beta @ beta + c * np.sum(
            o * np.logaddexp(0, -d) + (1 - o) * np.logaddexp(0, d)
        )

    # Newton's method: the objective is smooth and strictly convex (Hessian >= identity), so
    # a few damped steps converge; k is small, so each step is a tiny linear solve.
    beta = np.zeros(k)
    current = loss(beta)
    for _ in range(100):
        d = beta[i] - beta[j]
        p = expit(d)
        g = c * (p - o)
        grad = beta + np.bincount(i, g, minlength=k) - np.bincount(j, g, minlength=k)
        h = c * p * (1 - p)
        hess = np.eye(k)
        np.add.at(hess, (i, i), h)
        np.add.at(hess, (j, j), h)
        np.add.at(hess, (i, j), -h)
        np.add.at(hess, (j, i), -h)
        step = np.linalg.solve(hess, grad)
        t = 1.0
        while t > 1e-8 and loss(beta - t * step) > current:
            t /= 2
        beta = beta - t * step
        new = loss(beta)
        if current - new < 1e-12:
            break
        current = new
    return beta - beta[anchor]


def prior_note(c: float = 1.0) -> str:
    sd = math.sqrt(1.0)  # the objective's 0.5 |beta|^2 term is a N(0, 1) prior per strength
    return (f"Prior: each framework's strength (log-odds) has a Gaussian prior with mean 0 and "
            f"standard deviation {sd:g} (about {ELO_SCALE * sd:.0f} Elo points), each battle "
            f"weighted {c:g}. It keeps a rating finite when a framework wins or loses every "
            "battle, which is common with few tasks, and pulls ratings from little data "
            "towards equal strength; with many tasks the battles outweigh it.")


@dataclass
class Ratings:
    table: pd.DataFrame  # framework, elo, lo, hi (index-free)
    anchor: str
    n_boot: int
    caveats: list[str] = field(default_factory=list)


def bradley_terry(
    matrix: pd.DataFrame,
    anchor: str | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    c: float = 1.0,
) -> Ratings:
    """Elo-scale ratings (anchor framework = 1000) with 95% intervals from resampling tasks.

    The fit is the posterior mode under a Gaussian prior on the strengths: ``c`` is the
    weight of the battles against a N(0, 1) prior in log-odds units (PRIOR_NOTE says so in
    the report)."""
    m = matrix.dropna(axis=0, how="any")
    cols = list(matrix.columns)
    caveats = []
    if len(cols) < 2 or m.empty:
        caveats.append("ratings need at least two frameworks scored on at least one task")
        return Ratings(pd.DataFrame(columns=["framework", "elo", "lo", "hi"]), "", 0, caveats)
    anchor = anchor if anchor in cols else None
    if anchor is None:
        caveats.append("no constant predictor to anchor at 1000: the first framework is the anchor")
        anchor = cols[0]
    a = cols.index(anchor)
    v = m.to_numpy()
    point = ELO_BASE + ELO_SCALE * _fit_bt(v, a, c)
    from automl_bench.report.intervals import MIN_TASKS

    lo = hi = np.full(len(cols), np.nan)
    if len(m) >= MIN_TASKS:
        rng = np.random.default_rng(seed)
        boots = np.array([
            ELO_BASE + ELO_SCALE * _fit_bt(v[rng.integers(0, len(v), len(v))], a, c)
            for _ in range(n_boot)
        ])  # fmt: skip
        lo, hi = np.percentile(boots, [2.5, 97.5], axis=0)
    else:
        caveats.append(f"only {len(m)} task{'s' if len(m) != 1 else ''}: the ratings have no "
                       f"interval (resampling tasks needs at least {MIN_TASKS})")  # fmt: skip
    table = pd.DataFrame({"framework": cols, "elo": point, "lo": lo, "hi": hi})
    return Ratings(
        table.sort_values("elo", ascending=False).reset_index(drop=True),
        anchor,
        n_boot if len(m) >= MIN_TASKS else 0,
        caveats,
    )
