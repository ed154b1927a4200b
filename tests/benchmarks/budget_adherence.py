"""Budget adherence of the AutoML adapters: fit wall time / budget, and accuracy.

Run (from the repository root):

    PYTHONPATH=. python tests/benchmarks/budget_adherence.py \
        [--budget 30] [--datasets semeion,cnae-9,arrhythmia] [--adapters flaml,h2o,autogluon,evalml]

Each (adapter, dataset) fit runs in a fresh process (tests/adapter_probe.py) with the
adapter's interpreter: the harness's own for FLAML and H2O, the adapter's environment for
AutoGluon and EvalML (skipped with the fix when absent). Data: ../shared/datasets, stratified
70/30 split, seed 0, 1 core, 4096 MB. Runs one fit at a time. Prints one row per fit, then
per adapter the median and max of fit_s / budget and the mean accuracy.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench import envs  # noqa: E402
from bench.registry import get  # noqa: E402

SHARED = Path(os.environ.get("AUTOML_BENCH_SHARED", ROOT.parent / "shared"))


def interpreter(variant) -> tuple[str | None, str]:
    cls = variant.adapter_class()
    gone = cls.requirements.missing()
    if gone:
        return None, f"{', '.join(gone)} missing: {cls.requirements.install_hint()}"
    return cls.requirements.python() or sys.executable, ""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--budget", type=float, default=30)
    ap.add_argument("--datasets", default="semeion,cnae-9,arrhythmia")
    ap.add_argument("--adapters", default="flaml,h2o,autogluon,evalml")
    ap.add_argument("--json", type=Path, help="also write the rows here")
    args = ap.parse_args()

    rows = []
    print(f"budget {args.budget:g}s, 1 core, envs in {envs.envs_dir()}")
    print(f"{'adapter':<12}{'dataset':<14}{'fit_s':>8}{'ratio':>8}{'acc':>8}  models")
    for name in args.adapters.split(","):
        variant = get(name)
        python, why = interpreter(variant)
        if python is None:
            print(f"{name:<12}skipped: {why}")
            continue
        for ds in args.datasets.split(","):
            cmd = [
                python, str(ROOT / "tests" / "adapter_probe.py"), variant.adapter,
                str(SHARED / "datasets" / f"{ds}.parquet"), "--budget", str(args.budget),
                "--params", json.dumps(variant.params),
            ]  # fmt: skip
            proc = subprocess.run(
                cmd, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}
            )
            lines = [x for x in proc.stdout.splitlines() if x.startswith("PROBE ")]
            if proc.returncode != 0 or not lines:
                err = (proc.stderr.strip().splitlines() or ["?"])[-1]
                print(f"{name:<12}{ds:<14}failed: {err[:200]}")
                rows.append({"adapter": name, "dataset": ds, "error": err})
                continue
            out = json.loads(lines[-1][len("PROBE ") :])
            ratio = out["fit_s"] / args.budget
            print(
                f"{name:<12}{ds:<14}{out['fit_s']:>8.1f}{ratio:>8.2f}{out['accuracy']:>8.3f}"
                f"  {out['models_count']}"
            )
            rows.append({**out, "adapter": name, "dataset": ds, "ratio": ratio})

    print(f"\n{'adapter':<12}{'median ratio':>14}{'max ratio':>11}{'mean acc':>10}  fits")
    for name in args.adapters.split(","):
        ok = [r for r in rows if r["adapter"] == name and "ratio" in r]
        if not ok:
            continue
        ratios = [r["ratio"] for r in ok]
        acc = statistics.mean(r["accuracy"] for r in ok)
        print(
            f"{name:<12}{statistics.median(ratios):>14.2f}{max(ratios):>11.2f}{acc:>10.3f}"
            f"  {len(ok)}"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, default=str))


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)
    main()
