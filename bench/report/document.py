"""The report as a document: figures, sections, the whole report, and the one shape every
section builder returns. The renderers (html, markdown, terminal) read these; nothing here
computes a number."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd


@dataclass
class Image:
    name: str  # file stem, e.g. "cd_diagram"
    png: bytes
    alt: str


@dataclass
class Section:
    id: str
    title: str
    blocks: list = field(
        default_factory=list
    )  # ("p", str) | ("list", [str]) | ("table", Table) | ("img", Image)

    def p(self, s: str):
        self.blocks.append(("p", s))

    def items(self, xs):
        if xs:
            self.blocks.append(("list", list(xs)))

    def table(self, t):  # t: automl_bench.report.tables.Table
        self.blocks.append(("table", t))

    def img(self, i: Image):
        self.blocks.append(("img", i))


@dataclass
class SectionResult:
    """What every section builder returns: its section (None: nothing to show), the tables
    it adds to ``tables/*.csv`` and the sentences it adds to the conclusions."""

    section: Section | None
    csvs: dict[str, pd.DataFrame] = field(default_factory=dict)
    conclusions: list[str] = field(default_factory=list)


# build(ctx: automl_bench.report.context.ReportContext) -> SectionResult
SectionBuilder = Callable[[Any], SectionResult]


@dataclass
class Report:
    title: str
    generated: str
    conclusions: list[str]
    sections: list[Section]
    csvs: dict[str, pd.DataFrame]
    leaderboard: Any  # automl_bench.report.tables.Table: what the terminal prints

    @property
    def images(self) -> list[Image]:
        return [b[1] for s in self.sections for b in s.blocks if b[0] == "img"]
