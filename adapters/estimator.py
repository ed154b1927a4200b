"""scikit-learn's estimator protocol for adapters, without importing scikit-learn.

Importing scikit-learn costs about a second of CPU (mostly SciPy's statistics module, which
it loads at start-up). The harness imports every adapter class to read what it needs, and
each job imports its adapter, so an adapter whose backend does without scikit-learn (the
constant predictor) should not pay that for every run. This mixin gives an estimator that
stores its constructor arguments verbatim what scikit-learn's ``BaseEstimator`` and
``ClassifierMixin`` give it: ``get_params`` / ``set_params`` (``step__param`` keys
included), so ``sklearn.base.clone`` works; a ``repr`` listing the parameters that differ
from their defaults; the classifier's tags (``is_classifier``, use as a pipeline's last
step), built from scikit-learn's own classes when scikit-learn asks for them (it is loaded
then); and ``score`` (accuracy).
"""

from __future__ import annotations

import inspect


class ClassifierEstimator:
    """Mixin: the scikit-learn estimator API of a classifier whose ``__init__`` takes every
    parameter by name and stores it unchanged under the same name."""

    _estimator_type = "classifier"

    @classmethod
    def _get_param_names(cls) -> list[str]:
        init = cls.__init__
        if init is object.__init__:
            return []
        params = [p for p in inspect.signature(init).parameters.values()
                  if p.name != "self" and p.kind != p.VAR_KEYWORD]  # fmt: skip
        for p in params:
            if p.kind == p.VAR_POSITIONAL:
                raise RuntimeError(f"{cls.__name__}.__init__ takes *{p.name}: an estimator "
                                   "names every parameter in its signature")  # fmt: skip
        return sorted(p.name for p in params)

    def get_params(self, deep: bool = True) -> dict:
        out = {}
        for key in self._get_param_names():
            value = getattr(self, key)
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                out.update((f"{key}__{k}", v) for k, v in value.get_params().items())
            out[key] = value
        return out

    def set_params(self, **params):
        if not params:
            return self
        valid = self.get_params(deep=True)
        nested: dict[str, dict] = {}
        for name, value in params.items():
            key, delim, sub_key = name.partition("__")
            if key not in valid:
                raise ValueError(f"Invalid parameter {key!r} for estimator {self}. Valid "
                                 f"parameters are: {self._get_param_names()!r}.")  # fmt: skip
            if delim:
                nested.setdefault(key, {})[sub_key] = value
            else:
                setattr(self, key, value)
                valid[key] = value
        for key, sub_params in nested.items():
            valid[key].set_params(**sub_params)
        return self

    def __repr__(self) -> str:
        params = inspect.signature(type(self).__init__).parameters
        defaults = {name: p.default for name, p in params.items()}
        shown = [f"{k}={v!r}" for k, v in self.get_params(deep=False).items()
                 if not _is_default(v, defaults.get(k, inspect.Parameter.empty))]  # fmt: skip
        return f"{type(self).__name__}({', '.join(shown)})"

    def __sklearn_tags__(self):
        from sklearn.utils import ClassifierTags, Tags, TargetTags

        return Tags(estimator_type="classifier", target_tags=TargetTags(required=True),
                    transformer_tags=None, regressor_tags=None,
                    classifier_tags=ClassifierTags())  # fmt: skip

    def score(self, X, y, sample_weight=None) -> float:
        """Mean accuracy of ``predict(X)`` against ``y``."""
        from sklearn.metrics import accuracy_score

        return accuracy_score(y, self.predict(X), sample_weight=sample_weight)


def _is_default(value, default) -> bool:
    if value is default:
        return True
    if default is inspect.Parameter.empty or type(value) is not type(default):
        return False
    try:
        return bool(value == default)
    except Exception:  # e.g. arrays: ambiguous truth value
        return False
