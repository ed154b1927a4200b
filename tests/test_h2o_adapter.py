"""H2O AutoML behind the adapter interface. One adapter for the whole module (H2O's client
talks to one JVM at a time): a first fit starts its JVM, a refit keeps it, a failing fit shuts
it down and leaves no java process of ours. Each test asks a fixture for the state it needs
(no JVM yet, a model fitted on anneal, a running JVM), so any test runs alone or in any order."""

from __future__ import annotations

import os
import time

import numpy as np
import pandas as pd
import psutil
import pytest
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split

pytest.importorskip("h2o", reason="H2O is not installed: pip install -e '.[h2o]'")
if not any(os.access(os.path.join(p, "java"), os.X_OK) for p in os.environ["PATH"].split(":")):
    pytest.skip("java is not installed (H2O needs Java 17, e.g. apt-get install "
                "openjdk-17-jre-headless)", allow_module_level=True)  # fmt: skip

from types import SimpleNamespace  # noqa: E402

from automl_bench_adapters.h2o_automl import H2OAutoML  # noqa: E402
from automl_bench_adapters.h2o_models import as_pandas  # noqa: E402


def _split(X, y):
    return train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)


def _our_javas() -> list[psutil.Process]:
    """java processes descended from this test process (H2O setsids them, so match on
    the parent chain recorded while alive, and on our scratch dirs in the command line)."""
    me = psutil.Process()
    found = []
    for p in psutil.process_iter(["name", "cmdline", "ppid"]):
        if p.info["name"] != "java":
            continue
        if p.ppid() == me.pid or any(me.pid == a.pid for a in p.parents()):
            found.append(p)
    return found


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    m = H2OAutoML(
        time_limit=30, cores=1, memory_mb=2560, seed=0,
        scratch_dir=str(tmp_path_factory.mktemp("h2o")),
    )  # fmt: skip
    yield m
    m.shutdown()


def _running(model) -> bool:
    server = getattr(model, "_server", None)
    return server is not None and server.is_running()


@pytest.fixture
def fresh(model):
    """The module's adapter with no JVM of ours running."""
    model.shutdown()
    model.test_fit_ = None
    return model.set_params(time_limit=30, include_algos=None)


@pytest.fixture
def running(model, load_dataset):
    """The module's adapter with its JVM running (any fitted state of it may be dropped)."""
    if not _running(model):
        X, y = load_dataset("anneal")
        model.prepare(X.iloc[:100], y.iloc[:100])
    model.test_fit_ = None
    yield model
    model.set_params(include_algos=None, time_limit=30)


@pytest.fixture
def anneal_fit(model, load_dataset):
    """The module's adapter refitted on anneal with numeric labels, on a JVM started before the
    refit (fitted once; again only when another test changed the adapter's state). Random
    forests only (H2O's DRF and XRT): on its one core (JIT compilers included) H2O's boosted
    models can still be cut short at 30 s (a GBM at 76 of 120 trees, every main model cut, the
    kept model a fold model, which has no leaderboard trajectory); both forests finish in
    about a second each, so finished main models are always there to test."""
    if getattr(model, "test_fit_", None) is not None and _running(model):
        return model.test_fit_
    X, y = load_dataset("anneal")  # categoricals and 22175 missing values
    codes = {c: 10 * i + 3 for i, c in enumerate(sorted(y.unique()))}
    y = y.map(codes).astype(int)
    Xtr, Xte, ytr, yte = _split(X, y)
    if not _running(model):
        model.prepare(Xtr.iloc[:100], ytr.iloc[:100])  # starts the JVM the refit must keep
    pid = model.jvm_pid_
    t0 = time.monotonic()
    model.set_params(time_limit=30, include_algos=["DRF"]).fit(Xtr, ytr)
    model.test_fit_ = SimpleNamespace(pid=pid, codes=codes, Xte=Xte, yte=yte,
                                      fit_s=time.monotonic() - t0)  # fmt: skip
    return model.test_fit_


