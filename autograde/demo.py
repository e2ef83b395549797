"""`make demo`: release -> sample submissions -> autograde -> feedback -> export -> grade table.

Runs nbgrader's own commands, exactly as a TA would from the repository root,
on the sample students of autograde/samples (the reference, a blank release,
typical mistakes and tampering attempts).
"""
from __future__ import annotations

import inspect
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from nbgrader.api import Gradebook

from . import samples
from .course import ASSIGNMENT, ROOT
from .gradetable import format_table, grade_rows
from .platform.feedback_archive import write_archive
from .platform.grades_out import export_all
from .report import write_report
from .samples import students, write_submission



def nbgrader(*args: str, progress=None) -> None:
    """Run an nbgrader command from the repository root; ``progress`` gets each line it logs."""
    started = time.perf_counter()
    print(f"$ nbgrader {' '.join(args)}", flush=True)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    level = "INFO" if progress else "WARN"
    with subprocess.Popen([sys.executable, "-m", "nbgrader", *args, f"--log-level={level}"], cwd=ROOT, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as done:
        log = []
        for line in done.stdout:
            log.append(line)
            if progress:
                progress(line)
    if done.returncode:
        sys.exit(f"nbgrader {args[0]} failed:\n{''.join(log)[-4000:]}")
    print(f"  done in {time.perf_counter() - started:.1f} s", flush=True)


def what_each_shows() -> dict[str, str]:
    """student -> what the sample shows: the comment above its entry in autograde/samples."""
    out = {"reference": "every answer from the solutions: full points", "blank": "the release as handed out: 0"}
    for module in (*samples.TASK_MODULES, samples.tamper):
        for comment, student in re.findall(r'((?:^[ \t]*#.*\n)+)[ \t]*"(\w+)":', inspect.getsource(module), re.M):
            out.setdefault(student, " ".join(line.strip().lstrip("# ") for line in comment.splitlines()))
    return out


class AutogradeProgress:
    """One line per student as nbgrader starts on their notebooks: which, how far, what the sample shows."""

    def __init__(self, names: list[str]):
        self.names, self.seen, self.started = names, [], time.perf_counter()
        self.shows = what_each_shows()

    def __call__(self, line: str) -> None:
        found = re.search(r"Sanitizing .*?submitted/([^/]+)/", line)   # nbgrader's first step per notebook
        if found and found.group(1) not in self.seen:
            student = found.group(1)
            self.seen.append(student)
            print(f"  [{len(self.seen):>2}/{len(self.names)}] {time.perf_counter() - self.started:5.0f} s  "
                  f"{student}: {self.shows.get(student, 'a sample from autograde/samples')}", flush=True)


def start_fresh(db: Path) -> None:
    """Drop a gradebook that holds only sample students (generate_assignment refuses to change an
    assignment that has submissions); never one with anybody else in it."""
    if not db.exists():
        return
    with Gradebook(f"sqlite:///{db}") as gb:
        others = sorted(s.id for s in gb.students if s.id not in students())
    if others:
        sys.exit(f"{db.relative_to(ROOT)} holds real students ({', '.join(others[:3])}, ...); "
                 "make demo only replaces a gradebook of sample students")
    db.unlink()


def main() -> None:
    start_fresh(ROOT / "autograde" / "gradebook.db")
    nbgrader("generate_assignment", ASSIGNMENT, "--force")
    submitted = ROOT / "autograde" / "submitted"
    for student in students():
        shutil.rmtree(submitted / student, ignore_errors=True)
        write_submission(student, ROOT / "exercises" / ASSIGNMENT, ROOT / "solutions" / ASSIGNMENT,
                         submitted / student / ASSIGNMENT)
    print(f"wrote {len(students())} sample submissions to {submitted.relative_to(ROOT)}/")
    print(f"autograding {len(students())} students × 3 notebooks, sandboxed (5–10 s a student on 2 cores):")
    nbgrader("autograde", ASSIGNMENT, "--force", progress=AutogradeProgress(sorted(students())))
    nbgrader("generate_feedback", ASSIGNMENT, "--force")
    nbgrader("export", "--to", str(ROOT / "autograde" / "grades.csv"))
    columns, rows = grade_rows(f"sqlite:///{ROOT / 'autograde' / 'gradebook.db'}", ASSIGNMENT)
    print()
    print(format_table(columns, rows))
    print()
    print("'?' = waits for manual grading (open the formgrader: make formgrader)")
    print(f"feedback:    autograde/feedback/<student>/{ASSIGNMENT}/*.html")
    print("grade table: autograde/grades.csv")
    exports = export_all(ROOT)
    print(f"for Moodle:  {exports['moodle'].relative_to(ROOT)}, {write_archive(ROOT)[0].relative_to(ROOT)}")
    print(f"for Stud.IP: {exports['studip'].relative_to(ROOT)}")
    print(f"class report: {write_report(ROOT).relative_to(ROOT)}")


if __name__ == "__main__":
    main()
