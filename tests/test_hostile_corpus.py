"""A corpus of hostile inputs: each exits 2, names the problem, prints no traceback, and
leaves an existing run directory (made from real data) and the task cache byte for byte as
they were. The CLI runs in-process (tests/inprocess.py) with --cold-start, so no worker
launcher is started for inputs that are refused anyway."""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
from conftest import run_cli
from inprocess import main as cli

SUITE = """name: hostile
folds: 2
constraint: {{budget_s: 5, cores: 1, memory_mb: 1024}}
frameworks: [constant]
tasks:
  - name: segment
    file: {{path: {data}, target: class}}
"""


def _snapshot(root: Path) -> dict:
    """relative path -> sha256 of content (files) or 'dir' / 'link'."""
    out = {}
    if not root.exists():
        return out
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            rel = str(p.relative_to(root))
            if p.is_symlink():
                out[rel] = "link"
            elif p.is_dir():
                out[rel] = "dir"
            else:
                out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


@pytest.fixture(scope="module")
def base(tmp_path_factory, datasets_dir):
    """A finished run of the constant predictor on real data (segment), and its cache."""
    root = tmp_path_factory.mktemp("hostile")
    data = root / "segment.parquet"
    shutil.copyfile(datasets_dir / "segment.parquet", data)
    suite = root / "suite.yaml"
    suite.write_text(SUITE.format(data=data))
    cache = root / "cache"
    run = root / "run"
    proc = run_cli("run", "--suite", suite, "--out", run, "--no-report",
                   env={"AUTOML_BENCH_CACHE": str(cache)})  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    df = pd.read_parquet(data)
    secret = root / "s3cr3t-value"  # named by $HOSTILE_SECRET: never to appear in a message
    secret.mkdir()
    df.head(300).to_csv(secret / "looks.parquet", index=False)
    return {"root": root, "secret": secret, "data": data, "suite": suite, "cache": cache, "run": run, "df": df}


def _suite(b, tmp: Path, text: str | None = None, **fmt) -> Path:
    p = tmp / "suite.yaml"
    p.write_text(text if text is not None else SUITE.format(data=fmt.get("data", b["data"])))
    return p


def _edit(b, tmp, old, new):
    return _suite(b, tmp, SUITE.format(data=b["data"]).replace(old, new))


def _run(b, suite, *extra, out=None):
    return ["run", "--suite", suite, "--out", out or b["run"], "--cold-start", "--no-report",
            *extra]  # fmt: skip


def _csv(b, tmp, frame: pd.DataFrame, name="data.csv") -> Path:
    p = tmp / name
    frame.to_csv(p, index=False)
    return p


def _bomb(levels: int, width: int) -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x]"]
    for i in range(1, levels):
        refs = ", ".join([f"*a{i - 1}"] * width)
        lines.append(f"a{i}: &a{i} [{refs}]")
    return "\n".join(lines) + "\n"


