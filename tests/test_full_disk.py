"""A disk that fills mid-run: the run ends with exit 2 naming what it could not write, no
traceback; the rows stored before stay, the store stays consistent, and once space is freed
the same command completes the run with every job stored once.

The full disk is a real one: a private tmpfs of 8 MB, mounted in a mount namespace of the
test's own (``unshare``), filled to the last byte once the run has stored its first row."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def _unshare() -> list[str]:
    if shutil.which("unshare") is None:
        pytest.skip("needs unshare (util-linux) to mount a private tmpfs")
    cmd = ["unshare", "--mount"] if os.geteuid() == 0 else \
        ["unshare", "--user", "--map-root-user", "--mount"]  # fmt: skip
    probe = subprocess.run([*cmd, "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"this kernel does not allow a private mount namespace ({probe.stderr.strip()})")
    return cmd


def test_a_disk_that_fills_mid_run_exits_2_and_the_rerun_completes(tmp_path):
    mnt = tmp_path / "disk"
    mnt.mkdir()
    p = subprocess.run([*_unshare(), sys.executable, str(HERE / "full_disk_scenario.py"),
                        str(mnt), str(tmp_path / "cache")],
                       capture_output=True, text=True, timeout=1500)  # fmt: skip
    assert p.returncode == 0, p.stderr[-3000:]
    got = json.loads(p.stdout.strip().splitlines()[-1])
    code, _, err = got["first"]
    assert code == 2, err[-3000:]
    assert "Traceback" not in err and "No space left on device" in " ".join(err.split())
    assert got["kept"] >= 1 and got["integrity"] == "ok"
    code, out, err = got["second"]
    assert code == 0, err[-3000:]
    keys = [tuple(r[:3]) for r in got["rows"]]
    assert len(keys) == 8 and len(set(keys)) == 8  # every job once: none lost, none twice
    assert {r[3] for r in got["rows"]} == {"ok"}, got["rows"]
