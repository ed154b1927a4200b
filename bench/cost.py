"""Compute cost of a job: wall time x cores x price per vCPU-hour of a reference instance."""

from __future__ import annotations

# AWS m5.2xlarge on-demand, us-east-1: $0.384/h for 8 vCPU (as quoted in AMLB's PR #502).
DEFAULT_PRICE_PER_VCPU_HOUR = 0.384 / 8


def job_cost(wall_s: float, cores: int, price_per_vcpu_hour: float = DEFAULT_PRICE_PER_VCPU_HOUR):
    return wall_s / 3600.0 * cores * price_per_vcpu_hour