# Each case: (builder(b, tmp) -> argv, what the message must contain)
CASES = {
    # --- numeric suite fields
    "suite budget .nan": (lambda b, t: _run(b, _edit(b, t, "budget_s: 5", "budget_s: .nan")),
                          "constraint.budget_s"),
    "suite budget .inf": (lambda b, t: _run(b, _edit(b, t, "budget_s: 5", "budget_s: .inf")),
                          "constraint.budget_s"),
    "suite budget 1e12": (lambda b, t: _run(b, _edit(b, t, "budget_s: 5", "budget_s: 1e12")),
                          "less than or equal"),
    "suite cores 0": (lambda b, t: _run(b, _edit(b, t, "cores: 1", "cores: 0")),
                      "constraint.cores"),
    "suite memory 1e30": (lambda b, t: _run(b, _edit(b, t, "memory_mb: 1024", "memory_mb: 1e30")),
                          "constraint.memory_mb"),
    "suite folds 1": (lambda b, t: _run(b, _edit(b, t, "folds: 2", "folds: 1")), "folds"),
    "suite folds 1000": (lambda b, t: _run(b, _edit(b, t, "folds: 2", "folds: 1000")), "folds"),
    "suite seed 2**40": (lambda b, t: _run(b, _edit(b, t, "folds: 2", f"folds: 2\nseed: {2**40}")),
                         "seed"),
    "suite seed -5": (lambda b, t: _run(b, _edit(b, t, "folds: 2", "folds: 2\nseed: -5")), "seed"),
    "task name with slash": (lambda b, t: _run(b, _edit(b, t, "name: segment", "name: a/b")),
                             "tasks[0].name"),
    "task name 150 chars": (lambda b, t: _run(b, _edit(b, t, "name: segment", "name: " + "y" * 150)),
                            "at most 100 characters"),
    "task name with markup": (lambda b, t: _run(b, _edit(b, t, "name: segment", "name: '[red]x'")),
                              "tasks[0].name"),
    "suite name with spaces": (lambda b, t: _run(b, _edit(b, t, "name: hostile", "name: 'a b'")),
                               "name"),
    "generated rows 10**12": (lambda b, t: _run(b, _suite(b, t, SUITE.format(data="x").replace(
        "file: {path: x, target: class}",
        "generated: {rows: 1000000000000, features: 5, informative: 3, classes: 3}"))), "rows"),
    "generated class_sep nan": (lambda b, t: _run(b, _suite(b, t, SUITE.format(data="x").replace(
        "file: {path: x, target: class}",
        "generated: {rows: 100, features: 5, informative: 3, classes: 3, class_sep: .nan}"))),
        "class_sep"),
    "openml server ftp": (lambda b, t: _run(b, _suite(b, t, SUITE.format(data="x").replace(
        "file: {path: x, target: class}", "openml: {task: 1882, server: 'ftp://example.org/'}"))),
        "http(s) URL"),
    "openml server javascript": (lambda b, t: _run(b, _suite(b, t, SUITE.format(data="x").replace(
        "file: {path: x, target: class}", "openml: {task: 1882, server: 'javascript:alert(1)'}"))),
        "http(s) URL"),
    "openml server typo": (lambda b, t: _run(b, _suite(b, t, SUITE.format(data="x").replace(
        "file: {path: x, target: class}", "openml: {task: 1882, server: wwww}"))), "'www', 'test'"),
    "openml task 0": (lambda b, t: _run(b, _suite(b, t, SUITE.format(data="x").replace(
        "file: {path: x, target: class}", "openml: {task: 0}"))), "openml.task"),
    # --- YAML that tries to exhaust memory or time
    "yaml alias bomb": (lambda b, t: _run(b, _suite(b, t, _bomb(7, 9) + SUITE.format(data=b["data"]))),
                        "once aliases are expanded"),
    "yaml recursive alias": (lambda b, t: _run(b, _suite(b, t, "x: &x [*x]\n" + SUITE.format(data=b["data"]))),
                             "recursive alias"),
    "yaml 200 aliases": (lambda b, t: _run(b, _suite(b, t, "a: &a 1\nl: [" + ", ".join(["*a"] * 200)
                                                      + "]\n" + SUITE.format(data=b["data"]))),
                         "more than 100 aliases"),
    "yaml 2 MB file": (lambda b, t: _run(b, _suite(b, t, SUITE.format(data=b["data"]) + "#" + "z" * 2_000_000 + "\n")),
                       "file too large"),
    "yaml top-level list": (lambda b, t: _run(b, _suite(b, t, "- 1\n- 2\n")), "expected a mapping"),
    "yaml not utf-8": (lambda b, t: _run(b, _bin_suite(t)), "not UTF-8"),
    "yaml bad value quoted briefly": (lambda b, t: _run(b, _edit(b, t, "folds: 2", "folds: '" + "9" * 5000 + "'")),
                                      "folds"),
    "duplicate tasks": (lambda b, t: _run(b, _suite(b, t, SUITE.format(data=b["data"]) + "  - name: segment\n    file: {path: "
                                                  + str(b["data"]) + ", target: class}\n")), "duplicate task names"),
    # --- data files
    "data path is a directory": (lambda b, t: _run(b, _suite(b, t, data=t)), "is a directory"),
    "data path symlink loop": (lambda b, t: _run(b, _suite(b, t, data=_loop(t))), "symbolic link loop"),
    "data path /dev/null": (lambda b, t: _run(b, _suite(b, t, data="/dev/null")), "not a regular file"),
    "data path unset variable": (lambda b, t: _run(b, _suite(b, t, data="$HOSTILE_UNSET_VAR/x.csv")),
                                 "$HOSTILE_UNSET_VAR, which is not set"),
    "data path from a secret variable": (lambda b, t: _run(b, _suite(b, t, data="$HOSTILE_SECRET/x.csv")),
                                         "does not exist"),
    "bad file behind a secret variable": (lambda b, t: _run(b, _suite(b, t, data="$HOSTILE_SECRET/looks.parquet")),
                                          "'$HOSTILE_SECRET/looks.parquet': cannot be read as parquet"),
    "csv header one name short": (lambda b, t: _run(b, _suite(b, t, data=_short_header(b, t))),
                                  "more fields than the header"),
    "csv labels beyond 64 bits": (lambda b, t: _run(b, _suite(b, t, data=_wide_labels(b, t, -(2**65)))),
                                  "beyond 64 bits"),
    "task name dot-dot": (lambda b, t: _run(b, _edit(b, t, "name: segment", "name: '..'")),
                          "tasks[0].name"),
    "csv bytes named .parquet": (lambda b, t: _run(b, _suite(b, t, data=_csv_as_parquet(b, t))),
                                 "cannot be read as parquet"),
    "truncated .parquet.gz": (lambda b, t: _run(b, _suite(b, t, data=_truncated_gz(b, t))),
                              "cannot be read as parquet"),
    "target column missing": (lambda b, t: _run(b, _edit(b, t, "target: class", "target: klass")),
                              "target column 'klass' not found"),
    "unknown framework with markup": (lambda b, t: _run(b, _edit(b, t, "[constant]", "[constant, '[/b]']")),
                                      "unknown framework '[/b]'"),
    # --- numeric command-line values
    "--budget 1e309": (lambda b, t: _run(b, b["suite"], "--budget", "1e309"), "--budget must be a finite"),
    "--budget -0.0": (lambda b, t: _run(b, b["suite"], "--budget", "-0.0"), "--budget must be >= 1"),
    "--grace-margin inf": (lambda b, t: _run(b, b["suite"], "--grace-margin", "inf"), "--grace-margin"),
    "--grace-margin -0.5": (lambda b, t: _run(b, b["suite"], "--grace-margin", "-0.5"), "--grace-margin"),
    "--kill-grace -1": (lambda b, t: _run(b, b["suite"], "--kill-grace", "-1"), "--kill-grace"),
    "--setup-grace nan": (lambda b, t: _run(b, b["suite"], "--setup-grace", "nan"), "--setup-grace"),
    "--retries -3": (lambda b, t: _run(b, b["suite"], "--retries", "-3"), "--retries must be >= 0"),
    "--retries 1000": (lambda b, t: _run(b, b["suite"], "--retries", "1000"), "--retries must be <="),
    "--seed 2**33": (lambda b, t: _run(b, b["suite"], "--seed", str(2**33)), "--seed must be <="),
    "--parallel 5000": (lambda b, t: _run(b, b["suite"], "--parallel", "5000"), "--parallel"),
    "--exclusive-wait nan": (lambda b, t: _run(b, b["suite"], "--exclusive", "--exclusive-wait", "nan"),
                             "--exclusive-wait"),
    "--openml-server file URL": (lambda b, t: _run(b, b["suite"], "--openml-server", "file:///etc/"),
                                 "--openml-server"),
    "--openml-server markup": (lambda b, t: _run(b, b["suite"], "--openml-server", "[/b]"),
                               "--openml-server"),
    # --- the run directory
    "another budget into the run": (lambda b, t: _run(b, b["suite"], "--budget", "7"), "budget_s 5 -> 7"),
    "another memory into the run": (lambda b, t: _run(b, _edit(b, t, "memory_mb: 1024", "memory_mb: 2048")),
                                    "memory_mb 1024 -> 2048"),
    "another suite into the run": (lambda b, t: _run(b, _edit(b, t, "name: hostile", "name: other")),
                                   "suite 'hostile' -> 'other'"),
    "changed data into the run": (lambda b, t: _run(b, _suite(b, t, data=_changed_copy(b, t))),
                                  "data of task(s) 'segment'"),
    "--out is a file": (lambda b, t: _run(b, b["suite"], out=_file(t)), "is an existing file"),
    "--out under a file": (lambda b, t: _run(b, b["suite"], out=_file(t) / "run"),
                           "a-file is a file, not a directory"),
    "--out unwritable": (lambda b, t: _run(b, b["suite"], out=Path("/proc/automl-bench-run")), "not writable"),
    "--out holds the user's files": (lambda b, t: _run(b, b["suite"], out=_users_dir(t)),
                                     "did not write ('results.csv', 'thesis.tex')"),
    "--out with a forged marker": (lambda b, t: _run(b, b["suite"], out=_forged(t)), "damaged run marker"),
    "show a store cut in half": (lambda b, t: ["show", _damaged(b, t, half=True)], "damaged results store"),
    "report an emptied store": (lambda b, t: ["report", _damaged(b, t, half=False)], "damaged results store"),
    "run into an emptied store": (lambda b, t: _run(b, b["suite"], out=_damaged(b, t, half=False)),
                                  "damaged results store"),
}  # fmt: skip


