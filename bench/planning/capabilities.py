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


def unsupported(caps: Capabilities | None, task_type: str, profile: dict) -> str | None:
    """Why a backend with ``caps`` cannot run a task (None: it can, or it declares nothing).
    ``profile`` is the task's profile (automl_bench.data.profile): ``missing_ratio`` and ``categorical``
    are read."""
    if caps is None:
        return None
    why = []
    if task_type not in caps.task_types:
        why.append(f"{task_type} tasks are not supported (supports {', '.join(caps.task_types)})")
    if not caps.missing_values and (profile.get("missing_ratio") or 0) > 0:
        why.append(f"the task has missing values ({profile['missing_ratio']:.2%} of cells), "
                   "which the backend does not accept")  # fmt: skip
    if not caps.categoricals and (profile.get("categorical") or 0) > 0:
        why.append(f"the task has {profile['categorical']} categorical features, which the "
                   "backend does not accept")  # fmt: skip
    return "; ".join(why) or None


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
