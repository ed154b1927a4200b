"""report.md for pull requests and wikis: the same sections as the HTML, figures as PNG files
beside it (``img/<name>.png``). Cell text is escaped so markup in names shows as text."""

from __future__ import annotations

from automl_bench.report.build import Report
from automl_bench.report.tables import Table

_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "|": "\\|", "\\": "\\\\", "*": "\\*",
            "_": "\\_", "`": "\\`", "[": "\\[", "]": "\\]"}  # fmt: skip


def esc(s) -> str:
    text = " ".join(str(s).split())  # newlines would end a table row
    return "".join(_ESCAPES.get(ch, ch) for ch in text)


def table(t: Table) -> str:
    lines = ["| " + " | ".join(esc(c) for c in t.columns) + " |",
             "|" + "|".join("---" for _ in t.columns) + "|"]  # fmt: skip
    lines += ["| " + " | ".join(esc(c) for c in row) + " |" for row in t.rows]
    if t.caption:
        lines += ["", f"_{esc(t.caption)}_"]
    return "\n".join(lines)


def render(report: Report, image_dir: str = "img") -> str:
    out = [f"# {esc(report.title)}", "", f"Generated {esc(report.generated)} by automl-bench.", ""]
    out += ["## What can and cannot be concluded", ""]
    out += [f"- {esc(c)}" for c in report.conclusions] + [""]
    for s in report.sections:
        out += [f"## {esc(s.title)}", ""]
        for kind, block in s.blocks:
            if kind == "p":
                out += [esc(block), ""]
            elif kind == "list":
                out += [f"- {esc(x)}" for x in block] + [""]
            elif kind == "img":
                out += [f"![{esc(block.alt)}]({image_dir}/{block.name}.png)", ""]
            elif kind == "table":
                out += [table(block), ""]
    return "\n".join(out)
