"""The self-contained HTML report: one file, figures embedded as base64 PNG, no script and no
network (a Content-Security-Policy forbids both). Every string is escaped by Jinja2's
autoescaping, so task names or error messages holding markup show as text."""

from __future__ import annotations

import base64
import re

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from automl_bench.report.document import Report

_env = Environment(
    loader=PackageLoader("automl_bench.report", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
_CODE = re.compile(r"`([^`]+)`")


def code(text) -> Markup:
    """The text escaped, with `quoted` commands and names shown as code, not as backticks."""
    parts = _CODE.split(str(text))
    return Markup("").join(escape(p) if i % 2 == 0 else Markup("<code>%s</code>") % p
                           for i, p in enumerate(parts))  # fmt: skip


_env.filters["code"] = code


def render(report: Report) -> str:
    images = {i.name: base64.b64encode(i.png).decode("ascii") for i in report.images}
    return _env.get_template("report.html.j2").render(report=report, images=images)
