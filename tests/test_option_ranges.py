"""One table of numeric options (automl_bench.planning.options.OPTIONS) drives every check:
each numeric option of the command line has a row, and each refuses nan, inf and a value out
of its range with exit 2, naming the option, before anything is written."""

from __future__ import annotations

import argparse

import pytest
from inprocess import main as cli

from automl_bench.cli.parser import build_parser
from automl_bench.planning.options import OPTIONS


def _numeric_options() -> set[str]:
    """Every option of every command whose value is parsed as a number."""
    found = set()
    parser = build_parser()
    todo = [parser]
    while todo:
        p = todo.pop()
        for a in p._actions:
            if isinstance(a, argparse._SubParsersAction):
                todo.extend(a.choices.values())
            elif a.option_strings and a.type is not None and a.type is not str and \
                    getattr(a.type, "__name__", "") not in ("Path", "_split"):
                found.add(max(a.option_strings, key=len))
    return found


def test_every_numeric_option_has_a_range():
    assert _numeric_options() - {"--exclusive-wait"} <= set(OPTIONS)
    assert "--exclusive-wait" in OPTIONS and "--infer-allowance" in OPTIONS


def _argv(option: str, value: str, out) -> list[str]:
    race = ["--race"] if option.startswith("--race-") else []
    return ["run", "--suite", "smoke", "--out", out, "--cold-start", *race, option, value]


def _out_of_range(option: str) -> str:
    r = OPTIONS[option][1]
    return str(r.hi * 10 + 1 if r.hi is not None else r.lo - 1)


@pytest.mark.parametrize("option", sorted(OPTIONS))
@pytest.mark.parametrize("bad", ["nan", "inf", "out of range"])
def test_bad_numbers_exit_2_naming_the_option(tmp_path, option, bad):
    value = _out_of_range(option) if bad == "out of range" else bad
    out = tmp_path / "run"
    code, stdout, err = cli(*_argv(option, value, out))
    assert code == 2, (stdout, err)
    assert option in err and "Traceback" not in err
    assert not out.exists()


@pytest.mark.parametrize("argv, says", [
    (["--infer-allowance", "inf"], "--infer-allowance must be a finite number"),
    (["--infer-allowance", "1e308"], "--infer-allowance must be <= 3600"),
    (["--budgets", "1e-9"], "every budget must be >= 1 second"),
    (["--budget", "0.5"], "--budget must be >= 1 (got 0.5): a job's own start-up"),
])  # fmt: skip
def test_allowances_and_tiny_budgets_are_refused_with_the_reason(tmp_path, argv, says):
    out = tmp_path / "run"
    code, _, err = cli("run", "--suite", "smoke", "--out", out, "--cold-start", *argv)
    assert code == 2 and says in " ".join(err.split()), err
    assert not out.exists()


def test_the_race_rule_takes_its_ranges_from_the_table(tmp_path):
    code, _, err = cli("race", "--replay", tmp_path, "--race-alpha", "1")
    assert code == 2 and "--race-alpha must be < 1" in err