def test_semeion_string_labels(fresh, load_dataset, capfd, monkeypatch):
    import automl_bench_adapters.h2o_automl as h2o_adapter

    model = fresh
    X, y = load_dataset("semeion")
    Xtr, Xte, ytr, yte = _split(X, y)
    probes, real_probe = [], h2o_adapter.cpu_share  # (share read, our javas running then)

    def probe():
        probes.append((real_probe(), _our_javas()))
        return probes[-1][0]

    monkeypatch.setattr(h2o_adapter, "cpu_share", probe)
    model.prepare(Xtr, ytr)  # the setup step: JVM start and upload, before the budget's clock
    # the core's share is read before the JVM starts: its start-up work would read as load
    assert len(probes) == 1 and probes[0][1] == [], probes
    assert model.timings_["cpu_share"] == probes[0][0]
    # what a job's worker log would hold (its stdout and stderr): no notice that the JVM's
    # build is old, which h2o's client prints on connecting once a build is 100 days old
    said = capfd.readouterr()
    assert "cluster version is" not in said.out + said.err, said
    assert model.timings_["jvm_start_s"] > 0 and model.timings_["transfer_s"] > 0
    model.fit(Xtr, ytr)
    jvm = psutil.Process(model.jvm_pid_)
    assert jvm.name() == "java"
    cmd = " ".join(jvm.cmdline())
    # heap = memory limit - 1024 MB headroom; one thread; ice_root and logs in scratch
    assert "-Xmx1536M" in cmd and "-nthreads 1" in cmd
    assert f"-ice_root {model.scratch_dir}" in cmd
    assert jvm.pid in [p.pid for p in _our_javas()]
    proba = model.predict_proba(Xte)
    assert list(model.classes_) == sorted(y.unique())
    assert proba.shape == (len(Xte), 10)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)
    assert (model.predict(Xte) == model.classes_[proba.argmax(axis=1)]).all()
    # labels line up with the probability columns: far above guessing (0.10); how far depends
    # on how much search the machine allowed, so the 0.85 floor is a benchmark check
    # (tests/benchmarks/budget_adherence.py), not asserted here
    assert accuracy_score(yte, model.predict(Xte)) >= 0.5, (model.timings_, model.leaderboard_)
    board = model.leaderboard_
    assert {"model_id", "logloss", "training_time_ms", "complete"} <= set(board.columns)
    assert model.models_count_ == board["complete"].sum() >= 1  # models H2O finished
    assert board["logloss"].is_monotonic_increasing  # sorted by log loss
    # the budget is the search's: H2O got all of it less the measured finishing cost
    reserve = model.finish_seconds(len(Xtr), Xtr.shape[1], 10)
    assert model.search_budget_s_ == max(1, int(model.time_limit - reserve - 0.5)) or (
        model.time_limit - reserve - 2 <= model.search_budget_s_ <= model.time_limit - reserve
    )
    # the best model H2O finished (every better-ranked one was cut short), or a finished fold
    # model of one of those cut, whose held-out log loss beat the finished model's
    passed = model.timings_["passed_over"]
    assert not board.loc[: passed - 1, "complete"].any()
    if model.timings_.get("kept_fold_model"):
        main = model.best_model_.rsplit("_cv_", 1)[0]
        assert main in set(board["model_id"]) and "_cv_" in model.best_model_
    else:
        assert board.loc[passed, "complete"] and board.loc[passed, "model_id"] == model.best_model_
    assert model.stop_reason_ in ("budget", "converged", "deadline")


def test_anneal_numeric_labels_on_the_same_jvm(model, anneal_fit):
    codes, Xte = anneal_fit.codes, anneal_fit.Xte
    assert model.jvm_pid_ == anneal_fit.pid and model.timings_["jvm_start_s"] == 0.0  # reused
    assert list(model.classes_) == sorted(codes.values())
    proba = model.predict_proba(Xte)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)
    pred = model.predict(Xte)
    assert pred.dtype.kind == "i"
    # numeric labels: H2O's own predicted level for each row ("c<index of the class>") is
    # the class the adapter predicts, whatever the model's quality (a busy machine's search
    # may leave it no better than the majority class)
    own = as_pandas(model.model_.predict(model._to_h2o(Xte[model._columns])))["predict"]
    expected = np.asarray(model.classes_)[[int(str(v)[1:]) for v in own]]
    np.testing.assert_array_equal(pred, expected)
    assert set(pred) <= set(codes.values())


