"""The launcher's client: the driver's handle on one launcher process
(:mod:`automl_bench.execution.launcher`, the server), which it starts and talks to with JSON
lines: ``start`` and ``preload`` requests on the launcher's stdin, events on its stdout."""

from __future__ import annotations

import json
import os
import sys
import time


class LauncherError(RuntimeError):
    pass


class Launcher:
    """The driver's handle on one launcher process."""

    def __init__(self, env: dict, preload: list[str], warm: bool = True, wait: bool = True):
        import subprocess

        mode = [] if warm else ["--cold"]  # only exec's workers: skip the warm imports
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "automl_bench.execution.launcher", str(os.getpid()), *mode, *preload],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            start_new_session=True,  # a signal to the driver's group must not reach it
            bufsize=0,
        )
        self.fd = self.proc.stdout.fileno()
        os.set_blocking(self.fd, False)
        self.buf = b""
        self.dead = False
        self.pending: list[dict] = []
        self.info: dict = {}
        self.warm = warm
        if wait:
            self.wait_ready()

    def wait_ready(self, timeout: float = 300.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.info:
            for ev in self._read(0.2):
                if ev.get("event") == "ready":
                    self.info = ev
                else:
                    self.pending.append(ev)
            if self.dead:
                raise LauncherError(
                    f"the worker launcher exited with code {self.proc.wait()} before it was "
                    "ready (its error is printed above)"
                )
            if time.monotonic() > deadline:
                self.close()
                raise LauncherError(f"the worker launcher was not ready in {timeout:g}s")

    @property
    def pid(self) -> int:
        return self.proc.pid

    def preload(self, modules: list[str]) -> bool:
        """Import these modules in the launcher before the next worker is forked."""
        return self._send({"op": "preload", "modules": list(modules)})

    def start(self, key: str, job_dir, cores: int, env: dict, python: str | None,
              cpus: list[int] | None = None) -> bool:  # fmt: skip
        """Ask for a worker pinned to ``cpus``; False if the launcher is gone."""
        return self._send({"op": "start", "key": key, "job_dir": str(job_dir), "cores": cores,
                           "env": env, "python": python, "cpus": cpus})  # fmt: skip

    def _send(self, msg: dict) -> bool:
        try:
            self.proc.stdin.write((json.dumps(msg) + "\n").encode())
            return True
        except (BrokenPipeError, OSError):
            self.dead = True
            return False

    def events(self, timeout: float) -> list[dict]:
        out, self.pending = self.pending, []
        return out + self._read(0 if out else timeout)

    def _read(self, timeout: float) -> list[dict]:
        import select

        if self.dead:
            return []
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return []
        while True:
            try:
                chunk = os.read(self.fd, 65536)
            except BlockingIOError:
                break
            if not chunk:
                self.dead = True
                break
            self.buf += chunk
        events = []
        while b"\n" in self.buf:
            line, self.buf = self.buf.split(b"\n", 1)
            if line.strip():
                events.append(json.loads(line))
        return events

    def close(self, timeout: float = 10.0) -> None:
        """Ask the launcher to stop (it kills whatever is left below it) and wait for it."""
        import subprocess

        if not self.info and self.proc.poll() is None:  # still importing, no worker yet
            self.proc.kill()
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
        self.dead = True
