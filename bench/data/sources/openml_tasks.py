"""OpenML tasks and suites through the ``openml`` package, safe for the user's cache and offline.

A task (``openml: {task: 1882, server: test}``) is loaded with ``openml.tasks.get_task`` and
its own train/test splits (repeat 0, every fold: ``task.get_train_test_split_indices``).

The user's OpenML cache (``--openml-cache`` / ``$AUTOML_BENCH_OPENML_CACHE``, else openml's
own configured cache) is never handed to openml: openml deletes a task's or dataset's cache
folder when a refresh fails, and writes derived files (pickles) next to the raw ones. We copy
the task's and its dataset's folders into a private work directory, point openml there, and
afterwards copy back only raw files that openml downloaded and the user's cache lacked
(additive; never overwrite, never delete).

Offline behaviour: openml 0.15 sends HTTP requests without a timeout and retries with sleeps
(policy "human": 1 s, 2 s, ... per call; "robot": up to ~60 s per retry, 50 retries). So we
set ``retry_policy="human", connection_n_retries=1`` (no retry sleeps), and when the task is
not complete in the cache, probe the server first with a short timeout (PROBE_S, including
DNS); an unreachable server makes the task ``TaskUnavailable`` within seconds. The whole
openml call also runs under a deadline ($AUTOML_BENCH_OPENML_TIMEOUT, default 1800 s) so a
stalled download cannot hang a run.

Suites (``openml_suite: 271`` in a suite file) expand to their task ids with
``openml.study.get_suite``; the list is kept in bench's cache for offline reuse.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from automl_bench.data.sources import SourceContext, TaskData, TaskUnavailable
from automl_bench.errors import BadInput

SERVERS = {
    "www": "https://www.openml.org/api/v1/xml",
    "production": "https://www.openml.org/api/v1/xml",
    "test": "https://test.openml.org/api/v1/xml",
}
PROBE_S = 4.0  # reachability check of the server, DNS included
CONNECT_S, READ_S = 3.0, 3.0
TIMEOUT_ENV = "AUTOML_BENCH_OPENML_TIMEOUT"
# files openml downloads (raw); anything else in its cache folders is derived (pickles ...)
RAW_TASK_FILES = ("task.xml", "datasplits.arff")
RAW_DATASET_FILES = ("description.xml", "features.xml", "qualities.xml", "dataset.arff")


def _require_openml():
    try:
        import openml
    except ImportError:
        raise BadInput(
            "OpenML tasks need the openml package: pip install 'automl-bench[openml]'"
        ) from None
    return openml


def resolve_server(name: str | None, ctx: SourceContext) -> str:
    """Task's own server, else --openml-server / $AUTOML_BENCH_OPENML_SERVER, else openml's."""
    chosen = name or ctx.openml_server
    if not chosen:
        return _require_openml().config.server
    return SERVERS.get(chosen, chosen).rstrip("/")


def user_cache_root(ctx: SourceContext) -> Path:
    if ctx.openml_cache is not None:
        return Path(ctx.openml_cache).expanduser().resolve()
    cachedir = _require_openml().config.get_config_as_dict()["cachedir"]
    return Path(cachedir).expanduser().resolve()


def server_dir(root: Path, server: str) -> Path:
    """openml's per-server cache folder: root/<reversed host parts>, e.g. org/openml/test."""
    return Path(root).joinpath(*urlparse(server).netloc.split(".")[::-1])


def _dataset_id(task_xml: Path) -> int | None:
    import xmltodict

    try:
        inputs = xmltodict.parse(task_xml.read_text())["oml:task"]["oml:input"]
        for inp in inputs if isinstance(inputs, list) else [inputs]:
            if inp.get("@name") == "source_data":
                return int(inp["oml:data_set"]["oml:data_set_id"])
    except Exception:
        return None
    return None


def _raw_files(srv: Path, tid: int) -> list[Path] | None:
    """The raw files a cache-only load of the task needs, or None if any is missing."""
    tdir = srv / "tasks" / str(tid)
    files = [tdir / n for n in RAW_TASK_FILES]
    if not all(f.is_file() for f in files):
        return None
    did = _dataset_id(files[0])
    if did is None:
        return None
    ddir = srv / "datasets" / str(did)
    data = [ddir / f"dataset_{did}.pq", ddir / "dataset.arff"]
    data = [f for f in data if f.is_file()][:1]
    meta = [ddir / "description.xml", ddir / "features.xml"]
    if not data or not all(f.is_file() for f in meta):
        return None
    return files + meta + data


