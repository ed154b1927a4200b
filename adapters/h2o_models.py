"""Which of H2O's models are finished: H2O's own record per algorithm (trees or epochs built
against planned, a GLM's deviances, a stacked ensemble's metalearner), the leaderboard read
back in one REST call, the fold models kept by cross-validation, and the error a fit ends
with when every model was cut short."""

from __future__ import annotations

import numpy as np
import pandas as pd

from automl_bench_adapters.base import AdapterError


class ModelsCutShort(AdapterError):
    """Every model on H2O's leaderboard was cut short (by the deadline cancel or by H2O's own
    time limit) and no finished model is left to keep; the message names them and why."""


# what H2O plans for a model's main fit and how far the fit got, per algorithm: the
# parameter H2O sets before the fit (after cross-validation, from the folds) and the key of
# the model's summary or scoring history that counts what was built
_PLANNED = {"gbm": "ntrees", "drf": "ntrees", "xgboost": "ntrees", "deeplearning": "epochs"}


def _summary_value(model, key: str) -> float | None:
    """A number from the model's summary table (first row), or None."""
    try:
        summary = model._model_json["output"]["model_summary"]
        row = dict(zip(summary.col_header, summary.cell_values[0], strict=False))
        return float(row[key])
    except Exception:
        return None


def _built(model) -> float | None:
    """How much of its planned work a model did: trees per class, or epochs."""
    algo = model.algo
    if algo == "deeplearning":
        try:
            history = model._model_json["output"]["scoring_history"]
            return float(history.cell_values[-1][list(history.col_header).index("epochs")])
        except Exception:
            return None
    trees = _summary_value(model, "number_of_trees")
    internal = _summary_value(model, "number_of_internal_trees")
    if trees is not None and internal is not None and trees and internal > trees:
        return trees  # GBM/DRF on k classes: number_of_trees counts iterations
    return trees


def _glm_record(model, cv_logloss: float) -> str | bool:
    """A GLM's main fit cut short ends near where it started, the intercepts only: its
    training residual deviance is still about its null deviance although its folds learned
    (cross-validated log loss well under the null model's)."""
    try:
        null, resid = float(model.null_deviance(train=True)), float(model.residual_deviance(train=True))
        rows = float(model._model_json["output"]["training_metrics"]._metric_json["nobs"])
    except Exception:
        return True
    if not (null > 0 and rows > 0 and np.isfinite(resid)) or resid < 0.95 * null:
        return True
    if np.isfinite(cv_logloss) and cv_logloss < 0.9 * null / (2 * rows):
        return f"cut short: residual deviance {resid:.4g} of null deviance {null:.4g}"
    return True


def _h2o_record(model, cv_logloss: float = float("nan")) -> str | bool | None:
    """H2O's own record of whether a model's main fit ran to its end: True when it did, a
    reason when it was cut short, None when H2O keeps no such record for the algorithm.

    Trees and deep learning: after cross-validation H2O sets the main model's ``ntrees`` /
    ``epochs`` from its folds (early stopping off), so a main model with fewer trees or epochs
    than planned was stopped by its time limit or a cancel. A stacked ensemble is finished
    when its metalearner is. GLM: H2O records no planned iteration count that a cut fit falls
    short of; its deviances do (:func:`_glm_record`), not its training log loss against its
    CV log loss (the loss heuristic rejected a finished 100-class GLM).
    """
    algo = model.algo
    if algo == "stackedensemble":
        meta = (model._model_json["output"].get("metalearner") or {}).get("name")
        if not meta:
            return "cut short: a stacked ensemble without its metalearner"
        import h2o

        inner = _h2o_record(h2o.get_model(meta), cv_logloss)
        return _bases_record(model) if inner in (True, None) else f"{inner} (its metalearner)"
    if algo == "glm":
        return _glm_record(model, cv_logloss)
    if algo not in _PLANNED:
        return None
    params = model.actual_params
    if not params.get("nfolds") and params.get("stopping_rounds"):
        return None  # early stopping may legitimately end it before the planned count
    planned, built = params.get(_PLANNED[algo]), _built(model)
    if planned is None or built is None:
        return None
    if built + 1e-6 >= 0.99 * float(planned):
        return True
    unit = "trees" if _PLANNED[algo] == "ntrees" else "epochs"
    return f"cut short: {built:g} of {float(planned):g} {unit}"


