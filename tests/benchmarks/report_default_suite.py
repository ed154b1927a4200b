"""Estimate, then run, the default suite with five framework variants; compare the estimate
with the real wall time, build the report and open it in headless Chromium.

    PYTHONPATH=. python tests/benchmarks/report_default_suite.py [--parallel 2] [--out DIR]

Prints: the estimate (idle machine and at the load measured before the run), the actual wall
time of `automl-bench run`, their ratios, the load average before/after, and the browser
check (console errors, images loaded, screenshot path). The fifth variant is `rf_small`
(RandomForest, 50 trees) from a user frameworks file, or `flaml` when --with-flaml is given
and FLAML's adapter exists.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

EXTRA = """
rf_small:
  adapter: automl_bench_adapters.random_forest:RandomForest
  description: RandomForest, 50 trees
  params: {n_estimators: 50}
"""


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--parallel", type=int, default=2)
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "bench-default-5fw")
    ap.add_argument("--frameworks", default="constant,rf,xgboost,lightgbm,rf_small")
    args = ap.parse_args()

    fw_file = Path(tempfile.mkdtemp()) / "frameworks.yaml"
    fw_file.write_text(EXTRA)
    os.environ["AUTOML_BENCH_FRAMEWORKS"] = str(fw_file)
    os.environ["PYTHONPATH"] = str(ROOT)

    from automl_bench.run.estimate import estimate
    from automl_bench.run.options import RunOptions

    frameworks = args.frameworks.split(",")
    est = estimate(RunOptions(suite="default", frameworks=frameworks, parallel=args.parallel))
    load_before = os.getloadavg()
    print(
        f"estimate: {len(est.jobs)} jobs, {est.cpu_hours:.4f} CPU-h, ${est.usd:.4f}; "
        f"wall {est.wall_s:.0f} s idle, {est.loaded_wall_s:.0f} s at load {est.load:.2f} "
        f"(slowdown x{est.slowdown:.2f}); {sum(j.capped for j in est.jobs)} predicted timeouts"
    )

    if args.out.exists():
        import shutil

        shutil.rmtree(args.out)
    t0 = time.monotonic()
    p = subprocess.run(
        [sys.executable, "-m", "automl_bench", "run", "--suite", "default", "--frameworks",
         args.frameworks, "--parallel", str(args.parallel), "--out", str(args.out), "--no-report"],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    actual = time.monotonic() - t0
    load_after = os.getloadavg()
    print(p.stdout[-3000:])
    if p.returncode != 0:
        print(p.stderr[-3000:])
        return 1
    print(f"actual wall time of `run`: {actual:.0f} s")
    print(
        f"estimate / actual: idle {est.wall_s / actual:.2f}, at load {est.loaded_wall_s / actual:.2f}"
    )
    print(f"load average (1, 5, 15 min) before {load_before}, after {load_after}")

    t0 = time.monotonic()
    p = subprocess.run([sys.executable, "-m", "automl_bench", "report", str(args.out)], cwd=ROOT,
                       capture_output=True, text=True)  # fmt: skip
    print(f"report built in {time.monotonic() - t0:.1f} s (exit {p.returncode})")
    if p.returncode != 0:
        print(p.stderr[-3000:])
        return 1
    from browser import inspect_page

    shot = ROOT / "reports" / "default-suite" / "report.png"
    page = inspect_page((args.out / "report" / "index.html").resolve().as_uri(), shot)
    loaded = sum(1 for i in page["images"] if i["complete"] and i["width"] > 0)
    print(
        f"chromium: console errors {page['errors']}, images loaded {loaded}/{len(page['images'])}"
        f", scripts {page['scripts']}, screenshot {shot}"
    )
    return 0 if not page["errors"] and loaded == len(page["images"]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
