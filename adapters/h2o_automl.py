"""H2O-3 AutoML (H2O.ai): one local H2O JVM per job, shut down after every outcome.

Setup and budget: starting the JVM and moving the training rows into it are the adapter's
setup step (:meth:`prepare`, timed apart by the harness as ``setup_duration``), so they do
not eat the search's budget. ``fit`` then hands H2O ``max_runtime_secs`` = the whole time
limit less ``finish_cost``: what H2O is measured to spend past its own limit (finishing the
model in training, the stacked ensembles' metalearner, which grows with rows x classes, and
reading back the leaderboard), see :mod:`automl_bench_adapters.finish_cost`. As a backstop, an AutoML run
still going near the time limit is cancelled (H2O's job cancel) early enough for the cancel
to take effect and the leaderboard to be read back; the models trained so far are kept and
the stop reason is ``deadline``. ``nthreads`` = its cores,
JVM heap (``-Xmx``) = its memory limit minus ``python_headroom_mb`` for the Python side and
the JVM's own off-heap use, ``seed`` = its seed, leaderboard sorted by log loss. The JVM
listens on a free loopback port, keeps its ice_root and logs in the job's scratch directory,
and sends no telemetry. ``models_count_`` is the number of models on H2O's leaderboard
(stacked ensembles included) that H2O finished building; AMLB counts the whole leaderboard,
which also lists models whose build a cancel cut short. Such a model is never the one kept:
the best finished model is (see ``_complete_leader``); the leaderboard saved with the job
marks each row ``complete`` and says in ``cut`` why a model was passed over.

Finished or cut short: H2O's own record decides where it keeps one (``_h2o_record``): a
main model fitted after cross-validation has the trees or epochs H2O planned from its folds
(fewer: stopped by a time limit or a cancel), a stacked ensemble has a finished metalearner,
a GLM cut short still has about its null deviance; a model whose job H2O reports cancelled
is cut. Only where H2O keeps no record (a model early-stopped without cross-validation) the
loss heuristic speaks: training log loss <= 1.5 x CV log loss + 0.1.

When every model is cut short (a many-class task on a busy core: each model's folds eat its
time, its main fit is cut), the rule is: keep the finished cross-validation model with the
lowest log loss on the rows it held out, of a model H2O finished building
(``keep_cross_validation_models`` is on for this; a cancelled model's folds are deleted).
A fold model is finished, and is what the leaderboard's cross-validation loss measured;
a cut main model was never measured and predicts little better than chance. The job then
stays ``ok``; its leaderboard's ``cut`` column names each model cut and why, and
``info.timings.kept_fold_model`` is 1. With no finished fold model either, the fit fails
with ``ModelsCutShort`` (the row's ``error_type``), its message naming each model and why.

Finishing reserve, and why not a per-model cap: the reserve covers one more round of the
main model's final fit (rows x features x classes, ``rfc_s`` in ``FINISH_COST``), which H2O
cannot stop part-way. H2O's ``max_runtime_secs_per_model`` is not used: within it H2O gives
a model's main fit whatever its folds left, so a cap makes more main models cut short, not
fewer; nor is ``nfolds`` lowered (a different search from H2O's own, which AMLB runs). AMLB
(frameworks/H2OAutoML/exec.py) hands H2O the whole budget as ``max_runtime_secs`` with
H2O's defaults (no per-model cap, ``nfolds`` chosen by H2O) and times ``aml.train`` as it
runs, overruns included.

``trajectory()`` reads H2O's event log after fit: each finished model's "Adding model ...
to leaderboard" event gives the moment it finished (models the deadline cut short are left
out, as they are never kept), and the leaderboard (``extra_columns="ALL"``) its log loss, on
H2O's leaderboard frame (a holdout H2O splits from the training rows) or, when H2O
cross-validates, its cross-validation metrics.

Data goes to the JVM as a CSV file in scratch, written by pyarrow's CSV writer, that the JVM
parses itself (``h2o.import_file`` with the column types given): faster than
``H2OFrame(pandas_df)`` (which writes CSV with Python's csv module and uploads it over HTTP),
than pandas' ``to_csv``, and than Parquet, whose parse setup is slow for wide frames (see
tests/benchmarks/h2o_transfer.py for numbers).

Lifetime: the JVM starts in the setup step and lives until :meth:`shutdown`, which the
setup and ``fit`` call on any error and a finaliser calls when the adapter is
garbage-collected or the interpreter exits. H2O starts its JVM with ``os.setsid`` (its own
session and process group), so a kill of the worker's process group alone does not reach
it; the harness's process-tree kill does (it walks children and remembers them), and
:meth:`shutdown` waits until the JVM process is gone, killing it if the REST shutdown does
not end it.
"""

