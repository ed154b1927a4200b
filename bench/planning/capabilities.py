"""What each backend can do (its adapter's declared ``Capabilities``) against what a task needs.

A job whose task the backend cannot handle (a task type it does not support, missing values
or categorical features it cannot take) is not started: it is stored ``skipped`` with the
reason, the way a backend that is not installed is. ``list frameworks`` shows the table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from automl_bench_adapters.base import Capabilities


def of(variant) -> Capabilities | None:
    """The variant's declared capabilities (None when its adapter cannot be imported)."""
    try:
        return variant.adapter_class().capabilities
    except Exception:
        return None


def unsupported(caps: Capabilities | None, task_type: str, profile: dict,
                budget_s: float | None = None, train_rows: int | None = None) -> str | None:  # fmt: skip
    """Why a backend with ``caps`` cannot run a task (None: it can, or it declares nothing).
    ``profile`` is the task's profile (automl_bench.data.profile): ``missing_ratio``,
    ``categorical``, ``features`` and ``classes`` are read; ``train_rows`` (the fold's
    training rows) and ``budget_s`` are checked against a service's declared limits."""
    if caps is None:
        return None
    why = service_limits(caps, profile, budget_s, train_rows)
    if task_type not in caps.task_types:
        why.append(f"{task_type} tasks are not supported (supports {', '.join(caps.task_types)})")
    if not caps.missing_values and (profile.get("missing_ratio") or 0) > 0:
        why.append(f"the task has missing values ({profile['missing_ratio']:.2%} of cells), "
                   "which the backend does not accept")  # fmt: skip
    if not caps.categoricals and (profile.get("categorical") or 0) > 0:
        why.append(f"the task has {profile['categorical']} categorical features, which the "
                   "backend does not accept")  # fmt: skip
    return "; ".join(why) or None


def service_limits(caps, profile: dict, budget_s, train_rows) -> list[str]:
    """The limits a (remote) service declares that this job is outside of."""
    why = []
    low, high = getattr(caps, "min_train_rows", None), getattr(caps, "max_train_rows", None)
    if train_rows is not None and low is not None and train_rows < low:
        why.append(f"{train_rows} training rows, fewer than the {low} the service needs")
    if train_rows is not None and high is not None and train_rows > high:
        why.append(f"{train_rows} training rows, more than the service's {high}")
    cols, classes = getattr(caps, "max_columns", None), getattr(caps, "max_classes", None)
    if cols is not None and (profile.get("features") or 0) > cols:
        why.append(f"{profile['features']} columns, more than the service's {cols}")
    if classes is not None and (profile.get("classes") or 0) > classes:
        why.append(f"{profile['classes']} classes, more than the service's {classes}")
    least = getattr(caps, "min_budget_s", None)
    if budget_s is not None and least is not None and budget_s < least:
        why.append(f"a budget of {budget_s:g} s, under the service's minimum of {least:g} s")
    return why


def no_access(variant) -> str | None:
    """Why the variant's jobs cannot reach its service here (no credentials, no account
    setting), from its adapter's ``missing_access``; None: they can, or it needs none."""
    try:
        check = variant.adapter_class().missing_access
    except Exception:
        return None
    return check(dict(variant.params))


def table(variants: dict):
    """A rich table: per variant, task types, missing values, categoricals and notes."""
    from rich.markup import escape
    from rich.table import Table

    t = Table(title="Capabilities (what each backend declares it can take)")
    for c in ("name", "task types", "missing values", "categoricals", "notes"):
        t.add_column(c)
    for name, v in sorted(variants.items()):
        caps = of(v)
        if caps is None:
            t.add_row(name, "-", "-", "-", "adapter cannot be imported")
            continue
        t.add_row(name, ", ".join(caps.task_types), "yes" if caps.missing_values else "no",
                  "yes" if caps.categoricals else "no", escape("; ".join(caps.notes)))  # fmt: skip
    return t
