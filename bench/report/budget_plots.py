"""Figures of the budget curves (matplotlib, like :mod:`automl_bench.report.plots`)."""

from __future__ import annotations

import pandas as pd

from automl_bench.report.placement import (
    close_groups,
    legend_outside,
    marker_boxes,
    place_labels,
)
from automl_bench.report.plots import _png, _text, plt

MARKER_PT = 6  # line markers' diameter in points


def _budget_axis(ax, budgets) -> None:
    budgets = sorted(set(float(b) for b in budgets))
    if len(budgets) > 1 and budgets[-1] / budgets[0] >= 4:
        ax.set_xscale("log")
    ax.set_xticks(budgets, [f"{b:g}" for b in budgets])
    ax.minorticks_off()


def budget_curves(points: pd.DataFrame) -> bytes:
    """Mean normalised score versus budget, one line per framework, with its interval."""
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for name, p in points.dropna(subset=["normalised"]).groupby("framework", sort=True):
        p = p.sort_values("budget_s")
        (line,) = ax.plot(p["budget_s"], p["normalised"], marker="o", ms=MARKER_PT,
                          label=_text(name))  # fmt: skip
        has = p["lo"].notna() & p["hi"].notna()
        if has.any():
            ax.fill_between(p["budget_s"][has], p["lo"][has], p["hi"][has],
                            color=line.get_color(), alpha=0.15, lw=0)  # fmt: skip
    _budget_axis(ax, points["budget_s"])
    ax.set_xlabel("budget per job (s)")
    ax.set_ylabel("normalised score (constant = 0, best = 1)")
    ax.set_title("Normalised score versus budget (mean over tasks)")
    ax.grid(alpha=0.3)
    legend_outside(ax, fontsize=8)
    return _png(fig)


def _same_curves(ax, p: pd.DataFrame) -> dict[str, list[str]]:
    """Frameworks whose every point would sit on an earlier framework's (identical systems):
    first framework -> the names drawn as its one curve."""
    curves: dict[str, list[str]] = {}
    for name, g in p.groupby("framework", sort=True):
        g = g.sort_values("budget_s")
        twin = None
        for first in curves:
            f = p[p["framework"] == first].sort_values("budget_s")
            if list(f["budget_s"]) != list(g["budget_s"]):
                continue
            both = pd.concat([f, g])
            groups = close_groups(ax, both["cost_usd"], both["normalised"], MARKER_PT)
            if len(groups) <= len(f):  # every point of g joined one of f's
                twin = first
                break
        if twin:
            curves[twin].append(name)
        else:
            curves[name] = [name]
    return curves


def _clear_of(ax, g: pd.DataFrame, earlier: pd.DataFrame) -> list[int]:
    """Positions in ``g`` whose markers touch none of ``earlier``'s."""
    if earlier.empty:
        return list(range(len(g)))
    both = pd.concat([earlier, g])
    groups = close_groups(ax, both["cost_usd"], both["normalised"], MARKER_PT)
    n = len(earlier)
    return sorted(i - n for grp in groups if min(grp) >= n for i in grp)


def budget_cost(points: pd.DataFrame) -> bytes:
    """Normalised score versus total compute cost, each framework's budgets joined in order;
    frameworks with identical curves drawn once, named together."""
    fig, ax = plt.subplots(figsize=(6.5, 4))
    p = points.dropna(subset=["normalised", "cost_usd"]).reset_index(drop=True)
    ax.scatter(p["cost_usd"], p["normalised"], s=0)  # the data limits first
    cost = p["cost_usd"]
    if len(cost) and (cost > 0).all() and cost.max() / max(cost.min(), 1e-12) > 30:
        ax.set_xscale("log")
    ax.margins(x=0.15, y=0.15)
    ax.set_xlabel("compute cost of the framework's jobs at that budget (USD)")
    ax.set_ylabel("normalised score")
    ax.set_title("Score versus cost at each budget")
    ax.grid(alpha=0.3)
    keep, names, drawn = [], [], []  # a framework's budgets whose points touch: one label
    for first, same in _same_curves(ax, p).items():
        g = p[p["framework"] == first].sort_values("budget_s")
        # a point on another system's marker (same cost and score, by chance): its line
        # passes through that marker rather than hiding it under its own
        shown = _clear_of(ax, g, p.loc[drawn])
        drawn += list(g.index[shown])
        ax.plot(g["cost_usd"], g["normalised"], marker="o", ms=MARKER_PT, markevery=shown,
                label=" = ".join(_text(n) for n in same))  # fmt: skip
        for group in close_groups(ax, g["cost_usd"], g["normalised"], MARKER_PT):
            rows = g.iloc[[i for i in group if i in shown]]
            if len(rows):
                keep.append(rows.index[0])
                names.append(", ".join(f"{b:g}s" for b in rows["budget_s"]))
    legend_outside(ax, fontsize=8)
    xs, ys = p.loc[keep, "cost_usd"], p.loc[keep, "normalised"]
    boxes = marker_boxes(ax, p.loc[drawn, "cost_usd"], p.loc[drawn, "normalised"], MARKER_PT)
    place_labels(ax, xs, ys, names, boxes, fontsize=7)
    return _png(fig)
