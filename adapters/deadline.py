"""Stop iterative baselines (boosting rounds) when their time budget runs out.

The harness enforces a hard limit from outside; this lets a baseline stop cleanly with the
rounds it has instead of being killed with nothing. The budget is the fit's (prediction has
its own allowance), so boosting may run to ``time_limit`` less a small ``reserve`` share
for the library's wrap-up after the last round; ``hit`` records that the deadline, not the
round count, ended training.
"""

from __future__ import annotations

import time


class Deadline:
    def __init__(self, time_limit: float, reserve: float = 0.02):
        """Expires after ``time_limit * (1 - reserve)`` seconds from now."""
        self.seconds = max(0.0, float(time_limit)) * (1.0 - reserve)
        self.end = time.monotonic() + self.seconds
        self.hit = False

    def left(self) -> float:
        """Seconds until the deadline (negative past it)."""
        return self.end - time.monotonic()

    def expired(self, next_s: float = 0.0) -> bool:
        """Whether the deadline has come, or would come within ``next_s`` more seconds (the
        next step of work, when it cannot be stopped midway)."""
        if time.monotonic() + next_s >= self.end:
            self.hit = True
        return self.hit

    def xgboost_callback(self):
        import xgboost

        deadline = self

        class StopAtDeadline(xgboost.callback.TrainingCallback):
            def after_iteration(self, model, epoch, evals_log):
                return deadline.expired()

        return StopAtDeadline()

    def lightgbm_callback(self):
        import lightgbm

        def stop_at_deadline(env):
            if self.expired():
                raise lightgbm.callback.EarlyStopException(
                    env.iteration, env.evaluation_result_list
                )

        stop_at_deadline.order = 100
        return stop_at_deadline

    def catboost_callback(self):
        """CatBoost's rounds can take seconds each (many features and classes: about 6 CPU
        seconds a round on the default suite's hd-2000x20, 500 rows x 2,000 features x 20
        classes), so it stops when the next round, taking as long as the last one (the first:
        with CatBoost's own set-up), would end past the deadline."""
        deadline = self

        class StopAtDeadline:  # CatBoost's protocol: after_iteration(info) -> go on?
            last = time.monotonic()

            def after_iteration(self, info):
                now = time.monotonic()
                round_s, self.last = now - self.last, now
                return not deadline.expired(round_s)

        return StopAtDeadline()