def _hash_files(server: str, tid: int, files: list[Path], srv: Path) -> str:
    h = hashlib.sha256(f"{server}\0{tid}".encode())
    for f in files:
        h.update(str(f.relative_to(srv)).encode() + b"\0")
        with open(f, "rb") as fh:
            while chunk := fh.read(1 << 22):
                h.update(chunk)
    return f"openml-{tid}-" + h.hexdigest()[:24]


def fingerprint(source, ctx: SourceContext) -> str | None:
    server = resolve_server(source.server, ctx)
    srv = server_dir(user_cache_root(ctx), server)
    files = _raw_files(srv, source.task)
    return _hash_files(server, source.task, files, srv) if files else None


def _with_deadline(fn, seconds: float, what: str, kind: str = "openml"):
    """Run fn in a daemon thread; past the deadline raise TaskUnavailable and abandon it."""
    box: dict = {}

    def target():
        try:
            box["value"] = fn()
        except BaseException as e:  # handed to the caller
            box["error"] = e

    t = threading.Thread(target=target, daemon=True, name=f"{kind}: {what}")
    t.start()
    t.join(seconds)
    if t.is_alive():
        raise TaskUnavailable(f"{what}: no answer within {seconds:g} s (abandoned)")
    if "error" in box:
        raise box["error"]
    return box.get("value")


def _probe(server: str, what: str, cache: Path) -> None:
    import requests

    def get():
        return requests.get(server, timeout=(CONNECT_S, READ_S))

    t0 = time.perf_counter()
    try:
        _with_deadline(get, PROBE_S, what, kind="probe")
    except TaskUnavailable:
        reason = f"no answer within {PROBE_S:g} s"
    except requests.RequestException as e:
        reason = _short(e)
    else:
        return
    raise TaskUnavailable(
        f"{what}: OpenML server {server} unreachable ({reason}, after "
        f"{time.perf_counter() - t0:.1f} s) and not complete in the OpenML cache {cache}; "
        "connect to the internet or point --openml-cache / AUTOML_BENCH_OPENML_CACHE at a "
        "cache that holds it"
    )


def _short(e: BaseException) -> str:
    text = str(e)
    for marker in ("NameResolutionError", "NewConnectionError", "ConnectTimeout", "ReadTimeout"):
        if marker in text:
            tail = text.split(marker, 1)[1].split(":", 2)[-1].strip(" )\"'")
            return f"{type(e).__name__} [{marker}]: {tail[:160]}"
    return f"{type(e).__name__}: {text[:200]}"


@contextlib.contextmanager
def _openml_pointed_at(server: str, work_root: Path, skip_parquet: bool):
    """Point openml at the private work copy, with no retry sleeps; restore afterwards."""
    import openml

    cfg = openml.config
    saved = (cfg.server, cfg.get_config_as_dict()["cachedir"], cfg.retry_policy,
             cfg.connection_n_retries, os.environ.get("OPENML_SKIP_PARQUET"))  # fmt: skip
    cfg.server = server
    cfg.set_root_cache_directory(work_root)
    cfg.set_retry_policy("human", 1)
    if skip_parquet:
        os.environ["OPENML_SKIP_PARQUET"] = "true"
    try:
        yield
    finally:
        # After an abandoned (timed-out) call its thread may still run: leave openml pointed
        # at the work copy rather than at the user's cache.
        if not any(t.name.startswith("openml: ") and t.is_alive() for t in threading.enumerate()):
            cfg.server, root = saved[0], saved[1]
            cfg.set_root_cache_directory(root)
            cfg.set_retry_policy(saved[2], saved[3])
        if skip_parquet:
            if saved[4] is None:
                os.environ.pop("OPENML_SKIP_PARQUET", None)
            else:
                os.environ["OPENML_SKIP_PARQUET"] = saved[4]


def _copy_in(user_srv: Path, work_srv: Path, tid: int) -> None:
    tdir = user_srv / "tasks" / str(tid)
    if tdir.is_dir():
        shutil.copytree(tdir, work_srv / "tasks" / str(tid), dirs_exist_ok=True)
        did = _dataset_id(tdir / "task.xml") if (tdir / "task.xml").is_file() else None
        if did is not None and (user_srv / "datasets" / str(did)).is_dir():
            shutil.copytree(user_srv / "datasets" / str(did),
                            work_srv / "datasets" / str(did), dirs_exist_ok=True)  # fmt: skip


def _copy_back(work_srv: Path, user_srv: Path, tid: int, did: int) -> None:
    """Add raw files openml downloaded to the user's cache; never overwrite or delete."""
    pairs = [("tasks", tid, RAW_TASK_FILES),
             ("datasets", did, (*RAW_DATASET_FILES, f"dataset_{did}.pq"))]  # fmt: skip
    for sub, ident, names in pairs:
        for n in names:
            src, dst = work_srv / sub / str(ident) / n, user_srv / sub / str(ident) / n
            if src.is_file() and not dst.exists():
                try:
                    dst.parent.mkdir(parents=True, exist_ok=True)
                    tmp = dst.with_name(f".{n}.{os.getpid()}.tmp")
                    shutil.copy2(src, tmp)
                    tmp.replace(dst)
                except OSError:
                    return  # a read-only cache stays as it is


