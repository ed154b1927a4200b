"""OpenML through the real `openml` package, offline, against the real cache in tests/data/openml-cache.

One CLI run covers acceptance points 1 and 4: task 1882 (anneal, test server) runs its 10
OpenML folds from the cache, while a task whose server is unreachable fails fast as failed
jobs. Further tests: a stalled server, openml's cache deletion kept off the user's cache,
suite expansion offline.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import socket
import threading
import time
from pathlib import Path

import arff
import numpy as np
import pandas as pd
import pytest
import requests
from conftest import run_cli

from automl_bench.data.sources import SourceContext, TaskUnavailable
from automl_bench.data.sources import openml_tasks as om
from automl_bench.errors import BadInput
from automl_bench.planning.suite import OpenMLSource, load_suite

TEST_SERVER = "https://test.openml.org/api/v1/xml"
UNREACHABLE = "http://127.0.0.1:9/api/v1/xml"  # nothing listens on the discard port

SUITE = f"""
name: anneal-openml
folds: 10
constraint: {{budget_s: 5, cores: 1, memory_mb: 1024}}
frameworks: [constant]
tasks:
  - name: anneal
    openml: {{task: 1882, server: test}}
  - name: anneal-unreachable
    openml: {{task: 1882, server: "{UNREACHABLE}"}}
"""


def tree_digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def datasplits(cache: Path, repeat: int = 0) -> dict[int, dict[str, list[int]]]:
    """Fold -> {'train': rowids, 'test': rowids} in file order, read straight from the ARFF."""
    path = cache / "org/openml/test/tasks/1882/datasplits.arff"
    d = arff.loads(path.read_text())
    names = [a[0] for a in d["attributes"]]
    folds: dict = {}
    for row in d["data"]:
        r = dict(zip(names, row, strict=True))
        if int(r["repeat"]) == repeat:
            f = folds.setdefault(int(r["fold"]), {"train": [], "test": []})
            f[r["type"].lower()].append(int(r["rowid"]))
    return folds


@pytest.fixture(scope="module")
def anneal_run(tmp_path_factory, openml_cache):
    d = tmp_path_factory.mktemp("openml")
    before = tree_digest(openml_cache)
    suite = d / "suite.yaml"
    suite.write_text(SUITE)
    out, cache = d / "run", d / "cache"
    args = ("run", "--suite", suite, "--out", out, "--openml-cache", openml_cache,
            "--cache-dir", cache, "--parallel", 2)  # fmt: skip
    proc = run_cli(*args)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {"dir": d, "suite": suite, "out": out, "cache": cache, "proc": proc,
            "before": before, "args": args}  # fmt: skip


def test_anneal_runs_its_ten_openml_folds_offline(anneal_run):
    df = pd.read_csv(anneal_run["out"] / "results.csv")
    anneal = df[df["task"] == "anneal"]
    assert sorted(anneal["fold"]) == list(range(10))
    assert (anneal["status"] == "ok").all(), anneal["error_message"].tolist()
    assert (anneal["id"] == "test.openml.org/t/1882").all()
    assert (anneal["acc"] > 0.7).all()  # the prior of anneal's majority class (684 / 898)


def test_fold_indices_are_exactly_those_of_datasplits_arff(anneal_run, openml_cache):
    folds = json.loads((anneal_run["out"] / "tasks/anneal/folds.json").read_text())
    expected = datasplits(openml_cache)
    assert len(folds) == len(expected) == 10
    for i, fold in enumerate(folds):
        assert fold["train"] == expected[i]["train"]
        assert fold["test"] == expected[i]["test"]
        assert not set(fold["train"]) & set(fold["test"])
        assert len(fold["train"]) + len(fold["test"]) == 898


def test_profile_is_stored_and_all_missing_columns_dropped_with_a_log(anneal_run):
    prof = json.loads((anneal_run["out"] / "tasks/anneal/profile.json").read_text())
    assert prof["rows"] == 898 and prof["classes"] == 5
    assert prof["features"] == 38 - 6 and prof["numeric"] + prof["categorical"] == 32
    assert prof["majority_class_rows"] == 684 and prof["splits"] == "source"
    assert "dropped 6 all-missing column(s)" in prof["fixes"][0]
    assert "dropped 6 all-missing column(s)" in anneal_run["proc"].stderr


def test_unreachable_server_fails_that_task_fast_with_a_clear_message(anneal_run):
    df = pd.read_csv(anneal_run["out"] / "results.csv")
    bad = df[df["task"] == "anneal-unreachable"]
    assert len(bad) == 10  # the suite's folds, each a failed job
    assert (bad["status"] == "failed").all() and (bad["error_type"] == "TaskUnavailable").all()
    # the probe's 3 s timeouts, not openml's unbounded wait (nor the 1800 s deadline)
    assert (bad["duration"] < 60).all(), bad["duration"].tolist()
    msg = bad["error_message"].iloc[0]
    assert "OpenML task 1882" in msg and "127.0.0.1:9" in msg and "unreachable" in msg
    assert "task 'anneal-unreachable' unavailable" in anneal_run["proc"].stderr


def test_users_cache_is_byte_for_byte_unchanged(anneal_run, openml_cache):
    assert tree_digest(openml_cache) == anneal_run["before"]


def test_rerun_reads_the_task_cache_and_resumes(anneal_run):
    entries = list((anneal_run["cache"] / "tasks").glob("openml-1882-*"))
    assert len(entries) == 1 and (entries[0] / "splits.npz").exists()
    again = run_cli(*anneal_run["args"])
    assert again.returncode == 0, again.stderr[-2000:]
    # anneal: same digest from the cache, nothing to rerun; the unreachable task is retried
    assert "20 jobs planned: 10 done, 10 to run" in again.stderr


def test_show_and_list_print_profiles(anneal_run, openml_cache):
    shown = run_cli("show", anneal_run["out"])
    assert shown.returncode == 0 and "Task profiles" in shown.stdout
    assert "898" in shown.stdout and "test.openml.org/t/1882" in shown.stdout


# ------------------------------------------------------------------ in-process, no jobs


def _ctx(tmp_path, cache) -> SourceContext:
    return SourceContext(base_dir=tmp_path, openml_cache=cache, cache_root=tmp_path / "bench")


@pytest.fixture
def stalled_server():
    """A server that accepts connections and never answers (a half-dead proxy)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    conns, stop = [], threading.Event()

    def accept():
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                conns.append(sock.accept()[0])
            except OSError:
                pass

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/api/v1/xml"
    stop.set()
    t.join()
    for c in conns:
        c.close()
    sock.close()


