"""What overlaps in a drawn matplotlib figure, read with matplotlib's own renderer: text over
text, text over a marker, a marker over a marker, a legend over the plot area, markers or
labels cut off at the plot's edge. Used by tests/test_report_charts.py."""

from __future__ import annotations

import numpy as np
from matplotlib.collections import PathCollection
from matplotlib.text import Text

TOL_PX = 0.5  # boxes touching by less than this do not count


def _hit(a, b) -> bool:
    return (min(a.x1, b.x1) - max(a.x0, b.x0) > TOL_PX
            and min(a.y1, b.y1) - max(a.y0, b.y0) > TOL_PX)  # fmt: skip


def _drawn_ticklabels(axis) -> list[Text]:
    lo, hi = sorted(axis.get_view_interval())
    out = []
    for tick in axis.get_major_ticks():
        if tick.label1.get_visible() and tick.label1.get_text().strip() and lo <= tick.get_loc() <= hi:
            out.append(tick.label1)
        if tick.label2.get_visible() and tick.label2.get_text().strip() and lo <= tick.get_loc() <= hi:
            out.append(tick.label2)
    return out


def texts(fig) -> list[tuple[str, Text]]:
    """Every text drawn: titles, axis labels, tick labels, annotations, legend entries."""
    out = []
    for ax in fig.axes:
        own = [ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label,
               *ax.texts, *_drawn_ticklabels(ax.xaxis), *_drawn_ticklabels(ax.yaxis)]  # fmt: skip
        legend = ax.get_legend()
        if legend is not None:
            own += legend.get_texts()
        out += [(t.get_text(), t) for t in own if t.get_visible() and t.get_text().strip()]
    for legend in fig.legends:
        out += [(t.get_text(), t) for t in legend.get_texts()]
    out += [(t.get_text(), t) for t in fig.texts if t.get_text().strip()]
    return out


def markers(fig, renderer) -> list[tuple[str, object, object]]:
    """(name, display box, axes, series) of every marker drawn: scatter points (each its own
    system) and line markers (series: the line, one system's points along it)."""
    out = []
    for ax in fig.axes:
        for c in ax.collections:
            if not isinstance(c, PathCollection) or not len(c.get_offsets()):
                continue
            sizes = c.get_sizes() if len(c.get_sizes()) else [36.0]
            pts = c.get_offset_transform().transform(c.get_offsets())
            for i, (x, y) in enumerate(pts):
                r = np.sqrt(sizes[i % len(sizes)]) / 2 * fig.dpi / 72
                out.append((f"marker of {c.get_label()}", _box(x, y, r), ax, None))
        for line in ax.lines:
            if line.get_marker() in (None, "", "None", " ") or not line.get_visible():
                continue
            r = line.get_markersize() / 2 * fig.dpi / 72
            xy = line.get_transform().transform(line.get_xydata())
            every = line.get_markevery()  # a list of positions: only those carry a marker
            if isinstance(every, list | tuple) and all(isinstance(i, int) for i in every):
                xy = xy[list(every)] if every else xy[:0]
            out += [(f"marker of {line.get_label()}", _box(x, y, r), ax, id(line)) for x, y in xy]
    return out


def _box(x, y, r):
    from matplotlib.transforms import Bbox

    return Bbox.from_extents(x - r, y - r, x + r, y + r)


def _rotated(t: Text) -> bool:
    return t.get_rotation() % 90 != 0


def overlaps(fig, marker_pairs: bool = True, inside: bool = True) -> list[str]:
    """Every overlap in ``fig`` as a sentence; empty when nothing overlaps. ``marker_pairs``:
    markers over markers count (off for plots of many jobs); ``inside``: markers and labels
    must not be cut at the plot's edge."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    ts = [(s, t, t.get_window_extent(renderer)) for s, t in texts(fig)]
    ms = markers(fig, renderer)
    found = []
    for i, (a, ta, ba) in enumerate(ts):
        for b, tb, bb in ts[i + 1 :]:
            if not (_rotated(ta) or _rotated(tb)) and _hit(ba, bb):
                found.append(f"text {a!r} over text {b!r}")
        for name, box, _, _ in ms:
            if _hit(ba, box):
                found.append(f"text {a!r} over {name}")
    if marker_pairs:  # two systems' markers; a line's own points may touch (a plateau)
        for i, (a, box_a, _, line_a) in enumerate(ms):
            found += [f"{a} over {b}" for b, box_b, _, line_b in ms[i + 1 :]
                      if (line_a is None or line_a != line_b) and _hit(box_a, box_b)]  # fmt: skip
    found += _legends(fig, renderer, ts, ms)
    if inside:
        found += _cut(fig, renderer, ts, ms)
    return found


def _legends(fig, renderer, ts, ms) -> list[str]:
    out = []
    legends = [a.get_legend() for a in fig.axes if a.get_legend() is not None] + fig.legends
    for legend in legends:
        frame = legend.get_window_extent(renderer)
        for ax in fig.axes:
            if ax.get_visible() and ax.axison and _hit(frame, ax.get_window_extent(renderer)):
                out.append("legend inside the plot area")
        own = {id(t) for t in legend.get_texts()}
        out += [f"text {s!r} over the legend" for s, t, b in ts
                if id(t) not in own and _hit(b, frame)]  # fmt: skip
        out += [f"{n} under the legend" for n, box, _, _ in ms if _hit(box, frame)]
    return out


def _cut(fig, renderer, ts, ms) -> list[str]:
    out = []
    for name, box, ax, _ in ms:
        area = ax.get_window_extent(renderer)
        if box.x0 < area.x0 - TOL_PX or box.x1 > area.x1 + TOL_PX or \
                box.y0 < area.y0 - TOL_PX or box.y1 > area.y1 + TOL_PX:  # fmt: skip
            out.append(f"{name} cut at the plot's edge")
    for s, t, b in ts:
        if t.axes is not None and t in t.axes.texts:
            area = t.axes.get_window_extent(renderer)
            if b.x0 < area.x0 or b.x1 > area.x1 or b.y0 < area.y0 or b.y1 > area.y1:
                out.append(f"label {s!r} cut at the plot's edge")
    return out

