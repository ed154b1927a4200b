"""Progress during a run: a bar with ETA, and one line per finished job."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

STYLE = {"ok": "green", "failed": "red", "timeout": "yellow", "memory": "magenta", "skipped": "dim",
         "raced_out": "dim"}


class Reporter:
    def __init__(self, console: Console | None = None):
        self.console = console or Console(stderr=True)
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=self.console,
            transient=False,
        )
        self.bar = None
        self.budgets: list[float] = []  # the run's budgets: with several, each line names its

    def _at(self) -> str:
        if len(self.budgets) < 2:
            return ""
        return f" at {len(self.budgets)} budgets ({', '.join(f'{b:g}' for b in self.budgets)} s)"

    def planned(self, total: int, done: int, todo: int, run_dir) -> None:
        self.console.print(Text(f"{total} jobs planned{self._at()}: {done} done, {todo} to run  ")
                           + Text(f"({run_dir})", "dim"))  # fmt: skip
        if not todo:  # a bar of 0/0 with no ETA says nothing: say what happened instead
            self.console.print("nothing to run: every planned job has a stored result "
                               "(--rerun-failed reruns those that did not succeed)")  # fmt: skip
            return
        self.bar = self.progress.add_task("jobs", total=todo)
        self.progress.start()

    def say(self, text: str) -> None:
        """A line about the run's preparation (e.g. an environment being built)."""
        self.console.print(Text(text), highlight=False)

    def started(self, task) -> None:
        pass

    def done(self, row: dict) -> None:
        s = row["status"]
        score = (
            f"acc={row['acc']:.4f} logloss={row['logloss']:.4f}"
            if s == "ok"
            else (f"{row.get('error_type')}: {str(row.get('error_message'))[:120]}")
        )
        line = Text(f"{s:7}", STYLE.get(s, ""))  # data-derived text is never markup
        budget = f" budget {row['budget_s']:g}s" if len(self.budgets) > 1 else ""
        line.append(f" {row['framework']:>12} {row['task']} fold {row['fold']}{budget}  {score}"
                    f"  ({row['duration']:.1f}s)")  # fmt: skip
        self.progress.console.print(line, highlight=False)
        if self.bar is not None:
            self.progress.advance(self.bar)

    def close(self) -> None:
        self.progress.stop()
