"""Environments of their own: readiness checks, keying by requirements, skipped jobs with the
fix, the CLI."""

from __future__ import annotations

import json
import sys

import pandas as pd
from conftest import run_cli

from automl_bench.planning import backend_envs as envs
from automl_bench.planning import registry


def _fake_env(root, name, source, packages=(), versions=None, built_for=()):
    """A directory laid out like a built environment (python symlink, site-packages)."""
    env = root / name
    (env / "bin").mkdir(parents=True)
    (env / "bin" / "python").symlink_to(sys.executable)
    sp = env / "lib" / "python3.11" / "site-packages"
    sp.mkdir(parents=True)
    for pkg in packages:
        (sp / pkg.replace(".", "/")).mkdir(parents=True)
    (env / envs.MANIFEST).write_text(json.dumps({
        "name": name, "source": str(source), "versions": versions or {"evalml": "0.84.0"},
        "built_for": list(built_for)}))  # fmt: skip
    return env


def test_definitions_with_their_own_environment_are_yaml(monkeypatch, tmp_path):
    """AutoGluon, EvalML and CatBoost declare their environments in frameworks.yaml;
    autogluon_best extends autogluon and shares its environment; the other baselines run in
    the harness."""
    monkeypatch.setenv("AUTOML_BENCH_TORCH", "torch==2.13.0")
    ag, best, ev = (registry.get(n) for n in ("autogluon", "autogluon_best", "evalml"))
    assert ag.environment() == best.environment()  # same requirements: one environment
    assert best.params == {"presets": "best_quality"} and best.adapter == ag.adapter
    spec = ag.environment()
    assert spec.name.startswith("autogluon-") and spec.pre == ("torch==2.13.0",)
    assert spec.requirements == ("autogluon.tabular[lightgbm,catboost,xgboost]>=1.2",)
    assert ev.environment().requirements == ("evalml>=0.84", "numpy<2", "pyarrow>=14,<20")
    assert ev.environment().name != spec.name
    cb = registry.get("catboost").environment()
    assert cb.requirements == ("catboost>=1.2",) and cb.imports == ("catboost",)
    for name in ("constant", "rf", "tuned_rf", "xgboost", "lightgbm", "flaml"):
        assert registry.get(name).environment() is None, name
    # the torch requirement is the user's to change: another torch, another environment
    monkeypatch.setenv("AUTOML_BENCH_TORCH", "")
    assert ag.environment().pre == () and ag.environment().name != spec.name
    assert set(registry.environments()) == {ag.environment().name, ev.environment().name,
                                            cb.name}  # fmt: skip


