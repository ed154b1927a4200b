"""Planning: what a run will do, decided before anything runs. Suites, budgets (and their
axis), framework definitions and the adapters' declared needs and capabilities, the
environments backends run in, the ranges of the numeric options, and jobs with their ids.

It may import data and the top-level utility modules; execution, results, report, race, run
and cli import it, never the other way round.
"""
