"""The report's "Anytime performance" section: how each framework's best model improved while
it searched, from the jobs' trajectory files (``trajectory.parquet``, see
:mod:`automl_bench.execution.trajectory_file`).

Per job, the trajectory is a step function: the backend's best validation log loss so far
at each second since its fit started. Before its first model a framework is counted at the
constant predictor's loss (it has nothing better to offer yet).

Normalisation, per task and fold, so tasks can be averaged:
``(loss - best) / (constant - best)``, clipped to [0, 1], where ``best`` is the lowest final
validation loss any framework reached on that fold and ``constant`` the constant predictor's
loss there (its trajectory: the class prior's log loss on the training rows; else its test
log loss). 0 is the best any framework reached, 1 is no better than the class prior (worse
counts as 1). Curves are averaged over folds, then over tasks; a task without a constant
predictor's loss is drawn raw but left out of the average.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from automl_bench.report import plots
from automl_bench.report.document import Image, Section, SectionResult
from automl_bench.report.load import Loaded
from automl_bench.report.placement import legend_outside
from automl_bench.report.tables import Table, num, text

LOG_LOSS = "log_loss"
GRID_POINTS = 121
SHARES = (0.1, 0.25, 0.5, 1.0)
MAX_TASK_PANELS = 24


def collect(loaded: Loaded) -> pd.DataFrame:
    """Every stored trajectory point of the loaded runs' ok jobs, with the job's label, task,
    fold and budget."""
    from automl_bench.execution.trajectory_file import read
    from automl_bench.planning.plan import job_dir

    df = loaded.results
    if df.empty or "job_id" not in df:
        return pd.DataFrame()
    runs = {r.name: r.path for r in loaded.runs}
    points = pd.to_numeric(df.get("trajectory_points"), errors="coerce") if \
        "trajectory_points" in df else pd.Series(np.nan, index=df.index)  # fmt: skip
    frames = []
    for _, r in df[(df["status"] == "ok") & (points > 0)].iterrows():
        run = runs.get(r["run"])
        if run is None or not isinstance(r["job_id"], str):
            continue
        tr = read(job_dir(run, r["framework"], r["task"], int(r["fold"]), r["job_id"]))
        if tr is None or tr.empty or "elapsed_s" not in tr or "best_loss" not in tr:
            continue
        tr = tr.assign(label=r["label"], task=r["task"], fold=int(r["fold"]),
                       budget_s=float(r["budget_s"]) if pd.notna(r["budget_s"]) else np.nan)  # fmt: skip
        frames.append(tr)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def step_values(tr: pd.DataFrame, grid: np.ndarray, before: float) -> np.ndarray:
    """The trajectory's best_loss at each grid second (``before`` until its first point)."""
    t = tr["elapsed_s"].to_numpy(dtype=float)
    v = tr["best_loss"].to_numpy(dtype=float)
    idx = np.searchsorted(t, grid, side="right") - 1
    return np.where(idx >= 0, v[np.clip(idx, 0, None)], before)


def references(loaded: Loaded, traj: pd.DataFrame) -> dict:
    """(task, fold) -> (best final loss of any compared framework, constant's loss)."""
    out = {}
    constant = loaded.constant_labels
    df = loaded.results
    for (task, fold), g in traj.groupby(["task", "fold"]):
        finals = g[~g["label"].isin(constant)].groupby("label")["best_loss"].min()
        const = g[g["label"].isin(constant)]["best_loss"]
        ref = float(const.min()) if len(const) else math.nan
        if math.isnan(ref) and not df.empty and "logloss" in df:  # the constant's test loss
            rows = df[df["label"].isin(constant) & (df["task"] == task) & (df["fold"] == fold)]
            vals = pd.to_numeric(rows["logloss"], errors="coerce").dropna()
            ref = float(vals.iloc[0]) if len(vals) else math.nan
        if len(finals):
            out[(task, fold)] = (float(finals.min()), ref)
    return out