from __future__ import annotations

import os
import tempfile
import threading
import uuid
import weakref

import numpy as np
import pandas as pd

from automl_bench_adapters.base import (
    AdapterError,
    BaseAdapter,
    Capabilities,
    Requirements,
    label_column,
)
from automl_bench_adapters.finish_cost import FinishCost, cpu_share
from automl_bench_adapters.h2o_models import (
    ModelsCutShort,
    as_pandas,
    cut_reason,
    fold_models,
    read_leaderboard,
)
from automl_bench_adapters.h2o_server import (
    CancelAt,
    connect,
    free_port_pair,
    job_states,
    jvm_args,
    started_on,
    stop_server,
)
from automl_bench_adapters.stop_reason import stop_reason

TARGET = "__target__"
# measured past max_runtime_secs (tests/benchmarks/budget_adherence.py, 30 s, twelve
# datasets at loads of 10-16 on 2 cores, core shares 0.2-0.25): 2-10 s, median ~6 s:
# finishing the model in training (larger with the budget) and reading back the leaderboard,
# plus the stacked ensembles' metalearner, which grows with rows x classes. CPU seconds,
# scaled by the job's core share; the rare longer overrun is cut by the deadline cancel.
# rfc_s: the main model's final fit after its cross-validation, at least one more round over
# every row, feature and class that H2O cannot stop part-way (a boosting round builds one
# tree per class; a multinomial GLM iteration updates every class's coefficients): a 5-fold
# XGBoost on 1,500 rows x 64 features x 100 classes took 38 s at a core share of 0.2 for
# six such rounds (one per fold and the main model), ~1.2 CPU s a round, 12 per 1e8
FINISH_COST = FinishCost(base_s=1.0, per_budget=0.02, rc_s=0.6, rfc_s=12.0, max_share=0.4)
# a cancel at the deadline takes effect after the JVM's current chunk of work, then the
# leaderboard and the leader are read back: 5.6 + 1.3 s measured at a core share of 0.2
# (semeion, 20 s), 1.5-2.4 s on an idle core (default suite, 30 s), of which about 1.2 s is
# waiting on the JVM's answers whatever the load; the rest is CPU seconds, scaled the same way
FETCH_COST = FinishCost(base_s=1.2, rc_s=0.2, wall_s=1.2, max_share=0.25)


