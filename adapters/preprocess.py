"""Shared input preparation for adapters whose backend wants a numeric matrix."""

from __future__ import annotations

import pandas as pd


def categorical_columns(X: pd.DataFrame) -> list[str]:
    return [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]


def as_category(X: pd.DataFrame, categories: dict[str, pd.Index] | None = None):
    """Cast non-numeric columns to pandas ``category`` with fixed categories.

    Returns the frame and the categories seen, so predict-time frames get the same codes
    (unseen values become missing). Categorical columns with no value at all in training
    are dropped (they carry nothing, and XGBoost rejects empty categories). XGBoost and
    LightGBM consume the result directly.
    """
    X = X.copy()
    fitting = categories is None
    cats = {} if fitting else categories
    for c in categorical_columns(X) if fitting else list(categories):
        col = X[c].astype(object).where(X[c].notna(), None)
        if fitting:
            cats[c] = pd.Index(sorted({str(v) for v in col.dropna()}), dtype=object)
        if len(cats[c]) == 0:
            X = X.drop(columns=[c])
            continue
        values = col.map(lambda v: None if v is None else str(v))
        X[c] = pd.Categorical(values.where(values.isin(cats[c]), None), categories=cats[c])
    return X, cats


def ordinal_encoder():
    """A ColumnTransformer: numeric passthrough, categoricals as ordinal codes; missing values
    stay NaN."""
    from sklearn.compose import ColumnTransformer, make_column_selector
    from sklearn.preprocessing import OrdinalEncoder

    return ColumnTransformer(
        [
            (
                "cat",
                OrdinalEncoder(
                    handle_unknown="use_encoded_value",
                    unknown_value=-1,
                    encoded_missing_value=float("nan"),
                ),
                make_column_selector(dtype_exclude="number"),
            )
        ],
        remainder="passthrough",
        verbose_feature_names_out=False,
    )
