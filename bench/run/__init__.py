"""Run orchestration: from a command's options to stored rows. Input checks before anything is
written (precheck), preparing a run (suite -> tasks -> plan), resuming (what is left to run),
executing the plan on an executor, turning each outcome into a stored row and a line of
progress, and the estimate of a run's time and cost.

It may import every stage below it (race, report, results, execution, planning, data) and the
top-level utility modules; only cli imports it.
"""
