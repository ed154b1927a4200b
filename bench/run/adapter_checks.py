"""The adapter contract, checked on shipped real data: what `automl-bench check-adapter` runs.

Each check fits the adapter on a slice of mfeat-factors (real data shipped in
bench/datasets/hd-real) and returns (name, passed, why). They run in the interpreter that runs
the adapter's jobs (its own environment, if it has one), started as
``python -m automl_bench.run.adapter_checks`` with a JSON request on stdin; each result is a
``CHECK {json}`` line on stdout. This module needs only what the worker needs (numpy,
pandas, psutil, scikit-learn for ``clone``).
"""

from __future__ import annotations

import functools
import importlib
import json
import os
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

DATA = Path(__file__).resolve().parents[1] / "datasets" / "hd-real" / "mfeat-factors.parquet"
TIME_SLACK = 1.1  # training / budget at most this
CORE_SLACK = 1.1  # CPU share at most cores x this
SUM_TOL = 1e-6  # a probability row sums to 1 within this
CHECKS = ("labels", "probabilities", "missing values", "unseen categories", "time limit",
          "cores", "scratch only", "model saved", "trajectory", "seed", "clone", "stop reason",
          "no process left")  # fmt: skip


def data(rows: tuple[int, ...] = (150, 45, 45), features: int = 20, seed: int = 0):
    """(X_train, y_train, X_test, y_test): three classes of mfeat-factors, the first of them
    the majority (``rows`` per class, 2/3 for training), ``features`` columns, as floats."""
    return tuple(part.copy() for part in _data(rows, features, seed))


@functools.cache
def _data(rows, features, seed):
    df = pd.read_parquet(DATA)
    rng = np.random.default_rng(seed)
    parts = []
    for label, n in zip(sorted(df["class"].unique())[: len(rows)], rows, strict=True):
        idx = np.flatnonzero((df["class"] == label).to_numpy())
        parts.append(rng.choice(idx, size=n, replace=False))
    sub = df.iloc[np.concatenate(parts)].sample(frac=1.0, random_state=seed)
    X = sub.iloc[:, :features].astype("float64").reset_index(drop=True)
    y = pd.Series(sub["class"].astype(str).to_numpy(), name="class")
    cut = len(X) * 2 // 3
    return X.iloc[:cut], y.iloc[:cut], X.iloc[cut:].reset_index(drop=True), y.iloc[cut:]


class Fitted:
    """One fit and prediction, with what the checks look at: wall and CPU time, the
    runnable threads sampled while it trained, the probabilities as the backend gave them."""

    def __init__(self, cls, params: dict, budget: float, X, y, X_test, seed: int = 0):
        self.scratch = tempfile.mkdtemp(prefix="scratch-")
        self.model = cls(time_limit=budget, cores=1, memory_mb=2048, seed=seed,
                         scratch_dir=self.scratch, **params)  # fmt: skip
        self.budget = budget
        try:
            self._fit_and_predict(X, y, X_test)
        except BaseException:
            self.release()
            raise

    def _fit_and_predict(self, X, y, X_test):
        host = set(_children())  # the host's own processes are not the adapter's
        if hasattr(self.model, "prepare"):  # setup (a server's start) is not the budget's
            self.model.prepare(X, y)
        sampler = _RunnableSampler()
        t0, c0 = time.monotonic(), _cpu(host)
        sampler.start()
        try:
            self.model.fit(X, y)
        finally:
            sampler.stop()
        # the sampler's own reading of /proc is not the adapter's CPU
        self.fit_s, self.cpu_s = time.monotonic() - t0, _cpu(host) - c0 - sampler.cpu_s
        self.runnable = sampler.samples
        unchecked = getattr(self.model, "predict_proba_unchecked", None)
        self.raw = np.asarray((unchecked or self.model.predict_proba)(X_test), dtype=float)
        self.proba = np.asarray(self.model.predict_proba(X_test), dtype=float)
        self.pred = np.asarray(self.model.predict(X_test))

    def release(self) -> None:
        """What a host does when it is done with a model: an adapter that runs a server
        (H2O's JVM) stops it in ``shutdown()``; any other is simply dropped."""
        stop = getattr(self.model, "shutdown", None)
        if callable(stop):
            stop()


@contextmanager
def fitted(*args, **kwargs):
    """A :class:`Fitted`, released when the block ends."""
    f = Fitted(*args, **kwargs)
    try:
        yield f
    finally:
        f.release()


