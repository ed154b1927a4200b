"""Chart labels that overlap nothing: each label goes beside its point, at the first of a
ring of positions (growing outwards) where it covers no marker, no other label and stays
inside the plot; legends go outside the plot area. Measured with matplotlib's own renderer,
so what is checked is what is drawn."""

from __future__ import annotations

import numpy as np
from matplotlib.transforms import Bbox

# offsets in points (dx, dy) with the alignment that keeps the text off its point
_DIRECTIONS = [(1, 1, "left", "bottom"), (1, -1, "left", "top"), (-1, 1, "right", "bottom"),
               (-1, -1, "right", "top"), (0, 1, "center", "bottom"), (0, -1, "center", "top"),
               (1, 0, "left", "center"), (-1, 0, "right", "center")]  # fmt: skip
_STEPS = (4, 10, 18, 28, 40)
PAD_PX = 1.5


def legend_outside(ax, **kw):
    """The axes' legend to the right of the plot area, never over the data."""
    return ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, **kw)


def marker_boxes(ax, xs, ys, size_pt: float) -> list[Bbox]:
    """Display-space boxes of markers of ``size_pt`` diameter (points) at data ``xs, ys``."""
    r = size_pt / 2 * ax.figure.dpi / 72 + PAD_PX
    pts = ax.transData.transform(np.column_stack([xs, ys]))
    return [Bbox.from_extents(x - r, y - r, x + r, y + r) for x, y in pts]


def close_groups(ax, xs, ys, size_pt: float) -> list[list[int]]:
    """Indices of points whose markers would touch, grouped (each group is drawn as one
    marker with every name in its label): identical results must not hide each other."""
    ax.figure.canvas.draw()
    pts = ax.transData.transform(np.column_stack([np.asarray(xs, float), np.asarray(ys, float)]))
    reach = size_pt * ax.figure.dpi / 72 + 2 * PAD_PX
    groups: list[list[int]] = []
    for i, (x, y) in enumerate(pts):
        home = next((g for g in groups if any(np.hypot(*(pts[j] - (x, y))) < reach for j in g)),
                    None)  # fmt: skip
        if home is None:
            groups.append([i])
        else:
            home.append(i)
    return groups


def _fits(box: Bbox, inside: Bbox, taken: list[Bbox]) -> bool:
    if box.x0 < inside.x0 or box.x1 > inside.x1 or box.y0 < inside.y0 or box.y1 > inside.y1:
        return False
    return not any(box.overlaps(t) for t in taken)


def place_labels(ax, xs, ys, labels, markers: list[Bbox], fontsize: float = 8) -> list:
    """Annotate each point with its label where it overlaps nothing (see module docstring);
    a label with no free position takes the one overlapping least. Returns the texts."""
    fig = ax.figure
    fig.canvas.draw()  # final limits and scales: positions below are what is drawn
    renderer = fig.canvas.get_renderer()
    inside = ax.get_window_extent(renderer)
    taken, texts = list(markers), []
    for x, y, label in zip(xs, ys, labels, strict=True):
        best = None  # (cost, text, box)
        for step in _STEPS:
            for dx, dy, ha, va in _DIRECTIONS:
                t = ax.annotate(label, (x, y), textcoords="offset points",
                                xytext=(dx * step, dy * step), ha=ha, va=va, fontsize=fontsize)  # fmt: skip
                box = t.get_window_extent(renderer).padded(PAD_PX)
                cost = 0 if _fits(box, inside, taken) else (
                    sum(box.overlaps(b) for b in taken) + (0 if _fits(box, inside, []) else 5) + 1)  # fmt: skip
                if best is None or cost < best[0]:
                    if best is not None:
                        best[1].remove()
                    best = (cost, t, box)
                else:
                    t.remove()
                if cost == 0:
                    break
            if best[0] == 0:
                break
        taken.append(best[2])
        texts.append(best[1])
    return texts
