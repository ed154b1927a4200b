"""TEST ADAPTERS for check-adapter's negative controls: a well-behaved class-prior adapter,
and one subclass per check that breaks exactly that part of the contract (and nothing else).
Named by tests/broken_frameworks.yaml, beside this file, as `broken_adapters.py:Class`."""

from __future__ import annotations

import os
import subprocess
import time

import numpy as np
import pandas as pd

from automl_bench_adapters.base import BaseAdapter


class Prior(BaseAdapter):
    """Passes every check: the training class prior (smoothed), reproducible."""

    reproducible = True

    def __init__(self, time_limit=60.0, cores=1, memory_mb=None, seed=0, scratch_dir=None,
                 smoothing=1.0):  # fmt: skip
        super().__init__(time_limit, cores, memory_mb, seed, scratch_dir)
        self.smoothing = smoothing

    def _fit(self, X, y):
        counts = np.bincount(y, minlength=len(self.classes_)) + self.smoothing
        self.prior_ = counts / counts.sum()
        self.models_count_, self.best_model_, self.stop_reason_ = 1, "prior", "converged"

    def _predict_proba(self, X):
        return np.tile(self.prior_, (len(X), 1))


class WrongOrder(Prior):  # labels: columns reversed, out of classes_ order
    def _predict_proba(self, X):
        return super()._predict_proba(X)[:, ::-1]


class Unnormalised(Prior):  # probabilities: rows sum to 0.5
    def _predict_proba(self, X):
        return super()._predict_proba(X) * 0.5


class ChokesOnMissing(Prior):  # missing values: declared (BaseAdapter's default), refused
    def _fit(self, X, y):
        if X.isna().to_numpy().any():
            raise ValueError("missing values")
        super()._fit(X, y)


class ChokesOnUnseen(Prior):  # unseen categories: declared, refused at prediction
    def _fit(self, X, y):
        self.seen_ = {c: set(X[c].dropna()) for c in X.columns
                      if isinstance(X[c].dtype, pd.CategoricalDtype)}  # fmt: skip
        super()._fit(X, y)

    def _predict_proba(self, X):
        for c, seen in self.seen_.items():
            if set(X[c].dropna()) - seen:
                raise KeyError(f"unseen category in {c}")
        return super()._predict_proba(X)


class Overruns(Prior):  # time limit: trains for 1.3 x its budget
    def _fit(self, X, y):
        time.sleep(1.3 * float(self.time_limit))
        super()._fit(X, y)


class Spins(Prior):  # cores: three busy processes on a 1-core budget
    def _fit(self, X, y):
        end, children = time.monotonic() + 0.4 * float(self.time_limit), []
        for _ in range(3):
            pid = os.fork()
            if pid == 0:  # the child spins until the end, then leaves at once
                while time.monotonic() < end:
                    pass
                os._exit(0)
            children.append(pid)
        for pid in children:
            os.waitpid(pid, 0)
        super()._fit(X, y)


class Litters(Prior):  # scratch only: writes into the working directory
    def _fit(self, X, y):
        with open("prior.log", "w") as f:
            f.write("fitted\n")
        super()._fit(X, y)


LEFT = []  # the children LeavesChild leaves (kept here: a Popen on the model does not pickle)


class LeavesChild(Prior):  # no process left: a child still running after predict
    def _fit(self, X, y):
        LEFT.append(subprocess.Popen(["sleep", "15"], start_new_session=True))
        super()._fit(X, y)


class SavesNothing(Prior):  # model saved: nothing written
    def save_model(self, path):
        return "nothing"


class BadTrajectory(Prior):  # trajectory: time runs backwards
    def trajectory(self):
        from automl_bench_adapters.trajectory import COLUMNS

        rows = [(0.2, 1.0, "log_loss", "prior", 1.0, 1, "train"),
                (0.1, 0.9, "log_loss", "prior", 0.9, 2, "train")]  # fmt: skip
        return pd.DataFrame(rows, columns=list(COLUMNS))


class Unseeded(Prior):  # seed: says reproducible, draws from an unseeded generator
    def _fit(self, X, y):
        super()._fit(X, y)
        noisy = self.prior_ * np.random.default_rng().uniform(0.9, 1.1, len(self.prior_))
        self.prior_ = noisy / noisy.sum()


class BadClone(Prior):  # clone: the constructor changes a parameter
    def __init__(self, time_limit=60.0, cores=1, memory_mb=None, seed=0, scratch_dir=None,
                 smoothing=1.0):  # fmt: skip
        super().__init__(time_limit, cores, memory_mb, seed, scratch_dir, smoothing)
        self.smoothing = float(smoothing) + 1.0


class BadStop(Prior):  # stop reason: outside STOP_REASONS
    def _fit(self, X, y):
        super()._fit(X, y)
        self.stop_reason_ = "tired"


# each negative control and the one check it must fail
FAILS = {
    "WrongOrder": "labels", "Unnormalised": "probabilities", "ChokesOnMissing": "missing values",
    "ChokesOnUnseen": "unseen categories", "Overruns": "time limit", "Spins": "cores",
    "Litters": "scratch only", "LeavesChild": "no process left", "SavesNothing": "model saved",
    "BadTrajectory": "trajectory", "Unseeded": "seed", "BadClone": "clone", "BadStop": "stop reason",
}  # fmt: skip