def _cpu(host: set[int]) -> float:
    """CPU seconds of this process, its reaped children and its live descendants but the
    ``host``'s: a server the adapter started (H2O's JVM) works the whole fit as a child
    that has not exited, which ``os.times()`` alone does not count."""
    import psutil

    t = os.times()
    total = t.user + t.system + t.children_user + t.children_system
    for p in psutil.Process().children(recursive=True):
        if p.pid in host:
            continue
        try:
            c = p.cpu_times()
        except psutil.Error:
            continue
        total += c.user + c.system + c.children_user + c.children_system
    return total


class _RunnableSampler:
    """Samples, every 50 ms, on how many CPUs the threads of this process and its children
    are runnable (Linux's state R), not counting the sampler: a count the machine's load
    cannot lower, unlike a CPU share."""

    def __init__(self):
        self.samples: list[int] = []
        self.cpu_s = 0.0  # the CPU time the sampling itself took
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self._thread.start()

    def stop(self):
        self._stop.set()
        self._thread.join()

    def _run(self):
        me, c0 = threading.get_native_id(), time.thread_time()
        while not self._stop.wait(0.05):
            self.samples.append(_runnable(os.getpid(), skip=me))
        self.cpu_s = time.thread_time() - c0

    @property
    def median(self) -> float:
        return float(np.median(self.samples)) if self.samples else 0.0


def _runnable(pid: int, skip: int) -> int:
    """How many CPUs the runnable threads (state R) of ``pid`` and its descendants are on,
    read from /proc (cheap enough to sample while a busy fit competes for the CPU): threads
    that take turns on one CPU count once, threads spread over several count each CPU."""
    cpus, todo = set(), [pid]
    while todo:
        for task in Path(f"/proc/{todo.pop()}/task").glob("*"):
            try:
                stat = (task / "stat").read_text()
                todo += [int(c) for c in (task / "children").read_text().split()]
            except (OSError, ValueError):
                continue
            fields = stat[stat.rindex(")") + 2:].split()  # fields from the 3rd (state) on
            if int(task.name) != skip and fields[0] == "R":
                cpus.add(fields[36])  # the 39th: the CPU it last ran on
    return len(cpus)


# -- the checks -----------------------------------------------------------------------------
def check_labels(cls, params, budget) -> tuple[bool, str]:
    """String, integer and boolean labels: classes_ sorted, one column per class in classes_
    order (the majority class has the largest mean probability), predict within classes_."""
    X, y, Xt, _ = data()
    codes = {v: i for i, v in enumerate(sorted(y.unique()))}
    kinds = {"string": y, "integer": y.map(lambda v: 3 + 10 * codes[v]),
             "boolean": y.map(lambda v: codes[v] == 0)}  # fmt: skip
    for kind, labels in kinds.items():
        with fitted(cls, params, budget, X, labels, Xt) as f:
            bad = _labels_wrong(kind, labels, f, Xt)
        if bad:
            return False, bad
    return True, "string, integer and boolean labels: shapes and class order right"


def _labels_wrong(kind: str, labels, f: Fitted, Xt) -> str | None:
    """Why one fit's classes, shapes or column order are wrong (None: they are right)."""
    expected = sorted(labels.unique())
    if list(f.model.classes_) != expected:
        return f"{kind} labels: classes_ {list(f.model.classes_)} != {expected}"
    if f.proba.shape != (len(Xt), len(expected)):
        return f"{kind} labels: predict_proba shape {f.proba.shape}"
    majority = expected.index(labels.value_counts().idxmax())
    if int(np.argmax(f.proba.mean(axis=0))) != majority:
        return (f"{kind} labels: column {int(np.argmax(f.proba.mean(axis=0)))} has the most "
                f"probability, not the majority class's ({majority}): columns out of "
                "classes_ order")  # fmt: skip
    if not set(f.pred) <= set(expected):
        return f"{kind} labels: predict returned labels outside classes_"
    return None


def check_probabilities(f: Fitted) -> tuple[bool, str]:
    if not np.isfinite(f.raw).all():
        return False, f"{int((~np.isfinite(f.raw)).sum())} probabilities not finite"
    worst = float(np.abs(f.raw.sum(axis=1) - 1).max())
    if worst > SUM_TOL or (f.raw < 0).any():
        return False, f"rows sum to 1 within {worst:.3g} (at most {SUM_TOL:g}), or negative"
    return True, f"finite, rows sum to 1 within {worst:.1g}"


def check_missing(cls, params, budget) -> tuple[bool, str]:
    if not cls.capabilities.missing_values:
        return True, "not declared (the harness skips tasks with missing values)"
    X, y, Xt, _ = data()
    rng = np.random.default_rng(1)
    X, Xt = X.mask(rng.random(X.shape) < 0.1), Xt.mask(rng.random(Xt.shape) < 0.1)
    try:
        with fitted(cls, params, budget, X, y, Xt) as f:
            return _usable(f, "10% missing cells in training and test rows")
    except Exception as e:
        return False, f"declares missing values, fails on 10% NaN: {type(e).__name__}: {e}"


