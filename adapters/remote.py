"""The contract of a remote backend: a managed cloud AutoML service behind the adapter
interface (SageMaker Autopilot today; Vertex AI and Azure ML fit the same steps).

A service implements five steps; this class runs them within the budget contract:

- ``_upload(X, y)``: the setup step (``prepare``, timed apart from the budget, as H2O's
  JVM start): move the training rows into the service's storage and provision what the job
  needs;
- ``_submit()``: start the AutoML job with the budget (``time_limit``) mapped onto the
  service's own limit;
- ``_poll() -> str``: the job's state, one of :data:`RUNNING`, :data:`COMPLETED`,
  :data:`FAILED`, :data:`STOPPED` (a failure's reason in ``self.failure_``);
- ``_stop()``: ask the service to stop the job;
- ``_collect()``: after the job ended, its best model (``best_model_``), the models it
  evaluated (``models_count_``) and the billed usage (``billed_usage_``: one dict per
  billed piece of compute, ``{"kind", "instance_type", "instance_count", "seconds"}``);
- ``_predict_remote(X) -> ndarray``: the best model's probabilities for ``X``, one column
  per class in code order (a batch job in the service);
- ``_cleaner`` (``module:function``): stops and deletes one ledger entry
  (:mod:`automl_bench_adapters.remote_ledger`).

``fit`` polls with exponential backoff (``poll_min_s`` doubling up to ``poll_max_s``) and
stops the job itself when the service has not ended it ``stop_margin`` x the budget after
the budget ran out (the adapter's own deadline; the harness's hard limit comes later). Every
resource a step creates is written to the job's ledger before the call creating it returns
(``self._creating``), and released (stopped, deleted, marked done) when the predictions are
fetched or any step fails. A worker killed before that leaves the ledger to the harness's
``cleanup``.
"""

from __future__ import annotations

import importlib
import time

import numpy as np
import pandas as pd

from automl_bench_adapters.base import AdapterError, BaseAdapter
from automl_bench_adapters.remote_ledger import Ledger, ledger_path

RUNNING, COMPLETED, FAILED, STOPPED = "running", "completed", "failed", "stopped"


class RemoteJobFailed(AdapterError):
    """The service ended the AutoML job as failed (its reason in the message)."""


def cleaner_function(spec: str):
    """The ``module:function`` a ledger entry names as its cleaner."""
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


def release(ledger: Ledger) -> list[str]:
    """Stop and delete every pending resource of ``ledger``, newest first (a transform job
    before its model, a model before the files it reads); mark each done; return one line
    per resource. A resource that could not be released stays pending (its line says why)."""
    said = []
    for entry in reversed(ledger.pending()):
        try:
            what = cleaner_function(entry.cleaner)(entry.as_dict())
        except Exception as e:  # noqa: BLE001 - reported, left pending for the next cleanup
            said.append(f"{entry.kind} {entry.name}: not released ({type(e).__name__}: {e})")
            continue
        ledger.mark(entry.key, "done", what)
        said.append(f"{entry.kind} {entry.name}: {what}")
    return said


class RemoteAdapter(BaseAdapter):
    """Base class of the managed-service adapters (see the module's docstring)."""

    cpu_bound = False  # it waits on the service
    measures_inference = False  # every prediction is a batch job in the service
    reproducible = False
    warm_imports = ()

    def _init_remote(self, stop_margin=0.05, poll_min_s=5.0, poll_max_s=60.0):
        self.stop_margin = stop_margin
        self.poll_min_s = poll_min_s
        self.poll_max_s = poll_max_s

    # -- the service's steps --------------------------------------------------------------
    _cleaner = ""

    def _upload(self, X: pd.DataFrame, y: np.ndarray) -> None:
        raise NotImplementedError

    def _submit(self) -> None:
        raise NotImplementedError

    def _poll(self) -> str:
        raise NotImplementedError

    def _stop(self) -> None:
        raise NotImplementedError

    def _collect(self) -> None:
        raise NotImplementedError

    def _predict_remote(self, X: pd.DataFrame) -> np.ndarray:
        raise NotImplementedError

    # -- the ledger ------------------------------------------------------------------------
    @property
    def ledger(self) -> Ledger:
        if self.scratch_dir is None:
            raise AdapterError(f"{type(self).__name__} needs a scratch_dir (its job's folder "
                               "keeps the ledger of what it creates remotely)")  # fmt: skip
        return Ledger(ledger_path(self.scratch_dir))

    def _creating(self, kind: str, name: str, **params):
        return self.ledger.creating(kind, name, self._cleaner, **params)

    def release(self) -> list[str]:
        """Stop and delete everything this job created remotely (idempotent)."""
        if self.scratch_dir is None:
            return []
        self.released_ = release(self.ledger)
        return self.released_

    # -- the budget contract ---------------------------------------------------------------
    def _setup(self, X, y):
        self._guarded(self._upload, X, y)

    def _fit(self, X, y):
        self._guarded(self._search)

    def _predict_proba(self, X):
        try:
            return self._predict_remote(X)
        finally:
            self.release()

    def _guarded(self, step, *args):
        try:
            step(*args)
        except BaseException:
            self.release()
            raise

    def _search(self) -> None:
        self.search_budget_s_ = float(self.time_limit)
        self._submit()
        deadline = self.fit_started_ + float(self.time_limit) * (1 + float(self.stop_margin))
        state, wait, stopped = self._poll(), float(self.poll_min_s), False
        while state == RUNNING:
            if not stopped and time.monotonic() >= deadline:
                self._stop()  # the service ran past its limit: the adapter's own deadline
                stopped = True
            time.sleep(min(wait, max(0.0, deadline - time.monotonic()) or wait))
            wait = min(wait * 2, float(self.poll_max_s))
            state = self._poll()
        if state == FAILED:
            raise RemoteJobFailed(getattr(self, "failure_", "") or "the service's job failed")
        self.stop_reason_ = "deadline" if stopped else "budget" if state == STOPPED else "converged"
        self._collect()
