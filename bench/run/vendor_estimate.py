"""Before running: what a managed service (a cloud AutoML vendor) is expected to bill.

A framework whose adapter runs on a managed service declares what one job is expected to be
billed for a budget (``expected_billing``: instance types, counts and instance-seconds, and
the assumption in words); those pieces are priced from the price table's ``services`` (each
price with its source and date), exactly as a finished job's billed usage is. A job outside
the service's declared limits is skipped before anything is created, so it bills nothing.
Whether credentials are present does not matter here: nothing is contacted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from automl_bench.planning import capabilities
from automl_bench.results.cost import PriceTable, vendor_cost


@dataclass
class VendorLine:
    """One framework's expected bill."""

    framework: str
    service: str
    jobs: int = 0
    skipped: int = 0  # outside the service's limits: skipped, billed nothing
    billed_s: float = 0.0  # instance-seconds
    usd: float | None = 0.0  # None: an instance type without a price
    assumption: str = ""
    dates: set = field(default_factory=set)  # dates of the prices used
    unpriced: str = ""


@dataclass
class VendorEstimate:
    lines: list[VendorLine]

    @property
    def usd(self) -> float | None:
        if any(v.usd is None for v in self.lines):
            return None
        return sum(v.usd for v in self.lines)

    @property
    def billed_hours(self) -> float:
        return sum(v.billed_s for v in self.lines) / 3600.0


def _expected(variant, budget_s: float) -> tuple[list[dict], str]:
    try:
        declare = variant.adapter_class().expected_billing
    except Exception:  # an adapter that does not import: the run stops before it anyway
        return [], ""
    return declare(dict(variant.params), budget_s)


def vendor_estimate(plan, variants, tasks, prices: PriceTable) -> VendorEstimate:
    """``plan``: the planned jobs; ``variants``: the framework variants; ``tasks``: the
    prepared tasks (name, splits, profile, task_type)."""
    by_name = {v.name: v for v in variants}
    by_task = {t.name: t for t in tasks}
    dates = {(p.service, p.instance_type): p.date for p in prices.services}
    lines: dict[str, VendorLine] = {}
    for j in plan:
        variant = by_name[j.framework]
        pieces, assumption = _expected(variant, j.budget_s)
        if not pieces:
            continue
        line = lines.setdefault(j.framework, VendorLine(j.framework, pieces[0]["service"],
                                                        assumption=assumption))
        task = by_task[j.task]
        train_rows = len(task.splits[j.fold][0])
        if capabilities.unsupported(capabilities.of(variant), task.task_type, task.profile,
                                    j.budget_s, train_rows):  # fmt: skip
            line.skipped += 1
            continue
        usd, seconds, note = vendor_cost(pieces, prices)
        line.jobs += 1
        line.billed_s += seconds
        line.usd = None if usd is None or line.usd is None else line.usd + usd
        line.unpriced = line.unpriced or note
        line.dates |= {dates[k] for p in pieces
                       if (k := (p["service"], p["instance_type"])) in dates}  # fmt: skip
    return VendorEstimate(list(lines.values()))


def render_lines(v: VendorEstimate, machine_usd: float) -> list[str]:
    """The vendor's bill in words, beside the machine-time cost of the same run."""
    if not v.lines:
        return []
    total = v.usd
    dates = sorted({str(d) for line in v.lines for d in line.dates})
    out = [f"billed by the vendor: {usd_text(total)} expected for {v.billed_hours:.2f} "
           f"instance-hours (service prices of {', '.join(dates) or 'no date'}), on top of "
           f"the ${machine_usd:.4f} of machine time above"]  # fmt: skip
    for line in v.lines:
        out.append(f"billed by the vendor ({line.service}), {line.framework}: {line.jobs} jobs, "
                   f"{line.billed_s / 3600.0:.2f} instance-hours, {usd_text(line.usd)}; assumed "
                   f"per job: {line.assumption}")  # fmt: skip
        if line.skipped:
            out.append(f"{line.framework}: {line.skipped} jobs are outside the service's "
                       "limits and will be skipped, billed nothing")  # fmt: skip
        if line.unpriced:
            out.append(f"{line.framework}: {line.unpriced}: its dollars are unknown")
    return out


def usd_text(x: float | None) -> str:
    return "unknown" if x is None else f"${x:.2f}"
