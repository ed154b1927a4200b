"""Racing: the rule that drops frameworks significantly worse than the leader as folds come
in (rule), the live race of ``run --race`` (live), its replay on a finished run
(``race --replay``: replay) and the report section that shows a race (report_section, handed
to the report by the command line: the report does not import the race).

It may import report, results, execution, planning, data and the top-level utility modules;
run and cli import it.
"""
