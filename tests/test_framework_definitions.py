"""Framework definitions: validation, extends, versions, and user adapters from a file beside
the user's frameworks file or a folder it declares (no packaging), run through the real CLI."""

from __future__ import annotations

import textwrap

import pandas as pd
import pytest
from conftest import run_cli

from automl_bench.errors import BadInput
from automl_bench.planning import registry

# a user's adapter, in a file of its own: the class prior, nudged by a parameter (so a test
# can tell the definition's params reached it) and reporting a stop reason
USER_ADAPTER = '''
import numpy as np
from automl_bench_adapters.base import BaseAdapter


class Prior(BaseAdapter):
    def __init__(self, time_limit=60.0, cores=1, memory_mb=None, seed=0, scratch_dir=None,
                 smoothing=1.0, stop="converged"):
        super().__init__(time_limit, cores, memory_mb, seed, scratch_dir)
        self.smoothing = smoothing
        self.stop = stop

    def _fit(self, X, y):
        counts = np.bincount(y, minlength=len(self.classes_)) + self.smoothing
        self.prior_ = counts / counts.sum()
        self.models_count_ = 1
        self.best_model_ = f"prior (smoothing {self.smoothing})"
        self.stop_reason_ = self.stop

    def _predict_proba(self, X):
        return np.tile(self.prior_, (len(X), 1))
'''


def _user_files(tmp_path):
    """my_adapter.py beside frameworks.yaml, and lib/shelf.py in a folder the file declares."""
    (tmp_path / "my_adapter.py").write_text(USER_ADAPTER)
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "shelf.py").write_text(USER_ADAPTER.replace("class Prior", "class Shelf"))
    fw = tmp_path / "frameworks.yaml"
    fw.write_text(textwrap.dedent("""\
        mine:
          adapter: my_adapter.py:Prior
          description: a user's adapter in a file beside this one
          params: {smoothing: 2.0}
        mine_more:
          extends: mine
          params: {stop: budget}
        shelved:
          adapter: shelf:Shelf
          path: [lib]
        liar:
          extends: mine
          params: {stop: gave up}
        quick_flaml:
          extends: flaml
          description: FLAML, its own estimators only
          params: {estimator_list: [lgbm]}
        """))
    return fw


@pytest.fixture
def user_frameworks(tmp_path, monkeypatch):
    fw = _user_files(tmp_path)
    monkeypatch.setenv("AUTOML_BENCH_FRAMEWORKS", str(fw))
    registry.variants.cache_clear()
    yield fw
    registry.variants.cache_clear()


def test_user_definitions_extend_and_resolve_paths(user_frameworks, tmp_path):
    mine, more, shelved = (registry.get(n) for n in ("mine", "mine_more", "shelved"))
    assert mine.adapter == "my_adapter:Prior" and mine.paths == (str(tmp_path),)
    assert mine.adapter_class().__name__ == "Prior"
    assert more.params == {"smoothing": 2.0, "stop": "budget"}  # params merge key by key
    assert more.adapter == mine.adapter and more.paths == mine.paths
    assert shelved.paths == (str(tmp_path / "lib"),) and shelved.adapter_class().__name__ == "Shelf"
    quick = registry.get("quick_flaml")  # a user's definition extends a shipped one
    assert quick.params == {"metric": "log_loss", "estimator_list": ["lgbm"]}
    assert quick.version == "flaml>=2.1" and quick.environment() is None
    for name in ("mine", "shelved"):
        assert registry.get(name).environment() is None  # needs nothing the harness lacks