def _fetch(tid: int, what: str):
    import openml
    from openml.tasks import OpenMLClassificationTask

    task = openml.tasks.get_task(tid, download_splits=True, download_data=True,
                                 download_qualities=False, download_features_meta_data=False)  # fmt: skip
    if not isinstance(task, OpenMLClassificationTask):
        raise BadInput(f"{what}: is a {task.task_type!r} task; only classification is supported")
    ds = task.get_dataset()
    X, y, _, _ = ds.get_data(target=task.target_name)
    _, n_folds, _ = task.get_split_dimensions()
    splits = []
    for f in range(n_folds):
        tr, te = task.get_train_test_split_indices(fold=f, repeat=0, sample=0)
        splits.append((np.asarray(tr, dtype=np.int64), np.asarray(te, dtype=np.int64)))
    return task, ds, X, y, splits


def _errors():
    import arff
    import requests
    from openml import exceptions as oe

    network = (requests.RequestException, oe.OpenMLServerError, oe.OpenMLServerException,
               oe.OpenMLHashException, ConnectionError, TimeoutError)  # fmt: skip
    return network, (arff.ArffException, oe.OpenMLCacheException)


def load(source, ctx: SourceContext) -> TaskData:
    _require_openml()
    tid = source.task
    server = resolve_server(source.server, ctx)
    what = f"OpenML task {tid} (server {server})"
    user_root = user_cache_root(ctx)
    user_srv = server_dir(user_root, server)
    cached = _raw_files(user_srv, tid)
    if cached is None:
        _probe(server, what, user_root)

    base = Path(ctx.cache_root) if ctx.cache_root else None
    if base is not None:
        base.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="openml-work-", dir=base))
    work_srv = server_dir(work, server)
    network, corrupt = _errors()
    try:
        _copy_in(user_srv, work_srv, tid)
        skip_pq = bool(cached) and not any(f.suffix == ".pq" for f in cached)
        timeout = float(os.environ.get(TIMEOUT_ENV, 1800))
        with _openml_pointed_at(server, work, skip_parquet=skip_pq):
            try:
                task, ds, X, y, splits = _with_deadline(lambda: _fetch(tid, what), timeout, what)
            except network as e:
                raise TaskUnavailable(f"{what}: {_short(e)}") from None
            except corrupt as e:
                raise BadInput(f"{what}: unreadable file in the OpenML cache {user_root}: {e}"
                               ) from None  # fmt: skip
        work_files = _raw_files(work_srv, tid)
        fp = _hash_files(server, tid, work_files, work_srv) if work_files else None
        if cached is None:
            _copy_back(work_srv, user_srv, tid, task.dataset_id)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    y = y.astype(object).where(y.notna(), None) if str(y.dtype) == "category" else y
    host = urlparse(server).netloc
    return TaskData(
        X=X.reset_index(drop=True),
        y=y.reset_index(drop=True).rename("target"),
        source_id=f"{host}/t/{tid}",
        splits=splits,
        origin=f"OpenML task {tid} (dataset {task.dataset_id} {ds.name!r}, server {server})",
        fingerprint=fp,
    )


def suite_task_ids(suite_id: int, ctx: SourceContext, server_name: str | None = None) -> list[int]:
    """Task ids of an OpenML benchmark suite; fetched once, then read from automl_bench's cache."""
    server = resolve_server(server_name, ctx)
    what = f"OpenML suite {suite_id} (server {server})"
    root = Path(ctx.cache_root) if ctx.cache_root else None
    store = server_dir(root, server) / "suites" / f"{suite_id}.json" if root else None
    if store is not None and store.is_file():
        return [int(t) for t in json.loads(store.read_text())["tasks"]]
    _probe(server, what, root or Path("."))
    import openml

    network, _ = _errors()
    with _openml_pointed_at(server, Path(tempfile.gettempdir()), skip_parquet=False):
        try:
            suite = _with_deadline(lambda: openml.study.get_suite(suite_id), 120, what)
        except network as e:
            raise TaskUnavailable(f"{what}: {_short(e)}") from None
    tasks = [int(t) for t in suite.tasks]
    if store is not None:
        store.parent.mkdir(parents=True, exist_ok=True)
        store.write_text(json.dumps({"suite": suite_id, "name": suite.name, "tasks": tasks}))
    return tasks