def test_trajectory_from_the_event_log(model, anneal_fit, tmp_path):
    """The model fitted on anneal: every finished leaderboard model once, at the moment
    H2O's event log says it joined the leaderboard, with its leaderboard log loss; the
    worker's writer stores it as trajectory.parquet."""
    from automl_bench.execution import trajectory_file as trajectory
    from automl_bench_adapters.trajectory import COLUMNS

    written = trajectory.write(tmp_path, model)
    tr = pd.read_parquet(tmp_path / "trajectory.parquet")
    assert written == {"trajectory_points": len(tr)} and list(tr.columns) == list(COLUMNS)
    board = model.leaderboard_[model.leaderboard_["complete"]]  # a model cut short: left out
    assert sorted(tr["evaluated"]) == sorted(board["model_id"])
    losses = dict(zip(board["model_id"], board["logloss"], strict=True))
    assert np.allclose(tr["loss"], tr["evaluated"].map(losses))
    t, best = tr["elapsed_s"].to_numpy(), tr["best_loss"].to_numpy()
    assert (np.diff(t) >= 0).all() and t[0] > 0  # after fit started: the first model takes time
    assert t[-1] <= anneal_fit.fit_s  # inside the fit, hence the job's wall time
    assert (np.diff(best) <= 1e-12).all()
    assert best[-1] == pytest.approx(board["logloss"].min())
    # the final incumbent is the model kept, or one tied with it in log loss (two stacked
    # ensembles built on the same base models score the same; H2O lists either first)
    final = tr["model"].iloc[-1]
    assert final == model.best_model_ or losses[final] == pytest.approx(losses[model.best_model_])
    assert (tr["loss_name"] == "log_loss").all() and tr["validation"].str.startswith("H2O").all()


def test_deployability_in_h2o_own_format(model, anneal_fit, load_dataset, tmp_path):
    """The model fitted on anneal: latency through the adapter, size from H2O's own
    format (a MOJO, or H2O's binary model where this H2O build exports no MOJO), and the saved
    file loads back into H2O and predicts what the leader predicts."""
    import h2o

    from automl_bench.execution.inference import measure

    X, _ = load_dataset("anneal")
    out = measure(model, X.iloc[:300], tmp_path / "m", allowance_s=30)
    assert out["infer_1k_ms"] > 0 and out["infer_1_ms"] > 0, out  # per call: CSV to the JVM
    assert out["model_format"] in ("mojo", "h2o-binary") and out["model_size_mb"] > 0, out
    if out["model_format"] == "h2o-binary":
        assert "no MOJO" in out["infer_note"]  # the reason is recorded
    saved = tmp_path / "saved"
    saved.mkdir()
    fmt = model.save_model(str(saved))
    (path,) = list(saved.iterdir())
    loaded = h2o.import_mojo(str(path)) if fmt == "mojo" else h2o.load_model(str(path))
    frame = model._to_h2o(X.iloc[:50][model._columns])
    ours = model.model_.predict(frame).as_data_frame()["predict"]
    theirs = loaded.predict(frame).as_data_frame()["predict"]
    assert (ours == theirs).all()


