"""Build, on first use, the environments a run's framework definitions need.

A definition whose requirements the harness's packages do not meet (``flaml:2.3.6``) runs in an
environment of its own (:mod:`automl_bench.planning.backend_envs`); the first run that needs
it builds it, telling each step, and later runs reuse it. Definitions marked
``build: env_create`` (heavy builds such as AutoGluon's) are left to ``automl-bench env
create``: their jobs are skipped with that command until then.
"""

from __future__ import annotations

import logging
import time

from automl_bench.errors import BadInput
from automl_bench.planning import backend_envs

log = logging.getLogger(__name__)


def ensure(variants, say=None) -> dict[str, float]:
    """Build every missing environment of ``variants`` marked ``build: first_use``; return
    each built one's build time in seconds. ``say(text)`` is told of each step.

    BadInput (exit 2) when pip finds no release meeting a requirement, naming it; a build that
    fails otherwise is logged and its jobs are then skipped as not installed."""
    say = say or (lambda text: None)
    needed: dict[str, tuple] = {}
    variants_packages: dict[str, tuple] = {}
    for v in variants:
        env = v.environment()
        if env is None or v.build != "first_use":
            continue
        packages = v.adapter_class().requirements.packages
        if backend_envs.missing(env.name, packages):
            needed.setdefault(env.name, (env, []))[1].append(v.name)
            variants_packages[env.name] = packages
    built = {}
    for name, (env, frameworks) in needed.items():
        with backend_envs.building(name):  # another run building it: wait, then reuse it
            if backend_envs.missing(name, variants_packages[name]):
                seconds = _build(env, frameworks, say)
                if seconds is not None:
                    built[name] = seconds
    return built


def _build(env, frameworks, say) -> float | None:
    """Build ``env``, telling each step; its build time (None: it failed, logged)."""
    name = env.name
    say(f"building environment {name} for {', '.join(frameworks)} "
        f"({', '.join(env.requirements)}) in {backend_envs.env_path(name)}")  # fmt: skip
    t0 = time.monotonic()
    try:
        backend_envs.create(env, force=True, built_for=tuple(frameworks),
                            progress=lambda i, n, text: say(f"  [{i}/{n}] {text}"))  # fmt: skip
    except backend_envs.Unresolvable as e:
        raise BadInput(f"{', '.join(frameworks)}: {e}") from None
    except backend_envs.EnvError as e:
        log.warning("%s: %s", ", ".join(frameworks), e)
        return None
    seconds = time.monotonic() - t0
    say(f"environment {name} built in {seconds:.0f} s")
    return seconds
