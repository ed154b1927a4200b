"""Compute cost of jobs from a price table (YAML, with a source and a date for every price).

A job's cost is its wall time x its cores x the reference instance's price per vCPU-hour.
The shipped table (``bench/results/prices.yaml``) prices an AWS m5.2xlarge on demand ($0.384/h for
8 vCPU, as quoted in AMLB's PR #502); a user file named by ``--prices`` or by the
``AUTOML_BENCH_PRICES`` environment variable replaces it. Managed-service rows (for example
Vertex AI tabular training per node-hour) are projections the report prints beside the
measured cost.
"""

from __future__ import annotations

import datetime as dt
import os
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from automl_bench.errors import BadInput
from automl_bench.yamlio import describe_validation_error, read_yaml

SHIPPED = Path(__file__).resolve().parent / "prices.yaml"
ENV_VAR = "AUTOML_BENCH_PRICES"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Reference(_Strict):
    name: str = Field(min_length=1)
    usd_per_hour: float = Field(gt=0)
    vcpus: int = Field(ge=1)
    source: str = Field(min_length=1)
    date: dt.date

    @property
    def usd_per_vcpu_hour(self) -> float:
        return self.usd_per_hour / self.vcpus


class Projection(_Strict):
    name: str = Field(min_length=1)
    usd: float = Field(ge=0)
    unit: str = Field(default="node-hour", pattern=r"^(node-hour|vcpu-hour|hour)$")
    source: str = Field(min_length=1)
    date: dt.date

    def cost(self, wall_hours: float, vcpu_hours: float) -> float:
        """What ``wall_hours`` of jobs (one node each) would cost at this rate."""
        return self.usd * (vcpu_hours if self.unit == "vcpu-hour" else wall_hours)


class ServicePrice(_Strict):
    """A managed service's on-demand price of one instance type, per instance-hour."""

    service: str = Field(min_length=1)
    instance_type: str = Field(min_length=1)
    usd_per_hour: float = Field(gt=0)
    source: str = Field(min_length=1)
    date: dt.date


class PriceTable(_Strict):
    reference: Reference
    projections: list[Projection] = Field(default_factory=list)
    services: list[ServicePrice] = Field(default_factory=list)
    path: str = ""  # where it was read from (filled in by load_prices)

    @property
    def usd_per_vcpu_hour(self) -> float:
        return self.reference.usd_per_vcpu_hour


def load_prices(path: str | Path | None = None) -> PriceTable:
    """The price table from ``path``, else ``$AUTOML_BENCH_PRICES``, else the shipped one."""
    chosen = (
        Path(path) if path else Path(os.environ[ENV_VAR]) if os.environ.get(ENV_VAR) else SHIPPED
    )
    return _load(str(chosen.resolve()) if chosen.exists() else str(chosen))


@cache
def _load(path: str) -> PriceTable:
    if not Path(path).exists():
        raise BadInput(f"price table {path} does not exist")
    data = read_yaml(Path(path))
    if not isinstance(data, dict):
        raise BadInput(f"{path}: expected a mapping with 'reference' and optional 'projections'")
    try:
        table = PriceTable.model_validate({**data, "path": path})
    except ValidationError as e:
        raise BadInput(describe_validation_error(path, e)) from None
    return table


def job_cost(wall_s: float, cores: int, price_per_vcpu_hour: float | None = None) -> float:
    """Dollars for one job: wall seconds x cores x price per vCPU-hour (the table's if None)."""
    if price_per_vcpu_hour is None:
        price_per_vcpu_hour = load_prices().usd_per_vcpu_hour
    return wall_s / 3600.0 * cores * price_per_vcpu_hour



def vendor_cost(billed: list[dict] | None, table: PriceTable | None = None):
    """(dollars, billed instance-seconds, note) of a service's billed compute (the pieces a
    remote adapter reports: service, instance_type, seconds = instance-seconds); (None, None,
    "") for a job billed by no service. A piece whose instance type the table has no price
    for leaves the dollars unknown (None) and the note names it."""
    if not billed:
        return None, None, ""
    table = table or load_prices()
    prices = {(p.service, p.instance_type): p.usd_per_hour for p in table.services}
    usd, seconds, unpriced = 0.0, 0.0, set()
    for piece in billed:
        secs = float(piece.get("seconds") or 0.0)
        seconds += secs
        price = prices.get((piece.get("service"), piece.get("instance_type")))
        if price is None:
            unpriced.add(f"{piece.get('service')} {piece.get('instance_type')}")
        else:
            usd += secs / 3600.0 * price
    note = f"no price in {table.path or 'the price table'} for " + ", ".join(sorted(unpriced)) \
        if unpriced else ""
    return (None if unpriced else round(usd, 6)), round(seconds, 3), note