def test_a_model_cut_short_is_never_kept(running, load_dataset):
    """A main model cut short after its cross-validation (here: a few tiny trees) ranks by its
    folds' metrics on H2O's leaderboard but predicts little better than chance: the adapter
    passes over it and keeps the best finished model (the cause of a run on a busy machine
    that scored below the majority class)."""
    import h2o
    import pandas as pd
    from h2o.estimators import H2OGradientBoostingEstimator

    model = running
    X, y = load_dataset("anneal")
    model.prepare(X, y.astype("category").cat.codes.to_numpy())
    frame, label = model._train_frame, model._label_col
    params = dict(nfolds=3, seed=0, distribution="multinomial")
    done = H2OGradientBoostingEstimator(ntrees=30, **params)
    done.train(x=model._columns, y=label, training_frame=frame)
    # stopped by its time limit far short of its planned trees (H2O's record says so)
    cut = H2OGradientBoostingEstimator(ntrees=100000, learn_rate=0.001, max_runtime_secs=1,
                                       seed=0, distribution="multinomial")  # fmt: skip
    cut.train(x=model._columns, y=label, training_frame=frame)
    cv = float(done.logloss(xval=True))
    # ranked first by the CV metrics of a finished model, as H2O ranks a main model cut short
    board = pd.DataFrame({"model_id": [cut.model_id, done.model_id], "logloss": [cv, cv]})
    kept = model._complete_leader(board)
    assert kept.model_id == done.model_id
    assert board["complete"].tolist() == [False, True]
    assert model.timings_["passed_over"] == 1
    h2o.remove([cut.model_id, done.model_id])


@pytest.fixture
def many_classes(running):
    """A 20-class task in the module's running JVM (its frame, feature names, label column)."""
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=600, n_features=12, n_informative=10, n_redundant=0,
                               n_classes=20, n_clusters_per_class=1, class_sep=2.0,
                               random_state=0)  # fmt: skip
    running.prepare(pd.DataFrame(X, columns=[f"f{i}" for i in range(12)]), y)
    return running._train_frame, running._columns, running._label_col


def _estimator(algo: str, **params):
    from h2o import estimators as est

    cls = {"gbm": est.H2OGradientBoostingEstimator, "drf": est.H2ORandomForestEstimator,
           "xgboost": est.H2OXGBoostEstimator, "deeplearning": est.H2ODeepLearningEstimator,
           "glm": est.H2OGeneralizedLinearEstimator}[algo]  # fmt: skip
    if algo == "xgboost" and not cls.available():
        pytest.skip("this H2O build has no XGBoost")
    return cls(seed=0, **params)


# per algorithm: a model that runs to its end, and one H2O's own time limit must cut short
# (far more trees or epochs than a second allows; a GLM's lambda path cut at its start, the
# intercepts only; no cross-validation, no early stopping)
FINISHED = {"gbm": {"ntrees": 10, "max_depth": 3}, "drf": {"ntrees": 10, "max_depth": 5},
            "xgboost": {"ntrees": 10, "max_depth": 3},
            "deeplearning": {"epochs": 2, "hidden": [16]},
            "glm": {"family": "multinomial"}}  # fmt: skip
CUT = {"gbm": {"ntrees": 100000, "max_depth": 3}, "drf": {"ntrees": 100000},
       "xgboost": {"ntrees": 100000, "max_depth": 3},
       "deeplearning": {"epochs": 1e6, "hidden": [64, 64], "stopping_rounds": 0},
       "glm": {"family": "multinomial", "lambda_search": True}}  # fmt: skip


@pytest.mark.parametrize("algo", ["glm", "gbm", "xgboost", "drf", "deeplearning"])
def test_cut_short_check_on_each_algorithm(running, many_classes, algo):
    """H2O's own record decides (trees or epochs built against planned; a GLM's deviances):
    a finished model passes, with or without cross-validation, and a model cut short is named
    as such, ranked by the CV log loss of the finished one (as H2O ranks a main model cut
    after its cross-validation). A finished many-class GLM is never rejected."""
    from automl_bench_adapters.h2o_models import as_built_by_cv, cut_reason

    frame, x, y = many_classes
    done = _estimator(algo, nfolds=3, fold_assignment="Modulo", **FINISHED[algo])
    done.train(x=x, y=y, training_frame=frame)
    cv = float(done.logloss(xval=True))
    assert cut_reason(done, cv) is None and as_built_by_cv(done, cv)
    cut = _estimator(algo, max_runtime_secs=1 if algo != "glm" else 0.01, **CUT[algo])
    cut.train(x=x, y=y, training_frame=frame)
    reason = cut_reason(cut, cv)
    assert reason and reason.startswith("cut short"), (reason, cut.logloss(train=True), cv)
    assert not as_built_by_cv(cut, cv)