def check_unseen(cls, params, budget) -> tuple[bool, str]:
    if not cls.capabilities.categoricals:
        return True, "not declared (the harness skips tasks with categorical features)"
    X, y, Xt, _ = data()
    X = X.assign(colour=pd.Categorical(np.resize(["red", "green", "blue"], len(X))))
    Xt = Xt.assign(colour=pd.Categorical(np.resize(["red", "violet"], len(Xt))))
    try:
        with fitted(cls, params, budget, X, y, Xt) as f:
            return _usable(f, "a category unseen in training predicted")
    except Exception as e:
        return False, f"a category unseen in training fails prediction: {type(e).__name__}: {e}"


def _usable(f: Fitted, what: str) -> tuple[bool, str]:
    """The fit worked: probabilities (as the harness repairs them) finite, one per class."""
    if f.proba.shape[1] != len(f.model.classes_) or not np.isfinite(f.proba).all():
        return False, f"{what}: probabilities not finite, or not one column per class"
    return True, what


def check_time(cls, params, budget) -> tuple[bool, str]:
    X, y, Xt, _ = data()
    ratios = []
    for b in (budget, 2 * budget):
        with fitted(cls, params, b, X, y, Xt) as f:
            ratios.append(f.fit_s / b)
    worst = max(ratios)
    text = ", ".join(f"{r:.2f} at {b:g} s" for r, b in zip(ratios, (budget, 2 * budget), strict=True))
    return worst <= TIME_SLACK, f"training / budget {text} (at most {TIME_SLACK:g})"


def check_cores(f: Fitted) -> tuple[bool, str]:
    share = f.cpu_s / f.fit_s if f.fit_s > 0.05 else 0.0
    runnable = float(np.median(f.runnable)) if f.runnable else 0.0
    ok = share <= CORE_SLACK and runnable <= 1
    return ok, (f"1 core: CPU share {share:.2f} (at most {CORE_SLACK:g}), median CPUs with a "
                f"runnable thread {runnable:g} (at most 1)")  # fmt: skip


def check_scratch(cwd: Path) -> tuple[bool, str]:
    written = sorted(p.name for p in cwd.iterdir())
    if written:
        return False, f"wrote {', '.join(written[:5])} in the working directory, not scratch_dir"
    return True, "nothing written outside scratch_dir (the working directory stays empty)"


def _children() -> dict[int, float]:
    """This process's descendants: pid -> start time."""
    import psutil

    out = {}
    for p in psutil.Process().children(recursive=True):
        try:
            out[p.pid] = p.create_time()
        except psutil.Error:
            continue
    return out


def check_processes(before: dict[int, float]) -> tuple[bool, str]:
    """No process the adapter started is left (``before``: what ran before the checks, e.g.
    the host's own helpers when the checks run inside another program)."""
    import psutil

    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        left = [pid for pid, start in _children().items() if before.get(pid) != start]
        if not left:
            return True, "no process left after predict"
        time.sleep(0.1)
    names = []
    for pid in left[:3]:
        try:
            names.append(psutil.Process(pid).name())
        except psutil.Error:
            names.append(str(pid))
    return False, f"left {len(left)} processes: {', '.join(names)}"


def check_released(f: Fitted | None, before: dict[int, float]) -> tuple[bool, str]:
    """Last: the checked fit is released as a host releases a model it is done with (the
    other checks' fits already were), then nothing the adapter started may be left."""
    if f is not None:
        f.release()  # if shutdown() raises, the check fails with its exception
    return check_processes(before)


def check_saved(f: Fitted) -> tuple[bool, str]:
    folder = Path(tempfile.mkdtemp(prefix="model-"))
    fmt = f.model.save_model(str(folder))
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    if not fmt or size <= 0:
        return False, f"save_model wrote {size} bytes, format {fmt!r}"
    return True, f"{fmt}, {size / 1024:.0f} KiB"


def check_trajectory(f: Fitted) -> tuple[bool, str]:
    from automl_bench_adapters.trajectory import COLUMNS

    tr = f.model.trajectory()
    if tr is None:
        return True, "none recorded"
    if missing := [c for c in COLUMNS if c not in tr.columns]:
        return False, f"columns missing: {', '.join(missing)}"
    elapsed, best = tr["elapsed_s"].to_numpy(float), tr["best_loss"].to_numpy(float)
    if (np.diff(elapsed) < 0).any() or (np.diff(best) > 1e-12).any():
        return False, "elapsed_s must not decrease nor best_loss increase"
    if not np.isfinite(best).all() or len(tr) and elapsed.max() > f.fit_s * TIME_SLACK:
        return False, f"best_loss not finite, or points after fit ended ({f.fit_s:.1f} s)"
    return True, f"{len(tr)} points, well formed"