def test_absent_environment_is_missing_with_the_create_command(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOML_BENCH_ENVS", str(tmp_path))
    v = registry.get("autogluon")
    name = v.environment().name
    ok, reason = v.status()
    assert not ok and f"environment {name} ({tmp_path / name})" in reason
    assert reason.endswith("automl-bench env create autogluon")
    assert v.python() == str(tmp_path / name / "bin" / "python")


def test_ready_needs_manifest_this_checkout_and_the_package(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOML_BENCH_ENVS", str(tmp_path))
    v = registry.get("evalml")
    name = v.environment().name
    _fake_env(tmp_path, name, envs._source_root(), packages=("evalml",))
    assert v.status() == (True, f"installed (environment {name})")
    assert v.backend_version() == "0.84.0"
    # the package directory gone: missing, named
    (tmp_path / name / "lib" / "python3.11" / "site-packages" / "evalml").rmdir()
    assert f"evalml in environment {name}" in v.status()[1]
    # built for another checkout: not silently used
    _fake_env(tmp_path / "other", name, tmp_path / "elsewhere", packages=("evalml",))
    monkeypatch.setenv("AUTOML_BENCH_ENVS", str(tmp_path / "other"))
    assert "built for the checkout" in v.status()[1]


def test_pinned_version_gets_an_environment_keyed_by_its_requirements(tmp_path, monkeypatch):
    """flaml:2.3.6 needs an environment of its own (the harness has another FLAML); the same
    pin written as `flaml 2.3.6` is the same environment; the installed version needs none."""
    from importlib.metadata import version

    monkeypatch.setenv("AUTOML_BENCH_ENVS", str(tmp_path))
    installed = version("flaml")
    old = registry.get("flaml:2.3.6")
    assert old.version_requirement() == "flaml==2.3.6" and old.params == {"metric": "log_loss"}
    spec = old.environment()
    assert spec.name.startswith("flaml-") and spec.requirements[0] == "flaml==2.3.6"
    assert registry.get("flaml 2.3.6").environment() == spec
    assert registry.get("flaml:2.4.0").environment().name != spec.name
    assert registry.get(f"flaml:{installed}").environment() is None
    # not built yet: the pin is its version; jobs are skipped with the command that builds it
    assert old.backend_version() == "2.3.6"
    ok, reason = old.status()
    assert not ok and reason.endswith("automl-bench env create flaml:2.3.6")
    # once built, it is reused: ready, and its version is what the environment recorded
    _fake_env(tmp_path, spec.name, envs._source_root(), packages=("flaml", "lightgbm", "xgboost"),
              versions={"flaml": "2.3.6"})  # fmt: skip
    assert old.status()[0] and old.python() == str(tmp_path / spec.name / "bin" / "python")
    # two versions of one backend in one run are named with their versions
    labels = [v.name for v in registry.labelled([registry.get("flaml"), old,
                                                 registry.get("constant")])]  # fmt: skip
    assert labels == [f"flaml {installed}", "flaml 2.3.6", "constant"]
    assert registry.get(labels[1]).environment() == spec  # a label names the same thing


def test_bad_pins_are_refused(tmp_path, monkeypatch):
    import pytest

    from automl_bench.errors import BadInput

    with pytest.raises(BadInput, match="not a version"):
        registry.get("flaml:latest!")
    with pytest.raises(BadInput, match="unknown framework 'nosuch:1.0'"):
        registry.get("nosuch:1.0")


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
    for name in ("autogluon", "evalml"):  # heavy builds: left to `env create`
        assert rows.loc[name, "status"] == "skipped"
        assert f"automl-bench env create {name}" in rows.loc[name, "error_message"]
    assert not (tmp_path / "no-envs").exists()


def test_env_cli_list_remove_and_bad_name(tmp_path):
    env = {"AUTOML_BENCH_ENVS": str(tmp_path)}
    proc = run_cli("env", "list", env=env)
    assert proc.returncode == 0, proc.stderr
    assert "autogluon" in proc.stdout and "evalml" in proc.stdout and "missing" in proc.stdout
    # what a script (.ci/run) iterates over: one framework per environment
    proc = run_cli("env", "list", "--names", env=env)
    names = ["autogluon", "catboost", "evalml"]
    assert proc.returncode == 0 and proc.stdout.split() == names, proc
    proc = run_cli("env", "create", "nosuch", env=env)
    assert proc.returncode == 2
    assert "unknown framework 'nosuch'" in proc.stderr
    proc = run_cli("env", "create", "constant", env=env)
    assert proc.returncode == 2 and "needs no environment of its own" in proc.stderr
    assert list(tmp_path.iterdir()) == []  # bad input wrote nothing
    # an environment built for a pin (no definition of its own) is listed, then removed
    spec = registry.get("flaml:2.3.6").environment()
    _fake_env(tmp_path, spec.name, envs._source_root(), packages=("flaml", "lightgbm", "xgboost"),
              versions={"flaml": "2.3.6"}, built_for=("flaml:2.3.6",))  # fmt: skip
    proc = run_cli("env", "list", env={**env, "COLUMNS": "300"})
    assert spec.name in proc.stdout and "flaml:2.3.6" in proc.stdout, proc.stdout
    proc = run_cli("env", "remove", "flaml:2.3.6", env=env)
    assert proc.returncode == 0 and not (tmp_path / spec.name).exists(), proc.stderr
    proc = run_cli("env", "remove", "flaml:2.3.6", env=env)
    assert proc.returncode == 2 and "no environment" in proc.stderr


def test_list_frameworks_reports_environment_backends(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOML_BENCH_ENVS", str(tmp_path))
    for name in ("autogluon", "autogluon_best", "evalml"):
        ok, reason = registry.get(name).status()
        assert not ok and reason.endswith(f"automl-bench env create {name}")
    proc = run_cli("list", "frameworks", env={"AUTOML_BENCH_ENVS": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    text = " ".join(proc.stdout.replace("│", " ").split())  # undo the table's wrapping
    for name in ("flaml", "h2o", "autogluon", "autogluon_best", "evalml"):
        assert name in text
    assert "missing environment autogluon-" in text
