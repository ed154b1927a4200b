"""The self-contained HTML report: one file, figures embedded as base64 PNG, no script and no
network (a Content-Security-Policy forbids both). Every string is escaped by Jinja2's
autoescaping, so task names or error messages holding markup show as text."""

from __future__ import annotations

import base64

from jinja2 import Environment, PackageLoader, select_autoescape

from automl_bench.report.build import Report

_env = Environment(
    loader=PackageLoader("automl_bench.report", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def render(report: Report) -> str:
    images = {i.name: base64.b64encode(i.png).decode("ascii") for i in report.images}
    return _env.get_template("report.html.j2").render(report=report, images=images)
