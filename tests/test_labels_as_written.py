"""Labels as written: a text file's target keeps its text (``01`` is not ``1``, whatever the
other rows hold), a CSV row with a missing field is an error naming its line, and a
framework named twice is an error, not every job run twice."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from inprocess import main as cli

from automl_bench.data.sources import SourceContext
from automl_bench.data.sources.files import load
from automl_bench.errors import BadInput
from automl_bench.planning.suite import FileSource


def _csv(tmp_path, labels, name="t.csv"):
    rng = np.random.default_rng(0)
    rows = ["a,b,class"] + [f"{rng.normal():.3f},{rng.normal():.3f},{c}" for c in labels]
    (tmp_path / name).write_text("\n".join(rows) + "\n")
    return name


@pytest.mark.parametrize("other", ["2", "x"])  # all-digit labels, or one with a letter
def test_zero_padded_labels_stay_distinct_classes(tmp_path, other):
    labels = ["1", "01", other] * 10
    data = load(FileSource(path=_csv(tmp_path, labels), target="class"),
                SourceContext(base_dir=tmp_path))  # fmt: skip
    assert sorted(pd.unique(data.y.astype(str))) == sorted({"1", "01", other})


def test_a_row_missing_its_last_field_names_the_line(tmp_path):
    name = _csv(tmp_path, ["a", "b"] * 5)
    text = (tmp_path / name).read_text().splitlines()
    text[4] = text[4].rsplit(",", 1)[0]  # line 5 loses its last field
    (tmp_path / name).write_text("\n".join(text) + "\n")
    with pytest.raises(BadInput, match=r"t\.csv: line 5 has 2 fields, the header 3"):
        load(FileSource(path=name, target="class"), SourceContext(base_dir=tmp_path))


@pytest.mark.parametrize("where", ["option", "suite"])
def test_a_framework_named_twice_is_refused(tmp_path, where):
    out = tmp_path / "run"
    if where == "option":
        code, _, err = cli("run", "--suite", "smoke", "--frameworks", "constant,constant",
                           "--out", out, "--cold-start")  # fmt: skip
    else:
        suite = tmp_path / "twice.yaml"
        suite.write_text("name: twice\nconstraint: {budget_s: 5}\nframeworks: [rf, constant, rf]\n"
                         "tasks:\n  - {name: iris, sklearn: {dataset: iris}}\n")
        code, _, err = cli("run", "--suite", suite, "--out", out, "--cold-start")
    assert code == 2 and "named twice" in err and "Traceback" not in err, err
    assert not out.exists()
