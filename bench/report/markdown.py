"""report.md for pull requests and wikis: the same sections as the HTML, figures as PNG files
beside it (``img/<name>.png``). Text is escaped with CommonMark's backslash escapes, which a
renderer drops, so markup in names and messages shows as written and the file holds no HTML
entity; characters that cannot start markup where they stand are left as they are."""

from __future__ import annotations

import re

from automl_bench.report.document import Report
from automl_bench.report.tables import Table

# always special in a table cell or a paragraph: escaped wherever they stand
_ALWAYS = re.compile(r"([\\`*_\[\]|])")
# special only as the start of an HTML tag, comment or entity: escaped only there
_TAG = re.compile(r"<(?=[A-Za-z/!?])")
_ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")


_CODE = re.compile(r"`([^`]+)`")  # a command or name the text quotes: kept as a code span


def _plain(text: str) -> str:
    text = _ALWAYS.sub(r"\\\1", text)
    return _ENTITY.sub(r"\\&", _TAG.sub(r"\\<", text))


def esc(s) -> str:
    text = " ".join(str(s).split())  # newlines would end a table row
    parts = _CODE.split(text)  # even: plain text, odd: code span contents
    return "".join(_plain(p) if i % 2 == 0 else "`" + p.replace("|", "\\|") + "`"
                   for i, p in enumerate(parts))  # fmt: skip


def table(t: Table) -> str:
    lines = ["| " + " | ".join(esc(c) for c in t.columns) + " |",
             "|" + "|".join("---:" if n else "---" for n in t.numeric) + "|"]  # fmt: skip
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
