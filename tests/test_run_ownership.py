"""A directory is a run's only if it holds the run's marker: files named like a run's
(plan.json, suite.yaml, environment.json, results.sqlite) prove nothing, and a refusal
leaves every file of the user's as it was."""

from __future__ import annotations

from inprocess import main as cli


def _snapshot(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}  # fmt: skip


def test_files_named_like_a_run_without_its_marker_are_refused(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    for name in ("plan.json", "suite.yaml", "environment.json"):
        (mine / name).write_text(f"my own {name}\n")
    (mine / "results.sqlite").write_bytes(b"SQLite format 3\x00" + b"\x00" * 100)
    before = _snapshot(mine)
    code, _, err = cli("run", "--suite", "smoke", "--frameworks", "constant", "--folds", "1",
                       "--out", mine, "--no-report", "--cold-start")  # fmt: skip
    assert code == 2, err
    assert "did not write" in err and "plan.json" in err
    assert _snapshot(mine) == before
    assert sorted(p.name for p in mine.iterdir()) == sorted(
        ["plan.json", "suite.yaml", "environment.json", "results.sqlite"])


def test_a_directory_holding_only_a_lock_is_taken(tmp_path):
    """A run stopped between taking its lock and writing its marker can be resumed."""
    out = tmp_path / "run"
    out.mkdir()
    (out / ".lock").write_text("")
    code, _, err = cli("run", "--suite", "smoke", "--frameworks", "constant", "--folds", "1",
                       "--out", out, "--no-report", "--no-inference")  # fmt: skip
    assert code == 0, err
    assert (out / ".automl-bench-run.json").is_file() and (out / "results.csv").is_file()


def test_an_out_path_that_is_not_utf8_is_refused_before_anything_is_made(tmp_path):
    import os

    out = os.fsdecode(os.fsencode(str(tmp_path)) + b"/bad\xffname")
    code, _, err = cli("run", "--suite", "smoke", "--frameworks", "constant", "--out", out,
                       "--no-report", "--cold-start")  # fmt: skip
    assert code == 2 and "not valid UTF-8" in err, err
    assert list(tmp_path.iterdir()) == []


def test_an_out_path_walking_back_through_missing_folders_creates_nothing(tmp_path, monkeypatch):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine\n")
    monkeypatch.chdir(tmp_path)
    code, _, err = cli("run", "--suite", "smoke", "--frameworks", "constant", "--out",
                       "a/missing/../../mine", "--no-report", "--cold-start")  # fmt: skip
    assert code == 2 and "did not write ('notes.txt')" in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]


def test_links_planted_in_a_finished_run_are_never_written_through(tmp_path):
    out = tmp_path / "run"
    args = ("run", "--suite", "smoke", "--frameworks", "constant", "--folds", "1", "--out", out,
            "--no-report", "--no-inference")  # fmt: skip
    code, _, err = cli(*args)
    assert code == 0, err
    victim = tmp_path / "victim.txt"
    victim.write_text("the user's\n")
    job = next((out / "jobs").iterdir())
    for planted in (out / "results.csv", job / "spec.json", out / "report.log"):
        planted.unlink(missing_ok=True)
        planted.symlink_to(victim)
        code, _, err = cli(*args, "--rerun-failed")
        err = " ".join(err.split())
        assert code == 2 and "is a symbolic link" in err and str(planted) in err, err
        assert victim.read_text() == "the user's\n"
        planted.unlink()
