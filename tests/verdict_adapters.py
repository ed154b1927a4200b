"""TEST ADAPTERS for the verdict's integrity: each returns predictions that are wrong in one
known way (or fails on purpose on some tasks), so tests can check the harness catches it.
Registered through ``AUTOML_BENCH_FRAMEWORKS`` with tests/ on PYTHONPATH; never shipped."""

from __future__ import annotations

import numpy as np

from automl_bench_adapters.base import BaseAdapter, Requirements


class _Prior(BaseAdapter):
    def _fit(self, X, y):
        counts = np.bincount(y, minlength=len(self.classes_))
        self.prior_ = counts / counts.sum()

    def _predict_proba(self, X):
        return np.tile(self.prior_, (len(X), 1))


def _other_type(c):
    """"1" -> 1.0 and 1 -> "1": the same text, another type."""
    return str(c) if not isinstance(c, str) else float(c)


class OtherTypeShuffledClasses(_Prior):
    """Reports its classes with another type ("1" as 1.0, 1 as "1") in a shuffled order
    (probabilities follow that order): no column can be matched to the task's classes."""

    def fit(self, X, y):
        super().fit(X, y)
        rng = np.random.default_rng(0)
        order = rng.permutation(len(self.classes_))
        self.classes_ = np.array([_other_type(c) for c in self.classes_[order]], dtype=object)
        self._order = order
        return self

    def _predict_proba(self, X):
        return np.tile(self.prior_[self._order], (len(X), 1))


class NanRows(_Prior):
    """Writes NaN into ``nan_rows`` test rows (the rest is the class prior)."""

    def __init__(self, time_limit=60.0, cores=1, memory_mb=None, seed=0, scratch_dir=None,
                 nan_rows=1):  # fmt: skip
        super().__init__(time_limit, cores, memory_mb, seed, scratch_dir)
        self.nan_rows = nan_rows

    def _predict_proba(self, X):
        p = super()._predict_proba(X)
        p[: int(self.nan_rows)] = np.nan
        return p


class FailsOnWide(_Prior):
    """A framework error on tasks with more than ``max_features`` features."""

    def __init__(self, time_limit=60.0, cores=1, memory_mb=None, seed=0, scratch_dir=None,
                 max_features=100):  # fmt: skip
        super().__init__(time_limit, cores, memory_mb, seed, scratch_dir)
        self.max_features = max_features

    def _fit(self, X, y):
        if X.shape[1] > self.max_features:
            raise RuntimeError(f"this test adapter refuses {X.shape[1]} features")
        super()._fit(X, y)


class NeedsOptionalBackend(_Prior):
    """Needs the module ``verdict_optional_backend`` (a test puts it on PYTHONPATH) and
    records the version of the distribution ``verdict-optional-backend``."""

    requirements = Requirements(packages=("verdict_optional_backend",))
    distribution = "verdict-optional-backend"


MEMCG_ROOT = "/sys/fs/cgroup/memory"


class KilledByKernelOom(_Prior):
    """Moves its own process into a new memory cgroup (cgroup v1) limited to ``limit_mb``,
    then allocates past it: the kernel's OOM killer SIGKILLs it, as it would a job on a
    machine out of memory. The cgroup is named ``automl-bench-oom-<pid>`` (the test removes
    it). Needs root and a writable memory controller."""

    def __init__(self, time_limit=10, cores=1, memory_mb=2048, seed=0, scratch_dir=None,
                 limit_mb: int = 64, allocate_mb: int = 1024):
        super().__init__(time_limit, cores, memory_mb, seed, scratch_dir)
        self.limit_mb = limit_mb
        self.allocate_mb = allocate_mb

    def _fit(self, X, y):
        import os

        group = os.path.join(MEMCG_ROOT, f"automl-bench-oom-{os.getpid()}")
        os.makedirs(group, exist_ok=True)
        with open(os.path.join(group, "memory.limit_in_bytes"), "w") as f:
            f.write(str(self.limit_mb * 1024 * 1024))
        with open(os.path.join(group, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))
        chunks = []
        for _ in range(self.allocate_mb // 16):  # touched pages: charged to the cgroup
            chunks.append(bytearray(16 * 1024 * 1024))
        raise RuntimeError("the kernel did not stop the allocation")


class ValidatesOneDeploysAnother(BaseAdapter):
    """Validates a logistic regression on a holdout (its trajectory reports that model's
    validation log loss) but deploys another model: one that puts 0.98 on a wrong class.
    The report's validation-vs-test rule must flag every one of its jobs."""

    def _fit(self, X, y):
        from sklearn.linear_model import LogisticRegression
        from sklearn.metrics import log_loss
        from sklearn.model_selection import train_test_split

        from automl_bench_adapters.trajectory import LOG_LOSS, incumbents

        Xn = np.nan_to_num(np.asarray(X, dtype=float))
        a, b, ya, yb = train_test_split(Xn, y, test_size=0.3, random_state=0, stratify=y)
        model = LogisticRegression(max_iter=300).fit(a, ya)
        loss = log_loss(yb, model.predict_proba(b), labels=model.classes_)
        self.points_ = incumbents([(0.5, loss, "logistic regression")], LOG_LOSS, "holdout")
        self.model_ = model.fit(Xn, y)

    def _predict_proba(self, X):
        p = self.model_.predict_proba(np.nan_to_num(np.asarray(X, dtype=float)))
        wrong = (p.argmax(axis=1) + 1) % p.shape[1]  # the deployed model: confidently wrong
        out = np.full_like(p, 0.02 / max(1, p.shape[1] - 1))
        out[np.arange(len(p)), wrong] = 0.98
        return out

    def trajectory(self):
        return self.points_
