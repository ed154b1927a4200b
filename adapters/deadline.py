"""Stop iterative baselines (boosting rounds) when their time budget runs out.

The harness enforces a hard limit from outside; this lets a baseline stop cleanly with the
rounds it has instead of being killed with nothing.
"""

from __future__ import annotations

import time


class Deadline:
    def __init__(self, time_limit: float, reserve: float = 0.1):
        """Expires after ``time_limit * (1 - reserve)`` seconds (reserve left for predict)."""
        self.end = time.monotonic() + max(0.0, float(time_limit)) * (1.0 - reserve)

    def expired(self) -> bool:
        return time.monotonic() >= self.end

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