def test_cut_short_check_on_stacked_ensembles(running, many_classes):
    """A stacked ensemble is finished when its metalearner is: one whose metalearner (a GLM)
    stopped after its first iteration (at the intercepts) is cut short, one fitted to its end
    is not."""
    from h2o.estimators import H2OStackedEnsembleEstimator

    from automl_bench_adapters.h2o_models import cut_reason

    frame, x, y = many_classes
    base = []
    for algo in ("gbm", "glm"):
        m = _estimator(algo, nfolds=3, fold_assignment="Modulo",
                       keep_cross_validation_predictions=True, **FINISHED[algo])  # fmt: skip
        m.train(x=x, y=y, training_frame=frame)
        base.append(m)
    done = H2OStackedEnsembleEstimator(base_models=base, seed=0, metalearner_nfolds=3)
    done.train(x=x, y=y, training_frame=frame)
    cv = float(done.logloss(xval=True))
    assert cut_reason(done, cv) is None
    cut = H2OStackedEnsembleEstimator(
        base_models=base, seed=0, metalearner_algorithm="glm",
        metalearner_params={"lambda_search": True, "max_iterations": 1},
    )  # fmt: skip
    cut.train(x=x, y=y, training_frame=frame)
    reason = cut_reason(cut, cv)
    assert reason and reason.startswith("cut short") and "metalearner" in reason, reason


def test_every_model_cut_keeps_a_fold_model_or_names_the_cut(model, running, many_classes):
    """When every main model on the leaderboard was cut short, the adapter keeps the finished
    cross-validation model with the lowest held-out log loss among those H2O kept (of a model
    on the leaderboard or of one whose job the JVM knows: cut during its cross-validation);
    without one, the error names each model cut and why (``error_type`` ModelsCutShort)."""
    import h2o

    from automl_bench_adapters.h2o_automl import ModelsCutShort

    frame, x, y = many_classes
    done = _estimator("gbm", nfolds=3, fold_assignment="Modulo", **FINISHED["gbm"])
    done.train(x=x, y=y, training_frame=frame)
    cv = float(done.logloss(xval=True))
    bare = _estimator("gbm", max_runtime_secs=1, **CUT["gbm"])  # cut, no fold models
    bare.train(x=x, y=y, training_frame=frame)
    board = pd.DataFrame({"model_id": [bare.model_id], "logloss": [cv]})
    kept = model._complete_leader(board)
    assert board["complete"].tolist() == [False]
    assert board["cut"].str.startswith("cut short").all(), board
    folds = [h2o.get_model(m["name"])
             for m in done._model_json["output"]["cross_validation_models"]]  # fmt: skip
    assert kept is not None and "_cv_" in kept.model_id, (kept, board)
    assert float(kept.logloss(valid=True)) <= min(float(f.logloss(valid=True)) for f in folds)
    assert model.timings_["kept_fold_model"] == 1.0
    # without any fold model in the JVM: no model is kept, and the error names the cut
    for key in [m["model_id"]["name"] for m in h2o.api("GET /3/Models")["models"]]:
        if "_cv_" in key:
            h2o.remove(key)
    board = pd.DataFrame({"model_id": [bare.model_id], "logloss": [cv]})
    assert model._complete_leader(board) is None
    err = model._nothing_finished(board, 18, cancelled=False)
    assert isinstance(err, ModelsCutShort) and type(err).__name__ == "ModelsCutShort"
    assert bare.model_id in str(err) and "trees" in str(err), err


def test_failed_fit_shuts_the_jvm_down_and_no_java_is_left(running, load_dataset):
    model = running
    X, y = load_dataset("anneal")
    pid = model.jvm_pid_
    assert psutil.pid_exists(pid)
    with pytest.raises(Exception, match="(?i)algo|NotAnAlgo"):
        model.set_params(include_algos=["NotAnAlgo"], time_limit=5).fit(X, y)
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert _our_javas() == []
    with pytest.raises(Exception, match="shut down"):
        model.predict_proba(X)
