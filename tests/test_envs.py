"""Per-adapter environments: readiness checks, skipped jobs with the fix, the CLI."""

from __future__ import annotations

import json
import sys

import pandas as pd
from conftest import run_cli

from automl_bench.planning import backend_envs as envs
from automl_bench_adapters.autogluon_tabular import AutoGluon
from automl_bench_adapters.evalml_automl import EvalML


def _fake_env(root, name, source, packages=()):
    """A directory laid out like a built environment (python symlink, site-packages)."""
    env = root / name
    (env / "bin").mkdir(parents=True)
    (env / "bin" / "python").symlink_to(sys.executable)
    sp = env / "lib" / "python3.11" / "site-packages"
    sp.mkdir(parents=True)
    for pkg in packages:
        (sp / pkg.replace(".", "/")).mkdir(parents=True)
    (env / envs.MANIFEST).write_text(
        json.dumps({"name": name, "source": str(source), "versions": {"evalml": "0.84.0"}})
    )
    return env


def test_absent_environment_is_missing_with_the_create_command(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOML_BENCH_ENVS", str(tmp_path))
    req = AutoGluon.requirements
    assert envs.unmet(req) == [f"environment autogluon ({tmp_path / 'autogluon'})"]
    assert req.install_hint() == "automl-bench env create autogluon"
    assert envs.python_for(req) == str(tmp_path / "autogluon" / "bin" / "python")


def test_ready_needs_manifest_this_checkout_and_the_package(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOML_BENCH_ENVS", str(tmp_path))
    src = envs._source_root()
    _fake_env(tmp_path, "evalml", src, packages=("evalml",))
    assert envs.unmet(EvalML.requirements) == []
    assert envs.version_in("evalml", "evalml") == "0.84.0"
    # the package directory gone: missing, named
    (tmp_path / "evalml" / "lib" / "python3.11" / "site-packages" / "evalml").rmdir()
    assert envs.unmet(EvalML.requirements) == ["evalml in environment evalml"]
    # built for another checkout: not silently used
    _fake_env(tmp_path / "other", "evalml", tmp_path / "elsewhere", packages=("evalml",))
    monkeypatch.setenv("AUTOML_BENCH_ENVS", str(tmp_path / "other"))
    assert "built for the checkout" in envs.unmet(EvalML.requirements)[0]


def test_missing_environment_skips_jobs_and_names_the_fix(tmp_path):
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        "name: skip-check\nfolds: 2\nseed: 0\nconstraint: {budget_s: 5}\n"
        "frameworks: [constant, autogluon, evalml]\n"
        "tasks:\n  - name: iris\n    sklearn: {dataset: iris}\n"
    )
    out = tmp_path / "run"
    proc = run_cli(
        "run", "--suite", suite, "--out", out, "--folds", 1,
        env={"AUTOML_BENCH_ENVS": str(tmp_path / "no-envs")},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    rows = pd.read_csv(out / "results.csv").set_index("framework")
    assert rows.loc["constant", "status"] == "ok"
    for name in ("autogluon", "evalml"):
        assert rows.loc[name, "status"] == "skipped"
        assert f"automl-bench env create {name}" in rows.loc[name, "error_message"]


def test_env_cli_list_and_bad_name(tmp_path):
    env = {"AUTOML_BENCH_ENVS": str(tmp_path)}
    proc = run_cli("env", "list", env=env)
    assert proc.returncode == 0, proc.stderr
    assert "autogluon" in proc.stdout and "evalml" in proc.stdout and "missing" in proc.stdout
    proc = run_cli("env", "create", "nosuch", env=env)
    assert proc.returncode == 2
    assert "unknown environment 'nosuch'" in proc.stderr
    assert list(tmp_path.iterdir()) == []  # bad input wrote nothing


def test_list_frameworks_reports_environment_backends(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOML_BENCH_ENVS", str(tmp_path))
    from automl_bench.planning import registry

    for name, env in (("autogluon", "autogluon"), ("autogluon_best", "autogluon"),
                      ("evalml", "evalml")):  # fmt: skip
        ok, reason = registry.get(name).status()
        assert not ok and reason.endswith(f"automl-bench env create {env}")
    proc = run_cli("list", "frameworks", env={"AUTOML_BENCH_ENVS": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    text = " ".join(proc.stdout.replace("│", " ").split())  # undo the table's wrapping
    for name in ("flaml", "h2o", "autogluon", "autogluon_best", "evalml"):
        assert name in text
    assert "missing environment autogluon" in text