@pytest.mark.parametrize("text,message", [
    ("x: {adapter: a:B, colour: red}", "colour"),
    ("x: {adapter: 'not an adapter'}", "adapter"),
    ("x: {extends: nosuch}", "extends unknown 'nosuch'"),
    ("x: {extends: y}\ny: {extends: x}", "extends itself"),
    ("x: {description: no adapter}", "names no adapter"),
    ("x: {adapter: a:B, version: 'flaml >>> 2'}", "not a pip requirement"),
    ("x: {adapter: a:B, runs_in: cloud}", "runs_in"),
])  # fmt: skip
def test_bad_definitions_name_file_framework_and_field(tmp_path, monkeypatch, text, message):
    fw = tmp_path / "frameworks.yaml"
    fw.write_text(text)
    monkeypatch.setenv("AUTOML_BENCH_FRAMEWORKS", str(fw))
    registry.variants.cache_clear()
    try:
        with pytest.raises(BadInput, match=message) as e:
            registry.variants()
        assert "'x'" in str(e.value) or "'y'" in str(e.value)
    finally:
        registry.variants.cache_clear()


def _suite(tmp_path, frameworks):
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        "name: user-adapters\nfolds: 2\nseed: 0\nconstraint: {budget_s: 5}\n"
        f"frameworks: [{', '.join(frameworks)}]\n"
        "tasks:\n  - name: iris\n    sklearn: {dataset: iris}\n"
    )
    return suite


@pytest.mark.parametrize("start", ["warm", "cold"])
def test_user_adapters_run_in_a_suite(tmp_path, start):
    """The worker imports the user's adapter as the driver does: forked from the warm
    launcher, or a fresh interpreter (--cold-start); nothing of tmp_path is on PYTHONPATH."""
    fw = _user_files(tmp_path)
    out = tmp_path / "run"
    args = ["run", "--suite", _suite(tmp_path, ["constant", "mine", "mine_more", "shelved",
                                                "liar"]),
            "--out", out, "--folds", 1, "--no-report"]  # fmt: skip
    if start == "cold":
        args.append("--cold-start")
    proc = run_cli(*args, cwd=tmp_path, env={"AUTOML_BENCH_FRAMEWORKS": str(fw)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = pd.read_csv(out / "results.csv").set_index("framework")
    for name in ("constant", "mine", "mine_more", "shelved"):
        assert rows.loc[name, "status"] == "ok", rows.loc[name, "error_message"]
    assert rows.loc["mine", "best_model"] == "prior (smoothing 2.0)"
    assert rows.loc["mine", "stop_reason"] == "converged"
    assert rows.loc["mine_more", "stop_reason"] == "budget"
    # a stop reason outside STOP_REASONS is an error the row names
    assert rows.loc["liar", "status"] == "failed"
    assert rows.loc["liar", "error_type"] == "BadStopReason"
    assert "'gave up'" in rows.loc["liar", "error_message"]


def test_two_versions_are_labelled_in_rows_and_job_ids(tmp_path):
    """Without building anything: a pin whose environment is missing (and left to `env
    create`) is skipped with that command, but it is planned beside the installed version,
    each under a label with its version and its own job id."""
    from importlib.metadata import version

    fw = _user_files(tmp_path)
    fw.write_text(fw.read_text() + "pinned:\n  extends: mine\n  build: env_create\n")
    out = tmp_path / "run"
    proc = run_cli("run", "--suite", _suite(tmp_path, ["constant"]), "--out", out,
                   "--folds", 1, "--no-report", "--frameworks", "pinned,pinned:1.4.0",
                   env={"AUTOML_BENCH_FRAMEWORKS": str(fw),
                        "AUTOML_BENCH_ENVS": str(tmp_path / "envs")})  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = pd.read_csv(out / "results.csv").set_index("framework")
    installed = version("scikit-learn")  # the user adapter's distribution (BaseAdapter's)
    assert set(rows.index) == {f"pinned {installed}", "pinned 1.4.0"}
    assert rows.loc["pinned 1.4.0", "version"] == "1.4.0"
    assert rows.loc["pinned 1.4.0", "status"] == "skipped"
    assert "automl-bench env create pinned:1.4.0" in rows.loc["pinned 1.4.0", "error_message"]
    assert rows.loc[f"pinned {installed}", "version"] == installed
    assert rows.loc[f"pinned {installed}", "status"] == "ok"
    assert rows["job_id"].nunique() == 2
    assert not (tmp_path / "envs").exists()
