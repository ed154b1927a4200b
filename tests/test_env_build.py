"""A pinned version's environment, built for real by the run that needs it: a user's
adapter for a small pure-Python backend (tabulate), at the harness's version and at a pinned
one, side by side in one run; the second run reuses the environment; a pin pip cannot
resolve exits 2 naming it.

Building installs the worker's packages (pandas, scikit-learn, ...) into a fresh environment:
about a minute with a warm pip cache, more on a busy machine (`make test` builds the
backends' environments too). The keying and reuse logic is also tested without a build in
test_envs.py.
"""

from __future__ import annotations

import textwrap
from importlib.metadata import version

import pandas as pd
from conftest import run_cli

ADAPTER = '''
import numpy as np
from automl_bench_adapters.base import BaseAdapter, Requirements


class Tabulated(BaseAdapter):
    """The class prior; says which tabulate its process imported."""
    requirements = Requirements(packages=("tabulate",))
    distribution = "tabulate"

    def _fit(self, X, y):
        import tabulate

        self.prior_ = np.bincount(y, minlength=len(self.classes_)) / len(y)
        self.models_count_, self.stop_reason_ = 1, "converged"
        self.best_model_ = f"tabulate {tabulate.__version__}"

    def _predict_proba(self, X):
        return np.tile(self.prior_, (len(X), 1))
'''
PIN = "0.9.0"


def test_a_pinned_version_builds_its_environment_once_and_runs_beside_the_other(tmp_path):
    installed = version("tabulate")
    assert installed != PIN
    (tmp_path / "tiny_adapter.py").write_text(ADAPTER)
    (tmp_path / "frameworks.yaml").write_text("tiny:\n  adapter: tiny_adapter.py:Tabulated\n")
    (tmp_path / "suite.yaml").write_text(textwrap.dedent("""\
        name: pinned
        folds: 2
        seed: 0
        constraint: {budget_s: 5}
        frameworks: [constant]
        tasks:
          - name: iris
            sklearn: {dataset: iris}
        """))
    env = {"AUTOML_BENCH_FRAMEWORKS": str(tmp_path / "frameworks.yaml"),
           "AUTOML_BENCH_ENVS": str(tmp_path / "envs")}  # fmt: skip

    def run(out, frameworks):
        return run_cli("run", "--suite", tmp_path / "suite.yaml", "--out", tmp_path / out,
                       "--folds", 1, "--no-report", "--frameworks", frameworks, env=env,
                       cwd=tmp_path, timeout=1200)  # fmt: skip

    proc = run("first", f"tiny,tiny:{PIN}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "building environment tiny-" in proc.stderr and "[5/5]" in proc.stderr
    rows = pd.read_csv(tmp_path / "first" / "results.csv").set_index("framework")
    assert set(rows.index) == {f"tiny {installed}", f"tiny {PIN}"}
    for ver in (installed, PIN):  # each job imported its own version: the worker ran there
        row = rows.loc[f"tiny {ver}"]
        assert row["status"] == "ok", row["error_message"]
        assert row["version"] == ver and row["best_model"] == f"tabulate {ver}"
    assert rows["job_id"].nunique() == 2

    proc = run("second", f"tiny:{PIN}")  # reused, not rebuilt
    assert proc.returncode == 0 and "building environment" not in proc.stderr, proc.stderr
    assert pd.read_csv(tmp_path / "second" / "results.csv")["status"].tolist() == ["ok"]

    proc = run("bad", "tiny:99.99.99")  # no such release: bad input, named
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert "pip could not resolve 'tabulate==99.99.99'" in proc.stderr
    assert not (tmp_path / "bad").exists()
    # the half-built environment is gone (only its log is kept); the ready ones stay
    envs = {p.name for p in (tmp_path / "envs").iterdir() if not p.name.startswith(".")}
    assert len([n for n in envs if not n.endswith(".log")]) == 1, envs
    assert len([n for n in envs if n.endswith(".log")]) == 2, envs
