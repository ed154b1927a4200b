"""TEST ADAPTERS whose trajectory goes wrong on purpose: the class prior as a model (the real
constant predictor), with a trajectory() that raises, that breaks the fixed contract (a best
loss that goes up), or that never returns. Registered for tests only, through
``AUTOML_BENCH_FRAMEWORKS`` (see tests/test_trajectories.py); never shipped."""

from __future__ import annotations

import time

import pandas as pd

from automl_bench_adapters.constant import ConstantPredictor


class TrajectoryRaises(ConstantPredictor):
    def trajectory(self):
        raise KeyError("the backend's log has no 'wall_clock_time'")


class TrajectoryGoesUp(ConstantPredictor):
    def trajectory(self):
        return pd.DataFrame({"elapsed_s": [0.1, 0.2], "best_loss": [1.0, 2.0],
                             "loss_name": "log_loss", "model": "m", "loss": [1.0, 2.0],
                             "evaluated": "m", "validation": "rows"})  # fmt: skip


class TrajectoryHangs(ConstantPredictor):
    def trajectory(self):
        time.sleep(3600)
