"""The finishing-cost model adapters keep back from a backend whose time limit is soft."""

from __future__ import annotations

import pytest

from automl_bench_adapters.finish_cost import MIN_SHARE, FinishCost, cpu_share


def test_cost_grows_with_rows_classes_and_budget_and_is_capped():
    cost = FinishCost(base_s=1.0, per_budget=0.05, rc_s=2.0, rfc_s=1.0, max_share=0.4)
    small = cost.seconds(60, rows=1000, features=10, classes=10)
    assert small == pytest.approx(1.0 + 3.0 + 2.0 * 0.1 + 1.0 * 1e5 / 1e8)
    assert cost.seconds(60, 10_000, 10, 100) > cost.seconds(60, 1000, 10, 100) > small
    assert cost.seconds(30, 1000, 10, 10) < small  # the budget term
    assert cost.seconds(30, 10**6, 100, 100) == pytest.approx(0.4 * 30)  # never past the cap


def test_rows_term_grows_with_rows_alone():
    cost = FinishCost(rows_s=4.0, max_share=1.0)
    assert cost.seconds(100, rows=10_000, features=5, classes=2) == pytest.approx(4.0)
    assert cost.seconds(100, rows=10_000, features=500, classes=50) == pytest.approx(4.0)
    assert cost.seconds(100, rows=20_000, features=5, classes=2) == pytest.approx(8.0)


def test_cost_scales_with_the_share_of_the_core_the_job_gets():
    cost = FinishCost(base_s=2.0, max_share=1.0)
    assert cost.seconds(100, 1, 1, 2, share=0.5) == pytest.approx(4.0)
    # a share below the probe's floor counts as the floor
    assert cost.seconds(100, 1, 1, 2, share=0.01) == pytest.approx(2.0 / MIN_SHARE)


def test_wall_seconds_do_not_scale_with_the_share():
    cost = FinishCost(base_s=2.0, wall_s=1.5, max_share=1.0)
    assert cost.seconds(100, 1, 1, 2, share=1.0) == pytest.approx(3.5)
    assert cost.seconds(100, 1, 1, 2, share=0.5) == pytest.approx(5.5)
    assert FinishCost(wall_s=9.0, max_share=0.1).seconds(30, 1, 1, 2) == pytest.approx(3.0)


def test_cpu_share_is_a_share():
    assert MIN_SHARE <= cpu_share(0.05) <= 1.0
