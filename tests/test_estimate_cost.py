"""The cost model (price table) and `estimate` (jobs, CPU-hours, dollars, wall time)."""

from __future__ import annotations

import re

import pytest
from conftest import run_cli
from inprocess import main

from automl_bench.errors import BadInput
from automl_bench.results.cost import job_cost, load_prices
from automl_bench.run.estimate import JobEstimate, load_timings, model_for, schedule

USER_PRICES = """
reference:
  name: my-box
  usd_per_hour: 0.768
  vcpus: 8
  source: our cloud contract, page 3
  date: 2026-01-15
projections:
  - {name: vendor-x, usd: 10, unit: node-hour, source: vendor quote, date: 2026-02-01}
"""


def test_shipped_price_table_has_source_and_date_for_every_price():
    t = load_prices()
    assert t.reference.usd_per_hour == 0.384 and t.reference.vcpus == 8
    assert t.usd_per_vcpu_hour == pytest.approx(0.048)
    assert "automlbenchmark" in t.reference.source and str(t.reference.date) == "2022-10-27"
    vertex = {p.name: p for p in t.projections}["vertex-ai-tabular-training"]
    assert vertex.usd == 21.252 and vertex.unit == "node-hour" and vertex.source
    # wall time x cores x price per vCPU-hour
    assert job_cost(3600, 2) == pytest.approx(0.096)
    assert vertex.cost(wall_hours=2.0, vcpu_hours=4.0) == pytest.approx(42.504)


def test_user_price_table_overrides(tmp_path, monkeypatch):
    f = tmp_path / "prices.yaml"
    f.write_text(USER_PRICES)
    assert load_prices(f).usd_per_vcpu_hour == pytest.approx(0.096)
    monkeypatch.setenv("AUTOML_BENCH_PRICES", str(f))
    assert job_cost(3600, 1) == pytest.approx(0.096)
    bad = tmp_path / "bad.yaml"
    bad.write_text(USER_PRICES.replace("date: 2026-01-15", "date: someday"))
    with pytest.raises(BadInput, match=r"reference\.date"):
        load_prices(bad)


def test_schedule_packs_jobs_like_the_local_executor():
    jobs = [JobEstimate("f", "t", i, 1, 10.0, 60.0, False, 10.0) for i in range(4)]
    assert schedule(jobs, parallel=1, n_cpus=2) == pytest.approx(40)
    assert schedule(jobs, parallel=2, n_cpus=2) == pytest.approx(20)
    assert schedule(jobs, parallel=4, n_cpus=2) == pytest.approx(20)  # waits for free cores
    wide = [JobEstimate("f", "t", i, 2, 10.0, 60.0, False, 10.0) for i in range(4)]
    assert schedule(wide, parallel=2, n_cpus=2) == pytest.approx(40)


def test_unknown_adapters_are_assumed_to_use_their_budget():
    t = load_timings()
    m = model_for(t, "someone_elses_automl", "their.module:AutoML")
    assert m.kind == "budget" and m.fraction == 1.0 and "full budget" in m.source
    assert model_for(t, "rf", "automl_bench_adapters.random_forest:RandomForest").kind == "work"


def _number(pattern, text):
    m = re.search(pattern, text)
    assert m, f"{pattern!r} not in:\n{text}"
    return float(m.group(1))


def test_estimate_cli_on_the_smoke_suite(tmp_path):
    p = run_cli("estimate", "--suite", "smoke", "--parallel", "2")
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert _number(r"jobs: (\d+)", out) == 2 * 2 * 2  # tasks x folds x frameworks
    cpu_h = _number(r"CPU-hours: ([\d.]+) expected", out)
    usd = _number(r"cost: \$([\d.]+) expected", out)
    assert 0 < cpu_h < 0.05 and usd == pytest.approx(cpu_h * 0.048, abs=1e-4)
    assert _number(r"expected wall time: .* \((\d+) s\)", out) > 0
    assert "vertex-ai-tabular-training" in out
    # a user price table doubles the dollars; --frameworks and --folds shrink the plan
    f = tmp_path / "prices.yaml"
    f.write_text(USER_PRICES)
    code, out, _ = main("estimate", "--suite", "smoke", "--prices", str(f), "--frameworks", "rf",
                         "--folds", "1")  # fmt: skip
    assert code == 0
    assert _number(r"jobs: (\d+)", out) == 2
    assert "my-box" in out and "vendor-x" in out


def test_estimate_bad_input_exits_2():
    code, _, err = main("estimate", "--suite", "no-such-suite")
    assert code == 2 and "unknown suite" in err
    code, _, err = main("estimate", "--suite", "smoke", "--frameworks", "nope")
    assert code == 2 and "unknown framework 'nope'" in err