def check_seed(cls, params, budget) -> tuple[bool, str]:
    if not getattr(cls, "reproducible", False):
        return True, "not declared reproducible (reproducible = False)"
    X, y, Xt, _ = data()
    # a generous budget: a reproducible adapter's work ends on its own, and one cut short by
    # its deadline may have done less of it the second time
    with fitted(cls, params, 10 * budget, X, y, Xt, seed=7) as a, \
            fitted(cls, params, 10 * budget, X, y, Xt, seed=7) as b:
        return _same_predictions(a, b)


def _same_predictions(a: Fitted, b: Fitted) -> tuple[bool, str]:
    stops = {getattr(f.model, "stop_reason_", None) for f in (a, b)}
    if stops & {"deadline", "budget"}:
        return True, f"not compared: a fit was cut short ({', '.join(map(str, stops))})"
    if not np.allclose(a.proba, b.proba):
        return False, "two fits with seed 7 predict different probabilities"
    return True, "two fits with one seed predict the same"


def check_clone(f: Fitted) -> tuple[bool, str]:
    from sklearn.base import clone

    params = f.model.get_params()
    twin = clone(f.model)
    if type(twin) is not type(f.model) or twin.get_params() != params:
        return False, "clone() does not give the same parameters back"
    if hasattr(twin, "classes_"):
        return False, "clone() kept fitted state"
    return True, f"get_params / set_params / clone ({len(params)} parameters)"


def check_stop(f: Fitted) -> tuple[bool, str]:
    from automl_bench_adapters.base import STOP_REASONS

    stop = getattr(f.model, "stop_reason_", None)
    if stop is not None and stop not in STOP_REASONS:
        return False, f"stop_reason_ {stop!r} not one of {', '.join(STOP_REASONS)}"
    return True, f"stop_reason_ {stop}"


def run_checks(cls, params: dict, budget: float, emit) -> None:
    """Run every check; ``emit(name, passed, why)`` for each, in CHECKS order."""

    def guarded(name, fn, *args):
        try:
            ok, why = fn(*args)
        except Exception as e:  # a check that raises fails, with the exception
            ok, why = False, f"{type(e).__name__}: {str(e)[:300]}"
        emit(name, bool(ok), why)

    X, y, Xt, _ = data()
    before = _children()
    cwd, back = Path(tempfile.mkdtemp(prefix="cwd-")), os.getcwd()
    os.chdir(cwd)  # the adapter's working directory: the scratch check looks at it
    try:
        _run_checks(cls, params, budget, guarded, (cwd, before), (X, y, Xt))
    finally:
        os.chdir(back)


def _run_checks(cls, params, budget, guarded, start, fit_data) -> None:
    cwd, before = start
    try:
        f = Fitted(cls, params, budget, *fit_data)
    except Exception as e:
        f, error = None, f"fit failed: {type(e).__name__}: {str(e)[:300]}"
    guarded("labels", check_labels, cls, params, budget)
    per_fit = (("probabilities", check_probabilities), ("cores", check_cores),
               ("model saved", check_saved), ("trajectory", check_trajectory),
               ("clone", check_clone), ("stop reason", check_stop))  # fmt: skip
    results = {}
    for name, fn in per_fit:
        results[name] = (lambda fn=fn: fn(f)) if f is not None else (lambda: (False, error))
    emit_order = {"missing values": lambda: check_missing(cls, params, budget),
                  "unseen categories": lambda: check_unseen(cls, params, budget),
                  "time limit": lambda: check_time(cls, params, budget),
                  "scratch only": lambda: check_scratch(cwd),
                  "seed": lambda: check_seed(cls, params, budget), **results}  # fmt: skip
    for name in CHECKS[1:-1]:
        guarded(name, emit_order[name])
    guarded("no process left", check_released, f, before)


def main() -> int:
    request = json.loads(sys.stdin.read())
    for folder in request.get("paths") or ():
        sys.path.insert(0, folder)
    module, _, name = request["adapter"].partition(":")
    cls = getattr(importlib.import_module(module), name)

    def emit(check, passed, why):
        print("CHECK " + json.dumps({"check": check, "passed": passed, "why": why}), flush=True)

    run_checks(cls, request.get("params") or {}, float(request["budget"]), emit)
    return 0


if __name__ == "__main__":
    sys.exit(main())