def test_stalled_server_gives_up_at_the_probe_timeout(tmp_path, stalled_server):
    src = OpenMLSource(task=1882, server=stalled_server)
    t0 = time.perf_counter()
    with pytest.raises(TaskUnavailable, match="unreachable"):
        om.load(src, _ctx(tmp_path, tmp_path / "empty-cache"))
    # the probe's 3 s read timeout ended it; openml alone would wait without end (up to the
    # 1800 s deadline)
    assert time.perf_counter() - t0 < 60


def test_openml_deletes_a_folder_on_failed_refresh_but_never_the_users(tmp_path, openml_cache):
    """A corrupt description.xml makes openml refresh it; offline the refresh fails and
    openml removes the dataset's and task's cache folders. It does so in our work copy only."""
    import openml

    user = tmp_path / "user-cache"
    shutil.copytree(openml_cache, user)
    desc = user / "org/openml/test/datasets/2/description.xml"
    desc.write_text("<not xml")
    before = tree_digest(user)

    with pytest.raises(TaskUnavailable, match="OpenML task 1882"):
        om.load(OpenMLSource(task=1882, server="test"), _ctx(tmp_path, user))
    assert tree_digest(user) == before

    # the hazard is real: openml pointed straight at a (copied) cache deletes the folder
    naked = tmp_path / "naked"
    shutil.copytree(user, naked)
    with om._openml_pointed_at(TEST_SERVER, naked, skip_parquet=False):
        with pytest.raises(requests.ConnectionError):
            openml.tasks.get_task(1882, download_splits=True, download_data=True)
    assert not (naked / "org/openml/test/datasets/2").exists()


def test_unreadable_cached_split_file_is_bad_input(tmp_path, openml_cache):
    user = tmp_path / "user-cache"
    shutil.copytree(openml_cache, user)
    (user / "org/openml/test/tasks/1882/datasplits.arff").write_text("@relation x\n@data\n1,2\n")
    with pytest.raises(BadInput, match="unreadable file in the OpenML cache"):
        om.load(OpenMLSource(task=1882, server="test"), _ctx(tmp_path, user))


