"""Read one or several run directories into one results table plus what describes them.

A run directory holds ``results.sqlite`` (or only ``results.csv``, e.g. copied from another
machine), ``environment.json``, ``suite.yaml``, ``plan.json`` and ``tasks/<task>/`` with
``meta.json`` and, when present, ``profile.json``. Everything except the results is optional:
what is absent is reported as absent, never guessed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from automl_bench.errors import BadInput
from automl_bench.results.store import COLUMNS, Store
from automl_bench.yamlio import read_yaml

CONSTANT_ADAPTER = "automl_bench_adapters.constant:ConstantPredictor"
EXTRA_PROFILE = ("imbalance", "sparsity", "missing_ratio")
NUMERIC = (
    "fold", "result", "acc", "balacc", "logloss", "f1_macro", "auc_ovr", "duration",
    "training_duration", "predict_duration", "models_count", "cpu_time", "peak_rss_mb",
    "budget_s", "cores", "memory_mb", "grace_s", "cost_usd", "repaired_rows",
    "infer_first_ms", "infer_1_ms", "infer_1k_ms", "infer_rows_per_s", "infer_peak_rss_mb",
    "model_size_mb", "infer_duration", "infer_allowance_s", "vendor_cost_usd", "vendor_billed_s",
)  # fmt: skip


@dataclass
class RunInfo:
    path: Path
    name: str
    environment: dict | None
    suite: dict | None
    planned: int | None  # jobs in plan.json
    adapters: dict  # framework -> adapter ("module:Class"), from plan.json


@dataclass
class Loaded:
    runs: list[RunInfo]
    results: pd.DataFrame  # COLUMNS + run, label (the framework as the report names it)
    profiles: pd.DataFrame  # index task: rows, features, classes, source
    notes: list[str] = field(default_factory=list)
    constant_labels: set = field(default_factory=set)

    @property
    def frameworks(self) -> list[str]:
        return sorted(self.results["label"].unique()) if not self.results.empty else []

    @property
    def tasks(self) -> list[str]:
        return sorted(self.results["task"].unique()) if not self.results.empty else []


def _read_json(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _read_results(run: Path) -> pd.DataFrame:
    db, csv = run / "results.sqlite", run / "results.csv"
    if db.exists():
        with Store(db) as store:
            return store.frame()
    if csv.exists():
        try:
            df = pd.read_csv(csv, dtype={"task": str, "framework": str})
        except (OSError, ValueError, pd.errors.ParserError) as e:
            raise BadInput(f"{csv}: cannot read results ({e})") from None
        missing = {"task", "framework", "fold", "result"} - set(df.columns)
        if missing:
            raise BadInput(f"{csv}: not a results file (missing columns {sorted(missing)})")
        if "status" not in df.columns:  # AMLB's results.csv: a row with a result is ok
            df["status"] = df["result"].notna().map({True: "ok", False: "failed"})
        return df.reindex(columns=COLUMNS)
    raise BadInput(f"{run}: not a run directory (no results.sqlite or results.csv)")


def _profile(task_dir: Path) -> dict:
    """rows, features, classes of one task from profile.json, else meta.json (either may lack)."""
    out = {}
    for name in ("profile.json", "meta.json"):
        data = _read_json(task_dir / name)
        if not isinstance(data, dict):
            continue
        for key, aliases in (
            ("rows", ("rows", "n_rows", "instances")),
            ("features", ("features", "n_features")),
            ("classes", ("classes", "n_classes")),
        ):
            if key in out:
                continue
            for a in aliases:
                v = data.get(a)
                if isinstance(v, list):
                    v = len(v)
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    out[key] = int(v)
                    break
        if name == "profile.json":  # automl_bench.data.profile's difficulty markers, when present
            for key in EXTRA_PROFILE:
                v = data.get(key)
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    out[key] = float(v)
        out.setdefault("source", name)
    return out


def load_runs(run_dirs) -> Loaded:
    if not run_dirs:
        raise BadInput("give at least one run directory")
    runs, frames, notes, profiles = [], [], [], {}
    seen_names: set[str] = set()
    for raw in run_dirs:
        run = Path(raw)
        if not run.is_dir():
            raise BadInput(f"{run}: no such run directory")
        df = _read_results(run)
        name = run.resolve().name
        if name in seen_names:  # two runs with the same folder name: qualify with the parent
            name = f"{run.resolve().parent.name}/{name}"
        seen_names.add(name)
        suite = None
        if (run / "suite.yaml").exists():
            try:
                suite = read_yaml(run / "suite.yaml")
            except BadInput:
                notes.append(f"{run}/suite.yaml is unreadable; suite details are not shown")
        plan = _read_json(run / "plan.json")
        adapters = {}
        if isinstance(plan, list):
            adapters = {j.get("framework"): j.get("adapter") for j in plan if isinstance(j, dict)}
        env = _read_json(run / "environment.json")
        if env is None:
            notes.append(f"{run}: no environment.json; the environment of this run is unknown")
        runs.append(
            RunInfo(run, name, env, suite if isinstance(suite, dict) else None,
                    len(plan) if isinstance(plan, list) else None, adapters)
        )  # fmt: skip
        df = df.copy()
        df["run"] = name
        frames.append(df)
        tasks_dir = run / "tasks"
        for task in df["task"].dropna().unique():
            if task not in profiles and (tasks_dir / str(task)).is_dir():
                profiles[task] = _profile(tasks_dir / str(task))
        if isinstance(plan, list) and len(plan) > len(df):
            notes.append(
                f"run {name}: {len(plan) - len(df)} of {len(plan)} planned jobs have no result "
                "yet (run interrupted or still running); they count as missing"
            )
    results = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)
    for c in NUMERIC:
        results[c] = pd.to_numeric(results[c], errors="coerce")
    for c in ("task", "framework", "status", "constraint", "params", "error_type", "error_message"):
        results[c] = results[c].astype("string").astype(object).where(results[c].notna(), None)
    results, more = _label(results)
    notes += more
    results, more = _dedupe(results)
    notes += more
    constant = set()
    for info in runs:
        constant |= {f for f, a in info.adapters.items() if a == CONSTANT_ADAPTER}
    if not any(info.adapters for info in runs):
        constant = {"constant"}
    constant_labels = set(results.loc[results["framework"].isin(constant), "label"])
    prof = pd.DataFrame.from_dict(profiles, orient="index")
    prof = prof.reindex(columns=["rows", "features", "classes", *EXTRA_PROFILE, "source"])
    return Loaded(runs, results, prof, notes, constant_labels)


def _label(df: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """A framework's report name: its variant name, qualified when runs disagree about it."""
    notes = []
    df["label"] = df["framework"]
    if df.empty:
        return df, notes
    for name, g in df.groupby("framework"):
        # budgets are an axis (automl_bench.report.budget_curves), not a configuration
        configs = pd.DataFrame({"setting": _without_budget(g), "params": g["params"]})
        configs = configs.fillna("").drop_duplicates()
        if len(configs) < 2:
            continue
        by_constraint = g["constraint"].nunique() > 1
        key = g["constraint"] if by_constraint else g["run"]
        df.loc[g.index, "label"] = name + " [" + key.astype(str) + "]"
        notes.append(
            f"framework {name!r} ran with different {'constraints' if by_constraint else 'parameters'}"
            " across runs; each configuration is reported separately"
        )
    return df, notes


def _without_budget(g: pd.DataFrame) -> list[str]:
    """Each row's constraint name without its budget ("1c4096M" for "30s1c4096M")."""
    out = []
    for c, b in zip(g["constraint"].fillna("").astype(str), g["budget_s"], strict=True):
        head = f"{b:g}s" if pd.notna(b) else None
        out.append(c[len(head):] if head and c.startswith(head) else c)
    return out


def _dedupe(df: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Several runs holding the same (framework, task, fold, budget): keep the most recent row."""
    if df.empty:
        return df, []
    df = df.sort_values("utc", kind="stable", na_position="first")
    dup = df.duplicated(["label", "task", "fold", "budget_s"], keep="last")
    notes = []
    if dup.any():
        notes.append(
            f"{int(dup.sum())} result rows appear in more than one run; the most recent is used"
        )
    df = df[~dup].sort_values(["task", "label", "fold"], kind="stable").reset_index(drop=True)
    return df, notes
