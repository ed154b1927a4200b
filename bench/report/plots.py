"""The report's figures as PNG bytes (matplotlib, Agg backend: no display needed).

Labels come from users and backends: ``$`` would switch matplotlib to mathtext, so every
label goes through :func:`_text` first.
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import scikit_posthocs as sp  # noqa: E402

from automl_bench.report.placement import (  # noqa: E402
    close_groups,
    legend_outside,
    marker_boxes,
    place_labels,
)

plt.rcParams.update({"figure.dpi": 100, "font.size": 9, "svg.fonttype": "none"})


def _text(s) -> str:
    return str(s).replace("$", r"\$")


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def cd_diagram(ranks: pd.Series, pvalues: pd.DataFrame, cd: float, metric_name: str = "score",
               alpha: float = 0.05):  # fmt: skip
    """Critical difference diagram (scikit-posthocs): mean ranks, bars join frameworks whose
    Nemenyi p-value is >= alpha, and the critical difference drawn above the axis."""
    names = {n: _text(n) for n in ranks.index}
    r = ranks.rename(index=names)
    p = pvalues.rename(index=names, columns=names)
    fig, ax = plt.subplots(figsize=(7, 1.0 + 0.4 * len(r)))
    artists = sp.critical_difference_diagram(r, p, ax=ax, alpha=alpha)
    _separate_ties(artists["markers"], ax)
    _cd_bar(ax, float(r.min()), cd)
    ax.set_title(f"Mean rank on {_text(metric_name)} over tasks (1 = best); "
                 f"critical difference {cd:.2f} at alpha {alpha}", pad=28)
    return _png(fig), artists


def _separate_ties(markers, ax) -> None:
    """Markers of frameworks with the same mean rank stacked below the axis, not on each
    other (scikit-posthocs draws them all at height 0)."""
    seen: dict[float, int] = {}
    for m in markers:
        x, y = m.get_offsets()[0]
        k = seen.get(round(float(x), 9), 0)
        seen[round(float(x), 9)] = k + 1
        if k:
            m.set_offsets([[x, y - 0.45 * k]])


def _cd_bar(ax, start: float, cd: float) -> None:
    """The critical difference as a bar below the lowest label, from the best mean rank."""
    low = min(t.get_position()[1] for t in ax.texts) - 1.0
    ax.plot([start, start + cd], [low, low], color="k", lw=1.5)
    ax.plot([start, start], [low - 0.15, low + 0.15], color="k", lw=1.5)
    ax.plot([start + cd, start + cd], [low - 0.15, low + 0.15], color="k", lw=1.5)
    ax.text(start + cd + 0.05, low, f"CD = {cd:.2f}", ha="left", va="center", fontsize=9)
    ax.set_ylim(low - 0.7, ax.get_ylim()[1])


def win_rate_heatmap(w: pd.DataFrame, metric_name: str = "score") -> bytes:
    k = len(w)
    fig, ax = plt.subplots(figsize=(1.2 + 0.8 * k, 0.8 + 0.65 * k))
    im = ax.imshow(w.to_numpy(dtype=float), vmin=0, vmax=1, cmap="RdYlGn")
    ax.set_xticks(range(k), [_text(c) for c in w.columns], rotation=40, ha="right")
    ax.set_yticks(range(k), [_text(c) for c in w.index])
    for i in range(k):
        for j in range(k):
            v = w.iat[i, j]
            ax.text(j, i, "" if pd.isna(v) else f"{v:.2f}", ha="center", va="center", fontsize=8)
    ax.set_title(f"Win rate of row vs column on {_text(metric_name)} (ties = 1/2)")
    fig.colorbar(im, ax=ax, fraction=0.046)
    return _png(fig)


def ratings(table: pd.DataFrame, anchor: str) -> bytes:
    t = table.iloc[::-1]
    fig, ax = plt.subplots(figsize=(6, 0.6 + 0.4 * len(t)))
    y = np.arange(len(t))
    has = t["lo"].notna()
    ax.errorbar(t["elo"][has], y[has.to_numpy()],
                xerr=[(t["elo"] - t["lo"])[has], (t["hi"] - t["elo"])[has]],
                fmt="o", capsize=3)  # fmt: skip
    ax.plot(t["elo"][~has], y[~has.to_numpy()], "o")
    ax.set_yticks(y, [_text(f) for f in t["framework"]])
    ax.axvline(1000, color="grey", lw=0.8, ls=":")
    ax.set_xlabel(f"Elo (Bradley-Terry; {_text(anchor)} = 1000), 95% bootstrap over tasks")
    return _png(fig)


MARKER_PT = 7  # scatter marker diameter in points


def pareto(points: pd.DataFrame, x: str, front: str, xlabel: str, ylabel: str) -> bytes:
    """Score against a cost; labels beside their points, overlapping nothing; the legend
    outside the plot area; margins so that no marker or label is cut at an edge."""
    fig, ax = plt.subplots(figsize=(6.5, 4))
    p = points.dropna(subset=[x, "score"]).reset_index(drop=True)
    ax.scatter(p[x], p["score"], s=0)  # the data limits, before the markers are placed
    f = p[p[front]].sort_values(x)
    if len(f):
        ax.step(f[x], f["score"], where="post", color="tab:red", lw=1, label="Pareto front")
        legend_outside(ax, fontsize=8)
    if len(p) and (p[x] > 0).all() and p[x].max() / max(p[x].min(), 1e-12) > 30:
        ax.set_xscale("log")
    ax.margins(x=0.25, y=0.2)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    groups = close_groups(ax, p[x], p["score"], MARKER_PT)
    first = [g[0] for g in groups]
    xs, ys = p.loc[first, x], p.loc[first, "score"]
    on_front = [bool(p.loc[g, front].any()) for g in groups]
    ax.scatter(xs, ys, s=MARKER_PT**2, zorder=3,
               color=np.where(on_front, "tab:red", "tab:blue"))  # fmt: skip
    names = [" = ".join(_text(p.loc[i, "framework"]) for i in g) for g in groups]
    place_labels(ax, xs, ys, names, marker_boxes(ax, xs, ys, MARKER_PT))
    return _png(fig)


def budget(r: pd.DataFrame) -> bytes:
    """Fit time / budget per job as a box per framework; killed jobs (no fit time) as crosses
    at their wall time / budget."""
    names = sorted(r["framework"].unique())
    fig, ax = plt.subplots(figsize=(6.5, 0.9 + 0.45 * len(names)))
    data = [r.loc[r["framework"] == n, "fit_ratio"].dropna().to_numpy() for n in names]
    ax.boxplot(data, orientation="horizontal", tick_labels=[_text(n) for n in names])
    for i, n in enumerate(names):
        g = r[r["framework"] == n]
        fit = g[g["fit_ratio"].notna()]
        ax.scatter(fit["fit_ratio"], np.full(len(fit), i + 1), s=10, zorder=3, color="tab:blue")
        killed = g[g["status"].isin(["timeout", "memory"])]
        colors = killed["status"].map({"timeout": "tab:red", "memory": "tab:purple"})
        ax.scatter(killed["wall_ratio"], np.full(len(killed), i + 1), s=30, marker="x",
                   zorder=4, c=list(colors))  # fmt: skip
    ax.axvline(1.0, color="k", lw=1, ls="--", label="budget")
    kill = r["kill_ratio"].dropna()
    if len(kill):
        ax.axvline(float(kill.median()), color="tab:red", lw=1, ls=":", label="kill limit")
    ax.set_xlabel("fit time / budget per job (x: killed job at wall time / budget; "
                  "red timeout, purple memory)")  # fmt: skip
    legend_outside(ax, fontsize=8)
    return _png(fig)
