"""Slot planning on one machine: how many jobs may run at once so that their cores and
memory fit (:func:`plan_slots`), and which CPU ids each running job holds (:class:`Slots`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import psutil

from automl_bench.errors import BadInput


def available_cpus() -> list[int]:
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


def available_memory_mb() -> int:
    return int(psutil.virtual_memory().available / 2**20)


@dataclass
class SlotPlan:
    slots: int
    cpus: list[int]
    memory_mb: int
    oversubscribe: bool
    notes: list[str] = field(default_factory=list)


def check_fits(cores: int, memory_mb: int, oversubscribe: bool, cpus=None, machine_mb=None):
    """BadInput if one job alone needs more than this machine has (unless oversubscribing)."""
    n = len(cpus if cpus is not None else available_cpus())
    mem = machine_mb if machine_mb is not None else available_memory_mb()
    if oversubscribe:
        return
    if cores > n:
        raise BadInput(f"constraint asks for cores={cores} per job but this machine has {n} "
                       "CPUs; lower cores or pass --oversubscribe")  # fmt: skip
    if memory_mb > mem:
        raise BadInput(f"constraint asks for memory_mb={memory_mb} per job but {mem} MB are "
                       "available; lower memory_mb or pass --oversubscribe")  # fmt: skip


def plan_slots(parallel: int, cores: int, memory_mb: int, oversubscribe: bool = False,
               cpus=None, machine_mb=None) -> SlotPlan:  # fmt: skip
    """How many jobs may run at once so that their cores and memory fit the machine."""
    cpus = list(cpus if cpus is not None else available_cpus())
    mem = machine_mb if machine_mb is not None else available_memory_mb()
    check_fits(cores, memory_mb, oversubscribe, cpus, mem)
    fit = max(1, min(len(cpus) // max(cores, 1), mem // max(memory_mb, 1)))
    plan = SlotPlan(min(parallel, fit), cpus, mem, oversubscribe)
    need = f"{parallel} x ({cores} cores, {memory_mb} MB)"
    have = f"{len(cpus)} CPUs, {mem} MB available"
    if parallel > fit and oversubscribe:
        plan.slots = parallel
        plan.notes.append(f"oversubscribing: {need} on {have}; jobs share cores and their "
                          "timings are not comparable to an unshared run")  # fmt: skip
    elif parallel > fit:
        plan.notes.append(f"--parallel {parallel} reduced to {fit}: {need} does not fit "
                          f"{have} (--oversubscribe to run {parallel} anyway)")  # fmt: skip
    elif oversubscribe and (cores > len(cpus) or memory_mb > mem):
        plan.notes.append(f"oversubscribing: one job asks for {cores} cores, {memory_mb} MB "
                          f"on {have}")  # fmt: skip
    return plan


class Slots:
    """The plan's CPU ids and memory, handed to jobs as they start and taken back as they
    end. Oversubscribing, CPU ids are dealt round-robin and nothing is held."""

    def __init__(self, plan: SlotPlan):
        self.plan = plan
        self.free_cpus, self.free_mb, self._next = list(plan.cpus), plan.memory_mb, 0

    def fits(self, cores: int, memory_mb: int, running: int) -> bool:
        """Whether a job of ``cores`` and ``memory_mb`` may start now (a job that needs more
        than is free starts alone, with what there is)."""
        if running >= self.plan.slots:
            return False
        need = min(cores, len(self.plan.cpus))
        return self.plan.oversubscribe or not running or (
            len(self.free_cpus) >= need and self.free_mb >= memory_mb)  # fmt: skip

    def take(self, cores: int, memory_mb: int) -> list[int]:
        """The CPU ids of a job that starts now (sorted)."""
        plan, need = self.plan, min(cores, len(self.plan.cpus))
        if plan.oversubscribe:
            cpus = [plan.cpus[(self._next + i) % len(plan.cpus)] for i in range(need)]
            self._next += need
            return sorted(cpus)
        cpus = self.free_cpus[:need] or plan.cpus[:need]
        self.free_cpus = self.free_cpus[need:]
        self.free_mb -= memory_mb
        return sorted(cpus)

    def give_back(self, cpus: list[int], memory_mb: int) -> None:
        if not self.plan.oversubscribe:
            self.free_cpus = sorted(set(self.free_cpus) | set(cpus))
            self.free_mb += memory_mb
