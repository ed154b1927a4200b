"""Suite definitions: YAML validated into tasks, folds, constraint and default frameworks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from automl_bench.errors import BadInput
from automl_bench.paths import suites_dir
from automl_bench.planning import registry
from automl_bench.planning.budgets import MAX_BUDGET_S, MIN_BUDGET_S
from automl_bench.planning.options import MAX_SEED
from automl_bench.yamlio import describe_validation_error, read_yaml, shown

NAME = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"
MAX_NAME = 100  # names become file and directory names (at most 255 bytes on most systems)


class Strict(BaseModel):
    # nan / inf are refused everywhere: a nan budget would switch the wall-time limit off
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Constraint(Strict):
    """One budget (``budget_s``) or several (``budgets``: every job is planned at each; the
    largest is then ``budget_s``, the budget the report's comparisons are at)."""

    budget_s: float | None = Field(default=None, ge=MIN_BUDGET_S, le=MAX_BUDGET_S,
                                   description="training time budget per job, seconds")  # fmt: skip
    budgets: list[Annotated[float, Field(ge=MIN_BUDGET_S, le=MAX_BUDGET_S)]] | None = Field(
        default=None, min_length=1, max_length=50,
        description="several training budgets (seconds), instead of budget_s: every job is "
        "planned at each (budget curves)",
    )  # fmt: skip
    cores: int = Field(default=1, ge=1, le=4096)
    memory_mb: int = Field(default=4096, ge=128, le=2**30)
    max_infer_1_ms: float | None = Field(
        default=None, gt=0, le=3.6e6,
        description="optional latency budget: median time to predict one row, milliseconds "
        "(the report says which frameworks fit it)",
    )  # fmt: skip

    @model_validator(mode="before")
    @classmethod
    def _one_budget_rule(cls, data):
        if isinstance(data, dict) and data.get("budgets") is not None and "budget_s" in data:
            raise ValueError("give either budget_s (one budget) or budgets (several), not both")
        return data

    @model_validator(mode="after")
    def _budget_axis(self):
        if self.budgets is None:
            if self.budget_s is None:
                raise ValueError("give budget_s (one budget, seconds) or budgets (a list of "
                                 "budgets)")  # fmt: skip
            return self
        from automl_bench.planning.budgets import check

        self.budgets = check(self.budgets, "budgets")  # sorted; no budget twice
        self.budget_s = self.budgets[-1]
        return self

    @property
    def name(self) -> str:
        many = self.budgets and len(self.budgets) > 1
        budget = "/".join(f"{b:g}" for b in self.budgets) if many else f"{self.budget_s:g}"
        return f"{budget}s{self.cores}c{self.memory_mb}M"


class SklearnSource(Strict):
    dataset: Literal["digits", "iris", "wine", "breast_cancer"]


class GeneratedSource(Strict):
    """A high-dimensional multi-class problem from sklearn.datasets.make_classification."""

    rows: int = Field(ge=20, le=10_000_000)
    features: int = Field(ge=1, le=100_000)
    informative: int = Field(ge=1, le=100_000)
    classes: int = Field(ge=2, le=10_000)
    seed: int = Field(default=0, ge=0, le=MAX_SEED)
    class_sep: float = Field(default=1.0, gt=0, le=1e6)

    @model_validator(mode="after")
    def _bounded(self):
        if self.rows * self.features > 500_000_000:
            raise ValueError(f"rows x features = {self.rows * self.features} values is more than "
                             "500 million (too large to generate)")  # fmt: skip
        return self

    @model_validator(mode="after")
    def _consistent(self):
        if self.informative > self.features:
            raise ValueError(f"informative ({self.informative}) exceeds features ({self.features})")
        if self.classes > 2**self.informative:
            raise ValueError(f"classes ({self.classes}) needs informative >= log2(classes)")
        return self


class FileSource(Strict):
    """A Parquet, CSV or ARFF file (optionally .gz). Relative paths: see automl_bench.data.sources.files."""

    path: str
    target: str
    ignore: list[str] = Field(default_factory=list, description="columns to drop (ids ...)")
    test_path: str | None = Field(default=None, description="separate test file: one fold")
    fold_column: str | None = Field(default=None, description="integer column: row's test fold")

    @model_validator(mode="after")
    def _one_split_rule(self):
        if self.test_path and self.fold_column:
            raise ValueError("give either test_path or fold_column, not both")
        if self.target in self.ignore or (self.fold_column and self.fold_column == self.target):
            raise ValueError(f"target column {self.target!r} is also ignored or the fold column")
        return self


class OpenMLSource(Strict):
    """An OpenML task, with its own train/test splits (repeat 0, all folds)."""

    task: int = Field(ge=1, description="OpenML task id (openml.org/t/ID)")
    server: str | None = Field(
        default=None,
        description="'www', 'test' or an http(s) API URL; default --openml-server, else "
        "openml's config",
    )

    @model_validator(mode="after")
    def _server(self):
        if self.server is not None:
            check_server(self.server)
        return self


def check_server(server: str) -> str:
    """ValueError unless ``server`` is 'www', 'test' or an http(s) URL with a host."""
    from urllib.parse import urlsplit

    text = str(server).strip()
    if text in ("www", "test"):
        return text
    try:
        u = urlsplit(text)
        ok = u.scheme in ("http", "https") and bool(u.hostname) and not any(
            c.isspace() for c in text)  # fmt: skip
    except ValueError:
        ok = False
    if not ok:
        raise ValueError("OpenML server must be 'www', 'test' or an http(s) URL such as "
                         "https://www.openml.org/api/v1/xml")  # fmt: skip
    return text


class TaskSpec(Strict):
    name: str = Field(pattern=NAME, max_length=MAX_NAME)
    sklearn: SklearnSource | None = None
    generated: GeneratedSource | None = None
    file: FileSource | None = None
    openml: OpenMLSource | None = None

    @model_validator(mode="after")
    def _one_source(self):
        given = [k for k in self.source_kinds() if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                f"task {self.name!r} needs exactly one source of {', '.join(self.source_kinds())}"
                f" (got {', '.join(given) or 'none'})"
            )
        return self

    @classmethod
    def source_kinds(cls) -> list[str]:
        return [k for k in cls.model_fields if k != "name"]

    @property
    def source(self) -> tuple[str, BaseModel]:
        kind = next(k for k in self.source_kinds() if getattr(self, k) is not None)
        return kind, getattr(self, kind)


class Suite(Strict):
    name: str = Field(pattern=NAME, max_length=MAX_NAME)
    description: str = Field(default="", max_length=10_000)
    folds: int = Field(default=5, ge=2, le=100)
    seed: int = Field(default=0, ge=0, le=MAX_SEED)
    constraint: Constraint
    frameworks: list[str] = Field(min_length=1, max_length=1000)
    tasks: list[TaskSpec] = Field(default_factory=list, max_length=10_000)
    openml_suite: int | None = Field(
        default=None, ge=1, description="also run every task of this OpenML suite (openml/s/ID)"
    )

    @model_validator(mode="after")
    def _unique_tasks(self):
        if not self.tasks and self.openml_suite is None:
            raise ValueError("a suite needs tasks, an openml_suite, or both")
        names = [t.name for t in self.tasks]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate task names: {', '.join(dupes)}")
        return self


def resolve_suite_path(name_or_path: str) -> Path:
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml") or p.exists():
        from automl_bench.data.readable import path_problem  # no data library needed for this

        problem = path_problem(p)
        if problem:
            raise BadInput(f"suite file {p}: {problem}")
        return p.resolve()
    candidate = suites_dir() / f"{name_or_path}.yaml"
    if not candidate.exists():
        known = ", ".join(sorted(x.stem for x in suites_dir().glob("*.yaml")))
        raise BadInput(f"unknown suite {name_or_path!r}; known: {known}")
    return candidate.resolve()


_parsed: dict = {}  # (path, size, mtime, inode) -> (Suite, path): a suite is parsed once


def load_suite(name_or_path: str) -> tuple[Suite, Path]:
    path = resolve_suite_path(name_or_path)
    try:
        st = path.stat()
        key = (str(path), st.st_size, st.st_mtime_ns, st.st_ino)
    except OSError:
        key = None
    if key is not None and key in _parsed:
        return _parsed[key]
    suite, path = _load_suite(path)
    if key is not None:
        _parsed.clear()
        _parsed[key] = (suite, path)
    return suite, path


def _load_suite(path: Path) -> tuple[Suite, Path]:
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise BadInput(f"{path}: expected a mapping with name, constraint, frameworks, tasks")
    try:
        suite = Suite.model_validate(data)
    except ValidationError as e:
        raise BadInput(describe_validation_error(path, e)) from None
    check_unique_frameworks(suite.frameworks, f"{path}: frameworks")
    for fw in suite.frameworks:
        if not registry.known(fw):  # a definition, or NAME:VERSION of one
            raise BadInput(
                f"{path}: frameworks: unknown framework {shown(fw)}; "
                f"known: {', '.join(sorted(registry.variants()))}"
            )
    return suite, path


def check_unique_frameworks(names, where: str = "--frameworks") -> None:
    """BadInput naming a framework given twice: every job would run twice, and the second
    row would silently replace the first."""
    seen = set()
    for name in names:
        if name in seen:
            raise BadInput(f"{where}: framework {shown(name)} is named twice; name each once")
        seen.add(name)


def list_suites() -> list[tuple[str, Path]]:
    return [(p.stem, p) for p in sorted(suites_dir().glob("*.yaml"))]