def _bin_suite(t: Path) -> Path:
    p = t / "suite.yaml"
    p.write_bytes(b"name: \xff\xfe\x00bad\n")
    return p


def _loop(t: Path) -> Path:
    (t / "l1.csv").symlink_to(t / "l2.csv")
    (t / "l2.csv").symlink_to(t / "l1.csv")
    return t / "l1.csv"


def _short_header(b, t) -> Path:
    df = b["df"].head(200)
    p = t / "short.csv"
    body = df.to_csv(index=False).splitlines()
    header = body[0].split(",")[1:]  # one name short
    p.write_text(",".join(header) + "\n" + "\n".join(body[1:]) + "\n")
    return p


def _wide_labels(b, t, offset: int) -> Path:
    df = b["df"].head(300).copy()
    codes = {v: i for i, v in enumerate(sorted(df["class"].unique()))}
    df["class"] = [str(offset - codes[v]) for v in df["class"]]
    return _csv(b, t, df)


def _csv_as_parquet(b, t) -> Path:
    # the same bytes were read as CSV before: the cache must not serve them under .parquet
    src = _csv(b, t, b["df"].head(300), "same.csv")
    proc = cli("run", "--suite", _suite(b, t, data=src), "--out", t / "ok-run", "--cold-start",
               "--no-report", "--folds", "1", "--frameworks", "constant")  # fmt: skip
    assert proc[0] in (0, 2)
    dst = t / "same.parquet"
    shutil.copyfile(src, dst)
    return dst


