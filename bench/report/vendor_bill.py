"""What managed services (cloud AutoML vendors) billed for the jobs of a report.

A job run on a managed service holds the compute the service billed (instance type and
instance-seconds per piece, in its ``info``); it is priced again from the price table in use
(its ``services``, each price dated), the way machine time is, so every dollar of a report
comes from one table. A row without the pieces keeps the dollars stored with it.
"""

from __future__ import annotations

import json

import pandas as pd

from automl_bench.results.cost import PriceTable, vendor_cost

SERVICE_NAMES = {"sagemaker": "Amazon SageMaker (AWS)"}


def _pieces(info) -> list[dict]:
    try:
        billed = json.loads(info).get("billed") if isinstance(info, str) else None
    except (ValueError, AttributeError):
        return []
    return billed if isinstance(billed, list) else []


def job_bills(results: pd.DataFrame, prices: PriceTable) -> pd.DataFrame:
    """Per row: ``vendor_usd`` (NaN: billed by no service, or unpriced), ``vendor_h``
    (billed instance-hours) and ``service`` ("" for none)."""
    usd, hours, services = [], [], []
    stored = results.get("vendor_cost_usd", pd.Series(index=results.index, dtype=float))
    stored_s = results.get("vendor_billed_s", pd.Series(index=results.index, dtype=float))
    infos = results.get("info", pd.Series(index=results.index, dtype=object))
    for info, old_usd, old_s in zip(infos, stored, stored_s, strict=True):
        pieces = _pieces(info)
        if pieces:
            d, s, _ = vendor_cost(pieces, prices)
            usd.append(float("nan") if d is None else d)
            hours.append(s / 3600.0)
            services.append(", ".join(sorted({str(p.get("service")) for p in pieces})))
        else:
            usd.append(pd.to_numeric(old_usd, errors="coerce"))
            hours.append(pd.to_numeric(old_s, errors="coerce") / 3600.0)
            services.append("" if pd.isna(old_usd) and pd.isna(old_s) else "a managed service")
    return pd.DataFrame({"vendor_usd": usd, "vendor_h": hours, "service": services},
                        index=results.index)  # fmt: skip


def billed_frameworks(bills: pd.DataFrame, labels: pd.Series) -> dict[str, str]:
    """framework label -> the service(s) that billed its jobs, for frameworks with any."""
    out = {}
    for label, service in zip(labels, bills["service"], strict=True):
        if service:
            out.setdefault(label, set()).add(service)
    return {k: ", ".join(SERVICE_NAMES.get(s, s) for s in sorted(v)) for k, v in out.items()}


def note(billed: dict[str, str], prices: PriceTable) -> str:
    """The sentence that says which frameworks are billed by a vendor, and at which prices."""
    if not billed:
        return ""
    used = {s for v in billed.values() for s in v.split(", ")}
    dates = sorted({str(p.date) for p in prices.services
                    if SERVICE_NAMES.get(p.service, p.service) in used})  # fmt: skip
    who = "; ".join(f"{f} by {s}" for f, s in billed.items())
    return (f"† Billed by the vendor: {who}, in your own account, at prices of "
            f"{', '.join(dates) or 'no date (no price in the table)'} ({prices.path}). This is "
            "on top of the measured cost, which is the time of the machine that ran the jobs.")
