"""Load time from the columnar task cache versus parsing the source file.

Usage:  PYTHONPATH=. python tests/benchmarks/taskcache_ratio.py [DATASETS_DIR] [REPEATS]

For datasets with >= 500 features (cnae-9: 1080 x 856, micro-mass: 571 x 1300) written as
ARFF and CSV in a temp dir, times (median of REPEATS, default 5):
  parse  = automl_bench.data.sources.files.load (read + parse the file into a frame)
  cache  = what a cache hit costs: fingerprint (SHA-256 of the file bytes) + read_cached
and the same for the whole taskcache.load (validation, folds, profile included) on a miss
versus a hit. Prints one row per dataset and format.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from data_files import write_arff  # noqa: E402

from automl_bench import taskcache  # noqa: E402
from automl_bench.data.sources import SourceContext, fingerprint  # noqa: E402
from automl_bench.data.sources.files import load  # noqa: E402
from automl_bench.planning.suite import Suite, TaskSpec  # noqa: E402


def median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def measure(spec, ctx, suite, repeats) -> tuple[float, float, float, float]:
    parse = median_time(lambda: load(spec.file, ctx), repeats)
    miss = median_time(lambda: taskcache.load(spec, suite, ctx), repeats)
    taskcache.commit([taskcache.load(spec, suite, ctx)])
    assert taskcache.load(spec, suite, ctx).cache_hit
    cache = median_time(lambda: taskcache.read_cached(ctx.cache_root, fingerprint(spec, ctx)),
                        repeats)  # fmt: skip
    hit = median_time(lambda: taskcache.load(spec, suite, ctx), repeats)
    return parse, cache, miss, hit


def main() -> None:
    shared = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("../shared/datasets")
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    suite = Suite(name="b", folds=5, constraint={"budget_s": 5}, frameworks=["constant"],
                  tasks=[{"name": "x", "sklearn": {"dataset": "iris"}}])  # fmt: skip
    print(f"{'dataset':12} {'format':6} {'MB':>6} {'parse s':>8} {'cache s':>8} {'ratio':>6}"
          f" {'load miss s':>11} {'load hit s':>10} {'ratio':>6}")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name in ("cnae-9", "micro-mass"):
            df = pd.read_parquet(shared / f"{name}.parquet")
            assert df.shape[1] - 1 >= 500
            write_arff(df, tmp / f"{name}.arff")
            df.to_csv(tmp / f"{name}.csv", index=False)
            for fmt in ("arff", "csv"):
                ctx = SourceContext(base_dir=tmp, cache_root=tmp / f"cache-{name}-{fmt}")
                spec = TaskSpec(name=name, file={"path": f"{name}.{fmt}", "target": "class"})
                parse, cache, miss, hit = measure(spec, ctx, suite, repeats)
                mb = (tmp / f"{name}.{fmt}").stat().st_size / 1e6
                print(f"{name:12} {fmt:6} {mb:6.1f} {parse:8.3f} {cache:8.3f} {parse / cache:6.1f}"
                      f" {miss:11.3f} {hit:10.3f} {miss / hit:6.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