class H2OAutoML(BaseAdapter):
    requirements = Requirements(packages=("h2o",), java=True, extra="h2o")
    capabilities = Capabilities(notes=("starts a JVM per job", "heap = memory limit - headroom"))
    distribution = "h2o"

    def __init__(
        self,
        time_limit=60.0,
        cores=1,
        memory_mb=None,
        seed=0,
        scratch_dir=None,
        sort_metric="logloss",
        nfolds=-1,
        max_models=None,
        include_algos=None,
        exclude_algos=None,
        python_headroom_mb=1024,
        min_heap_mb=512,
        finish_cost=None,
    ):
        super().__init__(time_limit, cores, memory_mb, seed, scratch_dir)
        self.sort_metric = sort_metric
        self.nfolds = nfolds
        self.max_models = max_models
        self.include_algos = include_algos
        self.exclude_algos = exclude_algos
        self.python_headroom_mb = python_headroom_mb
        self.min_heap_mb = min_heap_mb
        self.finish_cost = finish_cost

    # -- JVM lifetime -------------------------------------------------------------------
    def heap_mb(self) -> int | None:
        """JVM heap for the job's memory limit (None: no limit given, H2O's default)."""
        if not self.memory_mb:
            return None
        return max(int(self.min_heap_mb), int(self.memory_mb) - int(self.python_headroom_mb))

    def _start(self) -> None:
        import time

        t0 = time.monotonic()
        self._start_s = 0.0
        if getattr(self, "_server", None) is not None and self._server.is_running():
            self._use()
            return
        import h2o
        from h2o import telemetry
        from h2o.backend import H2OLocalServer
        from h2o.exceptions import H2OServerError

        telemetry.set_enabled(False)  # offline machines; and a benchmark phones nobody
        root = self.scratch_dir or tempfile.mkdtemp(prefix="automl-bench-h2o-")
        self._own_root = None if self.scratch_dir else root
        ice = os.path.join(root, "h2o-ice")
        os.makedirs(ice, exist_ok=True)
        heap = self.heap_mb()
        # H2O writes the JVM's stdout/stderr into a fresh tempfile.mkdtemp(): keep it in scratch
        saved_tempdir, tempfile.tempdir = tempfile.tempdir, root
        try:
            for attempt in range(3):
                try:
                    with started_on(self.cores):
                        server = H2OLocalServer.start(
                            nthreads=max(1, int(self.cores)),
                            max_mem_size=heap * 2**20 if heap else None,
                            ice_root=ice,
                            log_dir=os.path.join(root, "h2o-logs"),
                            port=free_port_pair(),
                            name=f"automl-bench-{uuid.uuid4().hex[:12]}",
                            verbose=False,
                            enable_assertions=False,
                            jvm_custom_args=jvm_args(self.cores),
                        )
                    break
                except H2OServerError as e:
                    # another process bound the ports between their check and the JVM's start
                    if "are not available" not in str(e) or attempt == 2:
                        raise
        finally:
            tempfile.tempdir = saved_tempdir
        self._server = server
        self._finalizer = weakref.finalize(self, stop_server, server)
        connect(h2o, server)
        h2o.no_progress()
        self.jvm_pid_ = server._process.pid
        self._start_s = time.monotonic() - t0

    def shutdown(self) -> None:
        """Stop this adapter's JVM (if any) and wait until its process is gone."""
        server = getattr(self, "_server", None)
        if server is None:
            return
        try:
            import h2o

            conn = h2o.connection()
            if conn is not None and conn.connected and conn.local_server is server:
                conn.close()  # only our own: another adapter's connection stays open
        except Exception:
            pass
        self._finalizer()  # runs stop_server once
        self._server = None
        if getattr(self, "_own_root", None):
            import shutil

            shutil.rmtree(self._own_root, ignore_errors=True)

    def _use(self) -> None:
        """Point h2o's one client connection at this adapter's JVM: another H2O adapter in
        the same process (a host running several, or check-adapter) connects to its own JVM
        when it starts, and this adapter's models live only in this one."""
        if getattr(self, "_server", None) is None:
            raise AdapterError("the H2O JVM was shut down: fit again before predicting")
        import h2o

        conn = h2o.connection()
        if conn is None or not conn.connected or conn.local_server is not self._server:
            connect(h2o, self._server)
            h2o.no_progress()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.shutdown()

    # -- data -------------------------------------------------------------------------
    def _to_h2o(self, X: pd.DataFrame, y: np.ndarray | None = None):
        """Write the frame as CSV (pyarrow's writer) to scratch and have the JVM parse it."""
        import h2o
        import pyarrow as pa
        import pyarrow.csv as pacsv

        cols, col_types = {}, {}
        for c in X.columns:
            col = X[c]
            if pd.api.types.is_bool_dtype(col):
                col = col.astype("int8")
            if pd.api.types.is_numeric_dtype(col):
                cols[c], col_types[c] = col, "real"
            else:  # categoricals and strings; missing stays missing (an empty CSV field)
                cols[c], col_types[c] = col.astype("string"), "enum"
        if y is not None:  # the label's column name: one no feature has
            self._label_col = label_column(X.columns, TARGET)
            cols[self._label_col] = pd.array([f"c{int(v)}" for v in y], dtype="string")
            col_types[self._label_col] = "enum"
        table = pa.Table.from_pandas(pd.DataFrame(cols), preserve_index=False)
        root = self.scratch_dir or self._own_root
        path = os.path.join(root, f"h2o-input-{uuid.uuid4().hex[:8]}.csv")
        pacsv.write_csv(table, path)
        try:
            frame = h2o.import_file(path, header=1, sep=",", col_types=col_types)
        finally:
            os.unlink(path)
        return frame

    # -- setup / fit / predict -------------------------------------------------------------
    def _setup(self, X, y):
        """Start the JVM and move the training rows into it (not the search: not charged)."""
        import time

        import h2o

        try:
            # the core's share is probed before the JVM starts: once started, the JVM's own
            # work (compiling, parsing, collecting the frame's statistics) shares the job's
            # core with the probe for seconds and would read as load (0.47-0.99 on an idle machine)
            share = cpu_share()
            self._start()
            t0 = time.monotonic()
            h2o.remove_all()  # a refit on the same JVM starts clean
            self._columns = list(X.columns)
            self._train_frame = self._to_h2o(X, y)
            self.timings_ = {"jvm_start_s": self._start_s, "transfer_s": time.monotonic() - t0,
                             "cpu_share": share}  # fmt: skip
        except BaseException:
            self.shutdown()
            raise

    def finish_seconds(self, rows: int, features: int, classes: int) -> float:
        """Seconds kept back from ``max_runtime_secs`` for what H2O does after it."""
        cost = FinishCost(**self.finish_cost) if self.finish_cost else FINISH_COST
        share = getattr(self, "timings_", {}).get("cpu_share", 1.0)
        return cost.seconds(float(self.time_limit), rows, features, classes, share)

    def _fit(self, X, y):
        try:
            self._train(X, y)
        except BaseException:
            self.shutdown()
            raise

    def _train(self, X, y):
        import time

        import h2o
        from h2o.automl import H2OAutoML as _AutoML

        reserve = self.finish_seconds(len(X), X.shape[1], len(self.classes_))
        budget = max(1, int(self.remaining() - reserve))
        kwargs = {
            "max_runtime_secs": budget,
            "seed": int(self.seed),
            "sort_metric": self.sort_metric,
            "nfolds": self.nfolds,
            "project_name": f"automl_bench_{uuid.uuid4().hex[:8]}",
            "verbosity": None,
            # the fallback when every main model is cut short: their finished fold models
            "keep_cross_validation_models": True,
        }
        if self.max_models:
            kwargs["max_models"] = int(self.max_models)
        if self.include_algos:
            kwargs["include_algos"] = list(self.include_algos)
        if self.exclude_algos:
            kwargs["exclude_algos"] = list(self.exclude_algos)
        aml = _AutoML(**kwargs)
        # H2O may run on past max_runtime_secs (the model in training, the ensembles): at the
        # time limit less what reading back the leaderboard takes, the AutoML run and the
        # models it is building are cancelled and the models it has finished are kept
        fetch = FETCH_COST.seconds(float(self.time_limit), len(X), X.shape[1], len(self.classes_),
                                   self.timings_.get("cpu_share", 1.0))  # fmt: skip
        stop = CancelAt(aml, time.monotonic() + self.remaining() - fetch)
        # the run goes in a thread: H2O's client returns from a cancelled run only once the
        # JVM has stopped it, seconds later on a busy core; the adapter reads back the
        # finished models at its own time instead (half the fetch allowance before the limit)
        failed: list[BaseException] = []

        def run() -> None:
            try:
                aml.train(x=self._columns, y=self._label_col, training_frame=self._train_frame)
            except BaseException as e:  # noqa: BLE001 - handed to the caller below
                failed.append(e)

        trainer = threading.Thread(target=run, daemon=True, name="h2o-automl-train")
        t1 = time.monotonic()
        stop.start()
        trainer.start()
        trainer.join(max(0.5, self.remaining() - fetch / 2))
        stop.stop()
        # H2O's client raises H2OJobCancelled once it sees the run cancelled, or asserts
        # while the cancel is still pending
        cancelled = (h2o.exceptions.H2OJobCancelled, AssertionError)
        if failed and not (stop.fired and isinstance(failed[0], cancelled)):
            raise failed[0]  # H2O failed on its own, not because the adapter cancelled it
        searched = time.monotonic() - t1
        self.timings_.update(automl_s=searched, finish_reserve_s=reserve, cancelled=stop.fired)
        # cancelled or not (the cancel possibly still pending): read back what it built
        board = read_leaderboard(kwargs["project_name"], self._label_col)
        self._read_by = time.monotonic() + self.remaining() - 1.0
        if board.empty:  # every model was cut during its cross-validation
            board = board.assign(complete=pd.Series(dtype=bool), cut=pd.Series(dtype=str))
        try:
            self.model_ = (self._complete_leader(board) if len(board)
                           else self._fold_fallback(board))  # fmt: skip
        finally:
            self._read_by = None
        if self.model_ is None:
            raise self._nothing_finished(board, kwargs["max_runtime_secs"], stop.fired)
        self.leaderboard_ = board
        self.models_count_ = int(board["complete"].sum()) or 1  # or the fold model kept
        self.best_model_ = str(self.model_.model_id)
        self.search_budget_s_ = float(budget)
        # H2O stops on its own when its plan of models is done (or max_models is reached)
        self.stop_reason_ = stop_reason(searched, budget, cut_short=stop.fired)

    @staticmethod
    def _nothing_finished(board: pd.DataFrame, budget: int, cancelled: bool) -> AdapterError:
        """The error of a fit that kept no model: every model cut short (named, with why),
        or no model built at all."""
        if board.empty:
            cut = sorted(m for m, st in job_states().items()
                         if st == "CANCELLED" and "_AutoML_" in m and "_cv_" not in m)  # fmt: skip
            if cut:  # cut during their cross-validation, before reaching the leaderboard
                return ModelsCutShort(f"every model H2O started within max_runtime_secs={budget} "
                                      f"was cancelled at the deadline during its cross-validation,"
                                      f" none kept: {', '.join(cut)}"[:1900])  # fmt: skip
            return AdapterError(f"H2O AutoML built no model within max_runtime_secs={budget}")
        why = "; ".join(f"{m}: {c}" for m, c in zip(board["model_id"], board["cut"], strict=True))
        by = "the deadline cancel" if cancelled else "H2O's own time limit"
        return ModelsCutShort(f"every model H2O built within max_runtime_secs={budget} was cut "
                              f"short by {by}, none kept: {why}"[:1900])  # fmt: skip

    def _complete_leader(self, board: pd.DataFrame):
        """The best model on H2O's leaderboard that H2O finished building.

        The leaderboard also lists models whose build was cancelled at the deadline (H2O keeps
        what they had built: a stacked ensemble without its metalearner, a GBM with a few
        trees) and main models cut short after their cross-validation by H2O's own time limit
        (see :func:`_h2o_record`); such a model is never chosen, the next finished one is.
        Marks each row's ``complete`` column and, for a model cut short, says why in ``cut``.
        When every model was cut short, the rule is: keep the first cross-validation model of
        the best-ranked one (see :meth:`_fold_fallback`); None when there is none either. When
        a model ranked above the finished one was cut short, one of its finished fold models
        is kept instead if its held-out log loss beats the finished model's cross-validated
        one: on arrhythmia at 25 s the only finished model was a random forest of log loss
        16.6 (it gave 68 of 226 test rows no probability at all), ranked below two XGBoosts
        cut short at 1.47 and 1.62, whose fold models H2O had finished.
        """
        import h2o

        states = job_states()
        complete = [states.get(m, "DONE") == "DONE" for m in board["model_id"]]
        cut = ["" if ok else f"cancelled at the deadline (job {states.get(m, '').lower()})"
               for m, ok in zip(board["model_id"], complete, strict=True)]  # fmt: skip
        chosen = None
        for i, mid in enumerate(board["model_id"]):
            if not complete[i]:
                continue
            model = h2o.get_model(mid)
            reason = cut_reason(model, float(board["logloss"].iloc[i]))
            if reason:
                complete[i], cut[i] = False, reason
                continue
            chosen = model
            self.timings_["passed_over"] = i  # the better-ranked models H2O did not finish
            break
        board["complete"], board["cut"] = complete, cut
        self.cut_short_ = {m: c for m, c in zip(board["model_id"], cut, strict=True) if c}
        if chosen is None:
            return self._fold_fallback(board)
        kept = self.timings_["passed_over"]
        if kept:  # better-ranked models were cut: their finished fold models may beat it
            better = self._fold_fallback(board, of=list(board["model_id"][:kept]),
                                         below=float(board["logloss"].iloc[kept]))  # fmt: skip
            if better is not None:
                return better
        return chosen

    def _fold_fallback(self, board: pd.DataFrame, of: list | None = None, below=np.inf):
        """When H2O finished no main model: the finished cross-validation model with the
        lowest log loss on the rows it held out, or None. ``of``: only fold models of these
        main models, and only one whose held-out log loss is ``below`` this.

        The rule: a fold model is a finished model, and it is what the leaderboard's
        cross-validation log loss measured (each fold model scored on the rows it did not
        see), while a main model cut short was never measured and predicts little better than
        chance; so the fold model is the fairer one to score. It was trained on (k-1)/k of
        the training rows, and is chosen as H2O ranks its leaderboard, by held-out log loss;
        it may belong to a model cut during its cross-validation, before it reached the
        leaderboard. A fold model cut short itself is passed over as a main model is. Only
        fold models of a main model H2O finished building count (cut short by H2O's own
        per-model limit, as on a busy core): H2O deletes a cancelled model's fold models
        once the cancel takes effect, after the adapter has read them back.
        """

        import time

        best, best_loss = None, float(below)
        states = job_states()
        # only of models H2O finished building (possibly cut by its own per-model limit): a
        # cancelled model's fold models are deleted by H2O once its cancel takes effect
        mains = [m for m in ([*board["model_id"], *states] if of is None else of)
                 if "_cv_" not in str(m) and states.get(m, "DONE") == "DONE"]  # fmt: skip
        end = getattr(self, "_read_by", None)  # in fit: a second before its time limit
        for fold in fold_models(mains, stop_at=lambda: end is not None and time.monotonic() > end):
            if states.get(str(fold.model_id), "DONE") != "DONE":
                continue
            try:
                loss = float(fold.logloss(valid=True))
            except Exception:
                continue
            if np.isfinite(loss) and loss < best_loss and cut_reason(fold, loss) is None:
                best, best_loss = fold, loss
        if best is not None:
            self.timings_["kept_fold_model"] = 1.0
            if of is None:  # every model passed over (given ``of``, the caller counted them)
                self.timings_["passed_over"] = len(board)
        return best

    def save_model(self, path: str) -> str:
        """The leader as a MOJO (H2O's deployable format, scored without a cluster), or as
        H2O's binary model when the leader's algorithm has no MOJO."""
        if getattr(self, "_server", None) is None:
            raise AdapterError("the H2O JVM was shut down: the model can no longer be saved")
        self._use()
        import h2o

        try:
            self.model_.download_mojo(path=path)
            return "mojo"
        except Exception as e:  # e.g. an algorithm without MOJO support
            for f in os.listdir(path):
                os.unlink(os.path.join(path, f))
            self.save_note_ = f"no MOJO for this model, saved H2O's binary model ({e})"[:300]
        h2o.save_model(self.model_, path=path, force=True)
        return "h2o-binary"

    def _predict_proba(self, X):
        self._use()
        frame = self._to_h2o(X[self._columns])
        pred = as_pandas(self.model_.predict(frame)).drop(columns=["predict"])
        # One probability column per level of the training target, named by the level. The
        # target went in as "c<code>" so no level looks numeric (H2O would rename a numeric
        # level 3 to "p3"); map each column back to its class code.
        codes = [int(str(c)[1:]) for c in pred.columns]
        proba = np.zeros((len(X), len(self.classes_)))
        proba[:, codes] = pred.to_numpy(dtype=float)
        return proba

    def trajectory(self):
        """Each model's log loss on H2O's leaderboard at the moment it joined the leaderboard."""
        if getattr(self, "_server", None) is None or getattr(self, "model_", None) is None:
            return None
        self._use()
        import h2o

        aml = _automl_of(str(self.model_.model_id))
        if aml is None:
            return None
        events = as_pandas(aml.event_log)
        board = as_pandas(h2o.automl.get_leaderboard(aml, extra_columns="ALL"))
        return _h2o_trajectory(self, events, board)


