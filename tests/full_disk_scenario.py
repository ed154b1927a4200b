"""Run under ``unshare --mount`` (and ``--user --map-root-user`` when not root) by
tests/test_full_disk.py: a private 8 MB tmpfs holds a run directory; once the run has stored
its first row the disk is filled to the last byte. Prints one JSON line: what the run said,
then what a rerun (with the space freed) did."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path


def _fill_after_first_row(mnt: Path, db: Path, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.2) as c:
                if c.execute("select count(*) from results").fetchone()[0] >= 1:
                    break
        except sqlite3.Error:
            pass
        time.sleep(0.05)
    with open(mnt / "filler", "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass


def main(mnt: str, cache: str) -> None:
    mnt = Path(mnt)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mnt)], check=True)
    out = mnt / "run"
    argv = [sys.executable, "-m", "automl_bench", "run", "--suite", "smoke", "--frameworks",
            "constant,rf", "--out", str(out), "--no-report", "--no-inference", "--cold-start"]
    env = {**os.environ, "AUTOML_BENCH_CACHE": cache}
    stop = threading.Event()
    filler = threading.Thread(target=_fill_after_first_row,
                              args=(mnt, out / "results.sqlite", stop))  # fmt: skip
    filler.start()
    first = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)
    stop.set()
    filler.join()
    with sqlite3.connect(out / "results.sqlite") as c:
        kept = c.execute("select count(*) from results").fetchone()[0]
        integrity = c.execute("pragma integrity_check").fetchone()[0]
    (mnt / "filler").unlink()
    second = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)
    with sqlite3.connect(out / "results.sqlite") as c:
        rows = c.execute("select framework, task, fold, status from results").fetchall()
    print(json.dumps({"first": [first.returncode, first.stdout, first.stderr],
                      "kept": kept, "integrity": integrity,
                      "second": [second.returncode, second.stdout, second.stderr],
                      "rows": rows}))  # fmt: skip


if __name__ == "__main__":
    main(*sys.argv[1:])
