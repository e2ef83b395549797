"""`make demo`: release -> sample submissions -> autograde -> feedback -> export -> grade table.

Runs nbgrader's own commands, exactly as a TA would from the repository root,
on the sample students of autograde/samples (the reference, a blank release,
typical mistakes and tampering attempts).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from nbgrader.api import Gradebook

from .gradetable import format_table, grade_rows
from .platform.feedback_archive import write_archive
from .platform.grades_out import export_all
from .report import write_report
from .samples import students, write_submission

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENT = "sheet03"


def nbgrader(*args: str) -> None:
    started = time.perf_counter()
    print(f"$ nbgrader {' '.join(args)}", flush=True)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args, "--log-level=WARN"], cwd=ROOT, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if done.returncode:
        sys.exit(f"nbgrader {args[0]} failed:\n{done.stdout[-4000:]}")
    print(f"  done in {time.perf_counter() - started:.1f} s", flush=True)


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
    nbgrader("autograde", ASSIGNMENT, "--force")
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
