"""A warm launcher started early: the CLI starts it before its own imports, so the
launcher's imports overlap with the driver's; the local executor takes it if its run's jobs
have the cores it was started for. Whatever is not taken is closed at exit."""

from __future__ import annotations

import atexit

from automl_bench.execution.job_env import launcher_env
from automl_bench.execution.launcher_client import Launcher

_prestarted: dict[int, Launcher] = {}  # cores -> Launcher started early


@atexit.register
def close_prestarted() -> None:
    while _prestarted:
        _prestarted.popitem()[1].close()


def prestart_launcher(suite: str | None = None, cores: int | None = None,
                      adapters: list[str] = ()) -> None:  # fmt: skip
    """Start the warm launcher now, so its imports overlap with the driver's (the CLI calls
    this first thing). ``cores`` (else read from the suite file, else 1) sizes the thread
    pools it loads; the executor uses it only if its run's jobs have those cores. Called
    again with the run's ``adapters`` (``module:Class``), the launcher started for ``cores``
    loads them and what their jobs import while the driver loads the run's data."""
    if cores is None:
        try:
            from automl_bench.planning.suite import load_suite

            cores = load_suite(suite)[0].constraint.cores if suite else 1
        except Exception:  # the run itself reports a bad suite
            return
    if cores not in _prestarted:
        try:
            _prestarted[cores] = Launcher(launcher_env(cores), list(adapters), warm=True,
                                          wait=False)  # fmt: skip
        except OSError:
            pass
    elif adapters:
        _prestarted[cores].preload(list(adapters))


def take_prestarted(cores: int, modules: list[str]) -> Launcher | None:
    """The launcher started early for ``cores``, ready, with ``modules`` loaded; None if
    there is none or it died. Launchers started for other cores are closed."""
    early = _prestarted.pop(cores, None)
    close_prestarted()
    if early is not None and not early.dead and early.preload(modules):
        early.wait_ready()
        return early
    if early is not None:
        early.close()
    return None
