"""Benchmark of what an oversized submission costs the grader (README, "What a submission folder may bring").

    .venv/bin/python tests/bench_intake.py

In one run, on a fresh course with the task (a) notebook: `nbgrader autograde --student S --force`
for the reference submission, a 50,000-cell notebook and a 25 MiB notebook (autograde/samples/
hostile.py's file_cases), each its wall time and the peak memory of the grading process
(GNU time's maximum resident set size; kernels run in their own processes and are not counted).
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).parent), str(Path(__file__).parent.parent)]
os.environ.setdefault("COURSE_GRADER_SECRET", "bench")

from autograde.samples.hostile import file_cases, write_case  # noqa: E402
from test_batch import ASSIGNMENT, small_course, write_honest  # noqa: E402

STUDENTS = ("reference", "many_cells", "huge_notebook")


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        course = small_course(Path(folder) / "course")
        write_honest(course, ["reference"])
        for student in STUDENTS[1:]:
            write_case(file_cases()[student], course.path / "exercises" / ASSIGNMENT,
                       course.path / "solutions" / ASSIGNMENT, course.submission_dir(student), {})
        env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
        for student in STUDENTS:
            started = time.perf_counter()
            done = subprocess.run(["/usr/bin/time", "-f", "%M", sys.executable, "-m", "nbgrader", "autograde",
                                   ASSIGNMENT, "--student", student, "--force"],
                                  cwd=course.path, env=env, capture_output=True, text=True, check=True)
            peak = int(done.stderr.strip().splitlines()[-1]) / 1024
            print(f"{student:15s} {time.perf_counter() - started:6.1f} s wall   peak {peak:4.0f} MiB")


if __name__ == "__main__":
    main()
