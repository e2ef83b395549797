"""What the attacks on the grader's own process cost it, measured in one run.

    .venv/bin/python -m autograde.bench_bounds

A scratch course of the whole sheet with the reference submission and the hostile fixtures of
autograde/samples/hostile.py (kernel messages in task (a), answer-data bombs in task (c)). Each
submission is graded alone with ``nbgrader autograde --student``: wall time, and the peak memory
of the grader's own process (ru_maxrss of RUSAGE_SELF: not its kernels or judges). Then the same
class in one batch (``python -m autograde.batch --workers 1``), and the judge's fixed cost: one
fork per notebook, against judging in the grader's process.
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .judge import Judge
from .keys import all_keys
from .samples import write_submission
from .samples.hostile import message_cases, write_c_bombs, write_case
from .course import ASSIGNMENT
from .scratch_course import Course
from .verdict import judge_cell

MEASURED = """import resource, sys
from nbgrader.apps.nbgraderapp import main
sys.argv = ["nbgrader", *sys.argv[1:]]
try:
    main()
finally:
    print("PEAK_KB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
"""


def _env() -> dict:
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}


def grade_alone(course: Course, student: str) -> tuple[float, float]:
    """(wall seconds, grader peak MiB) of `nbgrader autograde --student`."""
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", MEASURED, "autograde", ASSIGNMENT, "--student", student, "--force"],
                          cwd=course.path, env=_env(), capture_output=True, text=True)
    seconds = time.monotonic() - started
    if done.returncode != 0 or "error processing" in done.stdout + done.stderr:
        raise SystemExit(f"{student}: nbgrader failed\n{(done.stdout + done.stderr)[-3000:]}")
    return seconds, int(done.stderr.rsplit("PEAK_KB", 1)[1].split()[0]) / 1024


def judge_overhead(repeats: int = 9) -> tuple[float, float]:
    """Median seconds of one verdict (no payload) through a judge process, and in this process."""
    def timed(fn):
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            fn()
            times.append(time.perf_counter() - started)
        return statistics.median(times)
    keys = all_keys()  # as JudgeAnswers has them before it forks: the judges inherit the keys
    judge_cell("a1", [], "secret", "s", "nb", keys=keys)
    forked = timed(lambda: Judge().judge_all([("a1", [])], "secret", "s", "nb", keys=keys))
    inline = timed(lambda: judge_cell("a1", [], "secret", "s", "nb", keys=keys))
    return forked, inline


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-bounds-") as folder:
        course = Course(Path(folder))
        release, source = course.release(), course.path / "solutions" / ASSIGNMENT
        write_submission("reference", release, source, course.submission_dir("reference"))
        write_c_bombs(release, source, course.submission_dir("c_bombs"))
        for student, case in message_cases().items():
            write_case(case, release, source, course.submission_dir(student), {})
        students = ["reference", "c_bombs", *message_cases()]
        print(f"{'submission (whole sheet)':28} {'wall s':>7} {'grader peak MiB':>16}")
        for student in students:
            seconds, peak = grade_alone(course, student)
            print(f"{student:28} {seconds:7.1f} {peak:16.0f}")
        started = time.monotonic()
        subprocess.run([sys.executable, "-m", "autograde.batch", ASSIGNMENT, "--workers", "1", "--force"],
                       cwd=course.path, env=_env(), check=True, capture_output=True)
        print(f"batch of these {len(students)}, 1 worker: {time.monotonic() - started:.1f} s")
    forked, inline = judge_overhead()
    print(f"one verdict through a judge process: {forked * 1000:.1f} ms, in the grader's process: "
          f"{inline * 1000:.1f} ms (median of 9; one judge process per notebook)")


if __name__ == "__main__":
    main()
