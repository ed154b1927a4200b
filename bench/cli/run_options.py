"""From parsed arguments to what a run is given: the options `run` and `estimate` share are
built by one function, :func:`plan_fields`; the race rule from its three options."""

from __future__ import annotations

from automl_bench.errors import BadInput


def plan_fields(args, limits: dict | None = None, **more) -> dict:
    """RunOptions fields from the options `run` and `estimate` share (see
    ``cli.parser._plan_options``), the job limits updated with ``limits``, plus ``more``."""
    from automl_bench.execution.jobs import Limits

    given = dict(setup_s=args.setup_grace, margin=args.grace_margin,
                 predict_s=args.predict_grace, predict_ratio=args.predict_ratio)  # fmt: skip
    return dict(
        suite=args.suite,
        frameworks=split(args.frameworks),
        budget=args.budget,
        budgets=budgets(args.budgets),
        folds=args.folds,
        parallel=args.parallel,
        limits=Limits(**given, **(limits or {})),
        **data_fields(args),
        **more,
    )


def data_fields(args) -> dict:
    """Where tasks are read from (``cli.parser._data_options``)."""
    return dict(openml_cache=args.openml_cache, openml_server=args.openml_server,
                cache_dir=args.cache_dir)  # fmt: skip


def budgets(text):
    from automl_bench.planning.budgets import parse

    return None if text is None else parse(text)


def split(text):
    return [f.strip() for f in text.split(",") if f.strip()] if text else None


def race_rule(args, default):
    from automl_bench.race import rule as race

    if args.race_alpha is None and args.race_min_blocks is None and args.race_run_winner is None:
        return default
    try:
        return race.check_rule(race.ALPHA if args.race_alpha is None else args.race_alpha,
                               race.MIN_BLOCKS if args.race_min_blocks is None
                               else args.race_min_blocks, bool(args.race_run_winner))  # fmt: skip
    except ValueError as e:
        raise BadInput(str(e)) from None