def _seconds_of_day(stamp) -> float:
    """H2O's event timestamp "HH:MM:SS.mmm" (its milliseconds are not zero-padded: "8.26" is
    8.026 s) as seconds since midnight."""
    hms, _, ms = str(stamp).strip().partition(".")
    h, m, sec = (int(x) for x in hms.split(":"))
    return h * 3600 + m * 60 + sec + (int(ms) / 1000 if ms.isdigit() else 0.0)


def _h2o_trajectory(adapter, events: pd.DataFrame, board: pd.DataFrame):
    """Trajectory points from an AutoML run's event log and leaderboard (see the module)."""
    import datetime as dt
    import re

    from automl_bench_adapters.trajectory import LOG_LOSS, incumbents, wall_to_elapsed

    anchor = events[events["message"].astype(str).str.startswith("AutoML build started")]
    if anchor.empty or "logloss" not in board:
        return None
    first = anchor.iloc[0]
    day = re.search(r"(\d{4})\.(\d{2})\.(\d{2})", str(first["message"]))
    start_sod = _seconds_of_day(first["timestamp"])
    if day:  # the JVM's local time, as the machine's (same clock, same zone)
        midnight = dt.datetime(*(int(g) for g in day.groups())).timestamp()
        start_wall = midnight + start_sod
    else:
        start_wall = float(first["value"])  # start_epoch, whole seconds
    losses = dict(zip(board["model_id"].astype(str), board["logloss"], strict=True))
    # a model H2O did not finish (cut by the deadline: its leaderboard loss is its
    # cross-validation's, not the model's) is never kept, so it is never an incumbent either
    kept = getattr(adapter, "leaderboard_", None)
    cut = (set(kept.loc[~kept["complete"].astype(bool), "model_id"].astype(str))
           if kept is not None and "complete" in kept else set())  # fmt: skip
    points = []
    for _, e in events.iterrows():
        found = re.match(r"Adding model (\S+) to leaderboard", str(e["message"]))
        if not found or found.group(1) not in losses or found.group(1) in cut:
            continue
        since = _seconds_of_day(e["timestamp"]) - start_sod
        since += 86400 if since < -3600 else 0  # past midnight
        wall = start_wall + since
        points.append((wall_to_elapsed(adapter, wall), losses[found.group(1)], found.group(1)))
    cv = events["message"].astype(str).str.extract(r"(\d+)-fold cross-validation will be used")
    folds = cv[0].dropna()
    validation = (f"H2O {folds.iloc[0]}-fold cross-validation" if len(folds)
                  else "H2O leaderboard frame (a holdout split of the training rows)")  # fmt: skip
    return incumbents(points, LOG_LOSS, validation)


def _automl_of(leader_id: str):
    """The H2O AutoML run whose leaderboard holds ``leader_id`` (one per job's JVM)."""
    import h2o

    for board in h2o.api("GET /99/Leaderboards").get("leaderboards") or []:
        if any(m.get("name") == leader_id for m in board.get("models") or []):
            return h2o.automl.get_automl(str(board.get("project_name")).split("@@")[0])
    return None