def test_library_load_matches_openml_splits(tmp_path, openml_cache):
    data = om.load(OpenMLSource(task=1882, server="test"), _ctx(tmp_path, openml_cache))
    assert data.X.shape == (898, 38) and data.y.nunique() == 5
    assert len(data.splits) == 10 and data.fingerprint.startswith("openml-1882-")
    assert data.fingerprint == om.fingerprint(OpenMLSource(task=1882, server="test"),
                                              _ctx(tmp_path, openml_cache))  # fmt: skip
    expected = datasplits(openml_cache)
    np.testing.assert_array_equal(data.splits[3][1], expected[3]["test"])
    assert not list((tmp_path / "bench").glob("openml-work-*"))  # work copies removed


def test_shipped_openml_suites_validate():
    hd, _ = load_suite("openml-hd-multiclass")
    ids = {t.name: t.openml.task for t in hd.tasks}
    assert ids == {
        "robert": 359986, "dilbert": 168909, "micro-mass": 359953, "cnae-9": 359957,
        "fabert": 168910, "Fashion-MNIST": 359976, "mfeat-factors": 359961,
        "volkert": 359985, "dna": 359964, "helena": 359984,
    }  # fmt: skip
    amlb, _ = load_suite("amlb-classification")
    assert amlb.openml_suite == 271 and amlb.tasks == []


def test_shipped_openml_suites_fail_fast_offline_per_task(tmp_path):
    from automl_bench.run.options import RunOptions
    from automl_bench.run.prepare import prepare

    opts = RunOptions(suite="openml-hd-multiclass", out=tmp_path / "run",
                      openml_cache=tmp_path / "empty", cache_dir=tmp_path / "c")  # fmt: skip
    t0 = time.perf_counter()
    prep = prepare(opts)
    assert time.perf_counter() - t0 < 60 * 10  # each task within its probe, never the deadline
    assert [u.name for u in prep.unavailable] == [t.name for t in prep.suite.tasks]
    assert all(u.seconds < 60 for u in prep.unavailable)
    assert all("unreachable" in u.reason for u in prep.unavailable)

    amlb = prepare(RunOptions(suite="amlb-classification", cache_dir=tmp_path / "c"))
    [u] = amlb.unavailable
    assert u.name == "openml-suite-271" and u.seconds < 60 and "OpenML suite 271" in u.reason


def test_suite_expansion_uses_the_cached_task_list(tmp_path, openml_cache):
    """A task list stored by an earlier online run expands offline (here: suite 99 -> 1882)."""
    from automl_bench.run.options import RunOptions
    from automl_bench.run.prepare import prepare

    listing = om.server_dir(tmp_path / "c", TEST_SERVER) / "suites" / "99.json"
    listing.parent.mkdir(parents=True)
    listing.write_text(json.dumps({"suite": 99, "tasks": [1882]}))
    suite = tmp_path / "s.yaml"
    suite.write_text("name: s\nfolds: 10\nconstraint: {budget_s: 5}\nframeworks: [constant]\n"
                     "openml_suite: 99\n")  # fmt: skip
    prep = prepare(RunOptions(suite=str(suite), openml_cache=openml_cache,
                              openml_server="test", cache_dir=tmp_path / "c"))  # fmt: skip
    assert [t.name for t in prep.tasks] == ["openml-t-1882"] and not prep.unavailable
    assert len(prep.tasks[0].splits) == 10


def test_task_unavailable_then_available_replaces_its_failed_rows(tmp_path, openml_cache):
    suite = tmp_path / "s.yaml"
    suite.write_text("name: s\nfolds: 2\nconstraint: {budget_s: 5}\nframeworks: [constant]\n"
                     "tasks:\n  - name: anneal\n    openml: {task: 1882, server: test}\n")  # fmt: skip
    out = tmp_path / "run"
    common = ("run", "--suite", suite, "--out", out, "--folds", 1, "--cache-dir", tmp_path / "c")
    first = run_cli(*common, "--openml-cache", tmp_path / "empty")  # not cached: offline fails
    assert first.returncode == 0, first.stderr[-2000:]
    df = pd.read_csv(out / "results.csv")
    assert list(df["status"]) == ["failed"] and df["error_type"].item() == "TaskUnavailable"
    second = run_cli(*common, "--openml-cache", openml_cache)
    assert second.returncode == 0, second.stderr[-2000:]
    df = pd.read_csv(out / "results.csv")
    assert list(df["status"]) == ["ok"] and df["fold"].item() == 0  # the failed row is gone