def curves(loaded: Loaded, traj: pd.DataFrame, grid: np.ndarray):
    """(raw, normalised): long frames of label, task, t, value; each averaged over folds.
    Raw curves start at a framework's first model; normalised ones count it as the constant
    predictor until then."""
    refs = references(loaded, traj)
    raw, norm = [], []
    for (label, task, fold), g in traj.groupby(["label", "task", "fold"]):
        if label in loaded.constant_labels or (task, fold) not in refs:
            continue
        best, const = refs[(task, fold)]
        g = g.sort_values("elapsed_s", kind="stable")
        v = step_values(g, grid, math.nan)  # drawn from the first model on
        raw.append(pd.DataFrame({"label": label, "task": task, "fold": fold, "t": grid, "value": v}))
        if not math.isnan(const) and const - best > 1e-12:
            n = np.clip((np.where(np.isnan(v), const, v) - best) / (const - best), 0.0, 1.0)
            norm.append(pd.DataFrame({"label": label, "task": task, "fold": fold, "t": grid,
                                      "value": n}))  # fmt: skip
    def folds_mean(parts):
        if not parts:
            return pd.DataFrame(columns=["label", "task", "t", "value"])
        return pd.concat(parts).groupby(["label", "task", "t"], as_index=False)["value"].mean()

    return folds_mean(raw), folds_mean(norm)


def average(norm: pd.DataFrame) -> pd.DataFrame:
    """Mean normalised loss over tasks per label and second, with the number of tasks."""
    if norm.empty:
        return pd.DataFrame(columns=["framework", "t", "normalised_loss", "tasks"])
    out = norm.groupby(["label", "t"]).agg(normalised_loss=("value", "mean"),
                                           tasks=("task", "nunique")).reset_index()  # fmt: skip
    return out.rename(columns={"label": "framework"})


def _colours(labels) -> dict:
    import matplotlib.pyplot as plt

    cmap = plt.get_cmap("tab10" if len(labels) <= 10 else "tab20")
    return {lb: cmap(i % cmap.N) for i, lb in enumerate(sorted(labels))}