def base_model_ids(model) -> list[str]:
    """A stacked ensemble's base models (their ids as H2O records them)."""
    raw = (model.actual_params or {}).get("base_models") or []
    return [str(b.get("name") if isinstance(b, dict) else b) for b in raw]


def _bases_record(model) -> str | bool:
    """A stacked ensemble predicts as its cross-validation measured only through finished
    base models: its metalearner reads their main models' predictions (a base model cut
    short or gone leaves it columns H2O fills with NaN, and it predicts the majority)."""
    import h2o

    for b in base_model_ids(model):
        try:
            base = h2o.get_model(b)
        except Exception:
            return f"cut short: its base model {b} is gone"
        why = _h2o_record(base)
        if why not in (True, None):
            return f"{why} (its base model {b})"
    return True


def as_built_by_cv(model, cv_logloss: float) -> bool:
    """Whether a model is the one its cross-validation measured.

    H2O trains a model's main version after its cross-validation models, and ranks it by
    their metrics. When time runs out (H2O's own per-model limit, or a cancel at the deadline)
    during that last fit, the main model is kept with a few trees or iterations: it ranks by
    the good CV metrics of its folds but predicts little better than chance. H2O's own record
    decides where it keeps one (:func:`_h2o_record`); otherwise the model's log loss on its
    own training rows shows it: a finished model fits its training rows at least about as
    well as its held-out folds.
    """
    return cut_reason(model, cv_logloss) is None


def cut_reason(model, cv_logloss: float) -> str | None:
    """Why a leaderboard model is not the finished model its ranking measured, or None."""
    try:
        record = _h2o_record(model, cv_logloss)
    except Exception:
        record = None
    if record is not None:
        return None if record is True else str(record)
    try:
        train = float(model.logloss(train=True))
    except Exception:
        return None  # no training metric to compare: nothing says it is unfinished
    if not np.isfinite(train) or not np.isfinite(cv_logloss):
        return None
    if train <= 1.5 * cv_logloss + 0.1:
        return None
    return f"cut short: training log loss {train:.3g} > 1.5 x CV log loss {cv_logloss:.3g} + 0.1"


def read_leaderboard(project: str, target: str) -> pd.DataFrame:
    """An AutoML run's leaderboard (with ``training_time_ms``) in one REST call: h2o's own
    client uploads the table back into the JVM as a frame and downloads that again, several
    calls that take seconds on a busy core, right when the deadline is near."""
    import h2o

    resp = h2o.api(f"GET /99/Leaderboards/{project}@@{target}",
                   data={"extensions": ["training_time_ms"]})  # fmt: skip
    table = resp["table"]
    board = pd.DataFrame(list(table.cell_values), columns=list(table.col_header))
    board = board.drop(columns=board.columns[0])  # the row number
    for c in board.columns:
        if c != "model_id":
            board[c] = pd.to_numeric(board[c], errors="coerce")
    board["model_id"] = board["model_id"].astype(str)
    return board.reset_index(drop=True)


def fold_models(mains, stop_at):
    """The cross-validation models H2O kept for ``mains`` (H2O names them
    ``<model>_cv_<fold>``, from 1), until ``stop_at()`` says time is up."""
    import h2o

    for main in dict.fromkeys(str(m) for m in mains):
        for k in range(1, 21):
            if stop_at():
                return
            try:
                yield h2o.get_model(f"{main}_cv_{k}")
            except Exception:
                break  # the first missing fold ends them


def as_pandas(frame) -> pd.DataFrame:
    """H2OFrame -> pandas without the warning that polars is not installed (small frames)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return frame.as_data_frame()
