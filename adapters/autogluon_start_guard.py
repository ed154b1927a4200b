"""An AutoGluon callback that skips a model left less time than it needs to start.

AutoGluon starts a model while 1% of its time limit is left (0.2 s of a 20 s limit); a model
whose fixed start work (a neural network's preprocessing and first epoch) exceeds what is left
runs past the limit before it gives up. :func:`start_guard` skips such a model (never the
weighted ensemble, which AutoGluon needs to finish); AutoGluon before 1.2 has no callbacks,
and then decides alone. AutoGluon drops its callbacks after ``fit``, so a saved predictor
never refers to this module.
"""

from __future__ import annotations

try:
    from autogluon.core.callbacks import AbstractCallback
except ImportError:  # AutoGluon before 1.2, or imported where AutoGluon is not installed
    AbstractCallback = None


def start_guard(costs: dict[str, float], share: float):
    """The callback, or None without callbacks. ``costs``: CPU seconds a model needs to
    start, by model name prefix; ``share``: the job's share of its core (wall = CPU / share)."""
    return None if AbstractCallback is None else _SkipWhatCannotStart(costs, share)


if AbstractCallback is not None:

    class _SkipWhatCannotStart(AbstractCallback):
        def __init__(self, costs: dict[str, float], share: float):
            super().__init__()
            self.costs, self.share = dict(costs), max(share, 0.2)
            self.skipped: list[str] = []  # "name (seconds left)", in the order skipped

        def _before_model_fit(self, trainer, model, time_limit=None, stack_name="core", level=1):
            need = max((s for p, s in self.costs.items() if model.name.startswith(p)), default=0.0)
            skip = bool(need) and time_limit is not None and stack_name != "aux1"
            skip = skip and time_limit < need / self.share
            if skip and not any(s.startswith(f"{model.name} (") for s in self.skipped):
                self.skipped.append(f"{model.name} ({time_limit:.1f} s left)")
            return False, skip