def _truncated_gz(b, t) -> Path:
    raw = t / "x.parquet"
    b["df"].to_parquet(raw)
    data = gzip.compress(raw.read_bytes())
    p = t / "x.parquet.gz"
    p.write_bytes(data[: len(data) // 2])
    return p


def _changed_copy(b, t) -> Path:
    df = b["df"].copy()
    df.iloc[0, 0] = df.iloc[0, 0] + 1
    p = t / "segment.parquet"
    df.to_parquet(p)
    return p


def _file(t: Path) -> Path:
    p = t / "a-file"
    p.write_text("mine\n")
    return p


def _users_dir(t: Path) -> Path:
    d = t / "work"
    d.mkdir()
    (d / "thesis.tex").write_text("\\documentclass{article}\n")
    (d / "results.csv").write_text("my,own\n1,2\n")
    return d


def _forged(t: Path) -> Path:
    d = t / "forged"
    d.mkdir()
    (d / ".automl-bench-run.json").write_text("[1, 2")
    return d


def _damaged(b, t, half: bool) -> Path:
    d = t / "copy"
    shutil.copytree(b["run"], d)
    db = d / "results.sqlite"
    with open(db, "r+b") as f:
        f.truncate(db.stat().st_size // 2 if half else 0)
    return d


def test_corpus_is_large_enough():
    assert len(CASES) >= 40


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_hostile_input_exits_2_and_changes_nothing(case, base, tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOML_BENCH_CACHE", str(base["cache"]))
    monkeypatch.setenv("HOSTILE_SECRET", str(base["secret"]))
    build, expected = CASES[case]
    argv = build(base, tmp_path)
    targets = [base["run"], base["cache"]] + [Path(a) for a in argv if isinstance(a, Path)
                                              and a.is_dir() and a != tmp_path]  # fmt: skip
    before = {str(p): _snapshot(p) for p in targets}
    code, out, err = cli(*argv)
    text = " ".join((out + err).split())
    assert code == 2, f"{case}: exit {code}\n{out}\n{err}"
    assert " ".join(expected.split()) in text, f"{case}: {expected!r} not in:\n{err}"
    assert "Traceback" not in text and "internal error" not in text
    assert len(err) < 3000, f"{case}: message of {len(err)} characters"
    assert "s3cr3t-value" not in text
    for p in targets:
        assert _snapshot(p) == before[str(p)], f"{case}: {p} changed"


# A framework whose adapter cannot be imported: exit 2 naming the framework, the file that
# defined it and the import's error, before anything is created
ADAPTERS = {
    "module missing": ("adapter: my_company_automl.adapter:MyAutoML", {},
                       "ModuleNotFoundError: No module named 'my_company_automl'"),
    "class missing": ("adapter: automl_bench_adapters.random_forest:NoSuchClass", {},
                      "AttributeError"),
    "module's own import fails": ("adapter: broken_dep.py:Adapter",
                                  {"broken_dep.py": "import not_installed_anywhere\n"},
                                  "No module named 'not_installed_anywhere'"),
    "module does not compile": ("adapter: broken_syntax.py:Adapter",
                                {"broken_syntax.py": "class Adapter(:\n"}, "SyntaxError"),
}


@pytest.mark.parametrize("case", list(ADAPTERS), ids=list(ADAPTERS))
def test_an_adapter_that_does_not_import_exits_2_before_anything_runs(case, base, tmp_path,
                                                                       monkeypatch):  # fmt: skip
    from automl_bench.planning import registry

    line, files, error = ADAPTERS[case]
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    defs = tmp_path / "frameworks.yaml"
    defs.write_text(f"inhouse:\n  {line}\n  description: a team's own system\n")
    monkeypatch.setenv("AUTOML_BENCH_FRAMEWORKS", str(defs))
    monkeypatch.setenv("AUTOML_BENCH_CACHE", str(base["cache"]))
    registry.variants.cache_clear()
    before = _snapshot(base["run"])
    try:
        code, out, err = cli(*_run(base, base["suite"], "--frameworks", "constant,inhouse",
                                   out=tmp_path / "new-run"))  # fmt: skip
    finally:
        monkeypatch.delenv("AUTOML_BENCH_FRAMEWORKS")
        registry.variants.cache_clear()
    text = " ".join((out + err).split())
    assert code == 2, f"{case}: exit {code}\n{out}\n{err}"
    assert f"{defs}: framework 'inhouse'" in text and error in text, text
    assert "Traceback" not in text
    assert not (tmp_path / "new-run").exists()
    assert _snapshot(base["run"]) == before
