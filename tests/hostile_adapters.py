"""TEST ADAPTERS for the hostile-input tests (never shipped as frameworks): one whose error
message is rich markup, one whose backend package is missing (its install hint holds
brackets). Registered through AUTOML_BENCH_FRAMEWORKS=tests/hostile_frameworks.yaml."""

from __future__ import annotations

from automl_bench_adapters.base import BaseAdapter, Requirements


class FailsWithMarkup(BaseAdapter):
    """Fails in fit with an error text that rich would parse as (broken) markup."""

    def _fit(self, X, y):
        raise ValueError("column [/b] has [bold]odd[/bold] values [link=x]")

    def _predict_proba(self, X):  # pragma: no cover - fit always fails
        raise NotImplementedError


class NeedsMissingBackend(BaseAdapter):
    """Its backend is never installed: `list frameworks` shows the install hint."""

    requirements = Requirements(packages=("no_such_backend_pkg_xyz",), extra="h2o")

    def _fit(self, X, y):  # pragma: no cover - never runnable
        raise NotImplementedError

    def _predict_proba(self, X):  # pragma: no cover
        raise NotImplementedError
