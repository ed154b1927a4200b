"""Figures of the budget curves (matplotlib, like :mod:`automl_bench.report.plots`)."""

from __future__ import annotations

import pandas as pd

from automl_bench.report.placement import legend_outside, marker_boxes, place_labels
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


def budget_cost(points: pd.DataFrame) -> bytes:
    """Normalised score versus total compute cost, each framework's budgets joined in order."""
    fig, ax = plt.subplots(figsize=(6.5, 4))
    p = points.dropna(subset=["normalised", "cost_usd"])
    for name, g in p.groupby("framework", sort=True):
        g = g.sort_values("budget_s")
        ax.plot(g["cost_usd"], g["normalised"], marker="o", ms=MARKER_PT, label=_text(name))
    cost = p["cost_usd"]
    if len(cost) and (cost > 0).all() and cost.max() / max(cost.min(), 1e-12) > 30:
        ax.set_xscale("log")
    ax.margins(x=0.15, y=0.15)
    ax.set_xlabel("compute cost of the framework's jobs at that budget (USD)")
    ax.set_ylabel("normalised score")
    ax.set_title("Score versus cost at each budget")
    ax.grid(alpha=0.3)
    legend_outside(ax, fontsize=8)
    place_labels(ax, p["cost_usd"], p["normalised"], [f"{b:g}s" for b in p["budget_s"]],
                 marker_boxes(ax, p["cost_usd"], p["normalised"], MARKER_PT), fontsize=7)  # fmt: skip
    return _png(fig)
