"""Adapters are scikit-learn estimators without importing scikit-learn themselves: what
scikit-learn does with an estimator works on them, and their labels are encoded exactly as
scikit-learn's LabelEncoder would."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone, is_classifier
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import LabelEncoder, StandardScaler

from automl_bench_adapters.base import encode_labels
from automl_bench_adapters.constant import ConstantPredictor
from automl_bench_adapters.random_forest import RandomForest


def test_the_constant_predictor_loads_without_scikit_learn_or_scipy():
    code = ("import sys, automl_bench_adapters.constant, automl_bench.execution.worker; "
            "print(sorted(m for m in ('sklearn', 'scipy') if m in sys.modules))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out


LABELS = {
    "str": pd.Series(list("bacab")),
    "object": pd.Series(list("bacab"), dtype=object),
    "string": pd.Series(list("bacab"), dtype="string"),
    "category": pd.Series(pd.Categorical(list("bacab"))),
    "int categories": pd.Series(pd.Categorical([3, 1, 2, 1])),
    "int64": pd.Series([3, 1, 2, 1]),
    "int32": pd.Series(np.array([3, 1, 2, 1], dtype=np.int32)),
    "uint8": pd.Series(np.array([3, 1, 2, 1], dtype=np.uint8)),
    "float": pd.Series([3.5, 1.0, 2.0, 1.0]),
    "bool": pd.Series([True, False, True]),
    "nullable Int64": pd.Series([3, 1, 2, 1], dtype="Int64"),
    "nullable boolean": pd.Series([True, False, True], dtype="boolean"),
    "nullable Float64": pd.Series([3.5, 1.0, 2.0], dtype="Float64"),
    "arrow int": pd.Series([3, 1, 2], dtype="int64[pyarrow]"),
    "python ints": pd.Series([1, 2, 1], dtype=object),
}


@pytest.mark.parametrize("name", list(LABELS))
def test_labels_are_encoded_as_label_encoder_does(name):
    y = LABELS[name]
    le = LabelEncoder().fit(y)
    classes, codes = encode_labels(y)
    assert classes.dtype == le.classes_.dtype
    assert [type(c) for c in classes] == [type(c) for c in le.classes_]
    assert list(classes) == list(le.classes_)
    assert codes.dtype == np.int64 and (codes == le.transform(y)).all()
    X = pd.DataFrame({"x": np.arange(len(y), dtype=float)})
    model = ConstantPredictor().fit(X, y)
    assert [type(c) for c in model.classes_] == [type(c) for c in le.classes_]
    assert list(model.predict(X)) == [le.classes_[np.bincount(le.transform(y)).argmax()]] * len(y)


def test_what_scikit_learn_does_with_an_estimator_works():
    X = pd.DataFrame({"a": np.arange(40.0), "b": np.arange(40.0) % 3})
    y = pd.Series(list("aabbbcbbba") * 4)
    m = ConstantPredictor(time_limit=5, seed=3)
    assert repr(m) == "ConstantPredictor(seed=3, time_limit=5)"
    assert m.get_params() == {"cores": 1, "memory_mb": None, "scratch_dir": None, "seed": 3,
                              "time_limit": 5}  # fmt: skip
    copy = clone(m)
    assert copy is not m and copy.get_params() == m.get_params()
    assert is_classifier(m) and is_classifier(make_pipeline(StandardScaler(), m))
    scores = cross_val_score(make_pipeline(StandardScaler(), ConstantPredictor()), X, y, cv=2)
    assert list(scores) == [0.6, 0.6]  # the majority class "b" is 12 of 20 rows in each half
    assert m.fit(X, y).score(X, y) == 0.6
    pipe = make_pipeline(StandardScaler(), RandomForest(n_estimators=5))
    pipe.set_params(randomforest__n_estimators=7, randomforest__seed=1)
    assert pipe[-1].n_estimators == 7 and pipe[-1].seed == 1
    with pytest.raises(ValueError, match="Invalid parameter 'n_trees'"):
        RandomForest().set_params(n_trees=3)
