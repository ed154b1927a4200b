"""pandas -> H2O frame transfer: H2OFrame(pandas) against a file the JVM parses itself.

Run: PYTHONPATH=. python tests/benchmarks/h2o_transfer.py [--rows 3750] [--cols 500] [--repeat 3]

Starts one H2O JVM (1 thread, 2 GB heap) through the adapter's own launcher, times each path
on the same frame (numeric features plus a string label, the benchmark's usual shape), and
prints seconds per path (median and min of the repeats, interleaved, after one warm-up
parse). The adapter's path is the last row.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import numpy as np
import pandas as pd


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=3750)
    ap.add_argument("--cols", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    import h2o

    from automl_bench_adapters.h2o_automl import H2OAutoML

    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        rng.normal(size=(args.rows, args.cols)), columns=[f"f{i}" for i in range(args.cols)]
    )
    df["class"] = pd.array([f"c{v}" for v in rng.integers(0, 10, args.rows)], dtype="string")
    scratch = tempfile.mkdtemp(prefix="h2o-transfer-")
    adapter = H2OAutoML(cores=1, memory_mb=3072, scratch_dir=scratch)
    adapter._start()
    try:
        types = {c: "real" for c in df.columns[:-1]} | {"class": "enum"}

        def via_h2oframe():
            return h2o.H2OFrame(df, column_types=types)

        def via_parquet():
            path = os.path.join(scratch, "x.parquet")
            df.to_parquet(path, index=False)
            return h2o.import_file(path, col_types=types)

        def via_csv():
            path = os.path.join(scratch, "x.csv")
            df.to_csv(path, index=False)
            return h2o.import_file(path, col_types=types)

        def via_arrow_csv():
            import pyarrow as pa
            import pyarrow.csv as pacsv

            path = os.path.join(scratch, "y.csv")
            pacsv.write_csv(pa.Table.from_pandas(df, preserve_index=False), path)
            return h2o.import_file(path, col_types=types)

        def via_adapter():  # what fit does
            return adapter._to_h2o(df.drop(columns=["class"]), rng.integers(0, 10, args.rows))

        paths = [
            ("H2OFrame(pandas) [before]", via_h2oframe),
            ("pandas to_csv + import_file", via_csv),
            ("to_parquet + import_file", via_parquet),
            ("pyarrow write_csv + import_file", via_arrow_csv),
            ("adapter._to_h2o [after]", via_adapter),
        ]
        h2o.remove(via_arrow_csv())  # warm the JVM up so the first path is not penalised
        times = {name: [] for name, _ in paths}
        for _ in range(args.repeat):  # interleaved, so load changes hit every path alike
            for name, fn in paths:
                t0 = time.perf_counter()
                frame = fn()
                times[name].append(time.perf_counter() - t0)
                assert frame.shape == (args.rows, args.cols + 1), frame.shape
                h2o.remove(frame)
        print(f"frame: {args.rows} rows x {args.cols} numeric columns + string label")
        print(f"{'path':<34}{'median s':>10}{'min s':>8}")
        for name, _ in paths:
            t = times[name]
            print(f"{name:<34}{statistics.median(t):>10.2f}{min(t):>8.2f}")
    finally:
        adapter.shutdown()


if __name__ == "__main__":
    main()