def plot_mean(avg: pd.DataFrame, n_tasks: int) -> bytes:
    """Mean normalised loss over tasks against seconds, one line per framework."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4))
    colours = _colours(avg["framework"].unique())
    for label, g in avg.groupby("framework"):
        ax.step(g["t"], g["normalised_loss"], where="post", color=colours[label],
                label=plots._text(label))  # fmt: skip
    ax.set_xlabel("seconds since fit started")
    ax.set_ylabel("normalised validation loss (0 = best, 1 = class prior)")
    ax.set_title(f"Best model so far, mean over {n_tasks} task(s)")
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    legend_outside(ax, fontsize=8)
    return plots._png(fig)


def plot_tasks(raw: pd.DataFrame) -> bytes:
    """One panel per task: best validation log loss so far against seconds."""
    import matplotlib.pyplot as plt

    tasks = sorted(raw["task"].unique())
    cols = min(3, len(tasks))
    rows = math.ceil(len(tasks) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 2.7 * rows), squeeze=False)
    colours = _colours(raw["label"].unique())
    for ax, task in zip(axes.flat, tasks, strict=False):
        g = raw[raw["task"] == task]
        for label, c in g.groupby("label"):
            ax.step(c["t"], c["value"], where="post", color=colours[label],
                    label=plots._text(label))  # fmt: skip
        ax.set_title(plots._text(task), fontsize=9)
        ax.grid(alpha=0.3)
        finite = g["value"][np.isfinite(g["value"])]
        if len(finite) and finite.min() > 0 and finite.max() / finite.min() > 20:
            ax.set_yscale("log")
    for ax in list(axes.flat)[len(tasks):]:
        ax.axis("off")
    for ax in axes[:, 0]:
        ax.set_ylabel("validation log loss")
    for ax in axes[-1, :]:
        ax.set_xlabel("seconds")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(6, len(labels)), fontsize=8,
               bbox_to_anchor=(0.5, -0.02))  # fmt: skip
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return plots._png(fig)


def _summary(avg: pd.DataFrame, traj: pd.DataFrame, horizon: float, constant) -> Table:
    cols = ["framework", "jobs with a trajectory", "tasks averaged", "validation data"]
    cols += [f"at {s:.0%} ({s * horizon:.3g} s)" for s in SHARES]
    t = Table(cols, caption=(
        "Mean normalised validation loss (0 = the best final loss any framework reached on the "
        "task and fold, 1 = the constant predictor's) over the tasks, at shares of the longest "
        "budget; lower is better. Validation data is each backend's own, as it reported it."))  # fmt: skip
    for label in sorted(set(traj["label"]) - set(constant)):
        g = traj[traj["label"] == label]
        jobs = g.groupby(["task", "fold"]).ngroups
        where = "; ".join(sorted(g["validation"].astype(str).unique())) if "validation" in g else ""
        a = avg[avg["framework"] == label]
        row = [text(label), str(jobs), str(int(a["tasks"].max())) if len(a) else "0", where]
        for s in SHARES:
            if a.empty:
                row.append("-")
                continue
            at = a.iloc[int(np.argmin(np.abs(a["t"].to_numpy() - s * horizon)))]
            row.append(num(float(at["normalised_loss"]), 3))
        t.rows.append(row)
    return t


def build(ctx) -> SectionResult:
    """The Anytime performance section, with tables/anytime.csv (the averaged normalised
    curves). Its loss is each backend's own validation log loss, whatever the report's
    decision metric."""
    s, avg = section(ctx.loaded)
    return SectionResult(s, {"anytime": avg})


def section(loaded: Loaded):
    """(Section, table for tables/anytime.csv: the averaged normalised curves)."""
    s = Section("anytime", "Anytime performance")
    traj = collect(loaded)
    ok = loaded.results[loaded.results["status"] == "ok"] if not loaded.results.empty else \
        loaded.results  # fmt: skip
    if traj.empty:
        s.p("No job recorded a trajectory (the backend's best validation loss over time): "
            "runs made before trajectories were recorded, or backends that record none.")  # fmt: skip
        return s, pd.DataFrame()
    other = traj[traj["loss_name"].astype(str) != LOG_LOSS] if "loss_name" in traj else traj.iloc[:0]
    traj = traj[traj["loss_name"].astype(str) == LOG_LOSS] if "loss_name" in traj else traj
    budgets = pd.to_numeric(traj["budget_s"], errors="coerce")
    horizon = float(budgets.max()) if budgets.notna().any() else float(traj["elapsed_s"].max())
    horizon = max(horizon, float(traj["elapsed_s"].max()))
    grid = np.linspace(0.0, horizon, GRID_POINTS)
    raw, norm = curves(loaded, traj, grid)
    avg = average(norm)
    s.p("How fast each framework's best model improved while it searched: its backend's best "
        "validation log loss so far, at each second since its fit started (a server's start "
        "and data transfer come before and are not counted), from what the backend records "
        "(its search log, leaderboard and event log, or the loss after every boosting round "
        "on rows held out from training). A framework whose curve drops early is a good "
        "choice when you can afford less time than this run had.")  # fmt: skip
    s.p("Normalised per task and fold: (loss - best) / (constant - best), clipped to [0, 1], "
        "where best is the lowest final validation loss any framework reached there and "
        "constant is the constant predictor's loss (the class prior); 0 is the best any "
        "framework reached, 1 no better than the class prior. Before its first model a "
        "framework counts as the constant predictor. Averaged over folds, then tasks.")  # fmt: skip
    s.p("Caveat: each backend measures its validation loss on its own rows and in its own way "
        "(a holdout split, cross-validation, out-of-bag rows), so the curves show how each "
        "search progressed, not which system generalises best: the test-fold scores above "
        "answer that.")  # fmt: skip
    if not avg.empty:
        n_tasks = int(avg["tasks"].max())
        s.img(Image("anytime_mean", plot_mean(avg, n_tasks),
                    "Anytime curves: mean normalised validation loss over tasks"))  # fmt: skip
    else:
        s.p("No task has both the constant predictor's loss and a framework's trajectory: "
            "curves are drawn per task only, unnormalised.")  # fmt: skip
    tasks = sorted(raw["task"].unique()) if not raw.empty else []
    if tasks:
        shown = tasks[:MAX_TASK_PANELS]
        s.img(Image("anytime_tasks", plot_tasks(raw[raw["task"].isin(shown)]),
                    "Anytime curves per task: best validation log loss so far"))  # fmt: skip
        if len(tasks) > len(shown):
            s.p(f"Per-task curves drawn for the first {len(shown)} of {len(tasks)} tasks; "
                "tables/anytime.csv holds the averaged curves.")  # fmt: skip
    s.table(_summary(avg, traj, horizon, loaded.constant_labels))
    have = set(traj["label"]) | set(loaded.constant_labels)
    missing = sorted(set(ok["label"]) - have) if not ok.empty else []
    if missing:
        s.p("No trajectory recorded (not drawn): " + ", ".join(missing) + ".")
    if not other.empty:
        s.p("Not drawn, their validation loss is not log loss: "
            + ", ".join(sorted(f"{lb} ({ln})" for lb, ln in
                               other[["label", "loss_name"]].drop_duplicates().itertuples(index=False))) + ".")  # fmt: skip
    return s, avg
