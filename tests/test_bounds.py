"""Kernel messages and answer data that attack the grader's own process, through `nbgrader autograde`
(tests/test_batch.py grades the same task (a) cases with `make grade`); the task (c) bombs through both.

Next to the reference: a comm flood of 10 MiB buffers far past the output limit, display messages
with broken JSON and with JSON nested 100,000 deep, a later cell rewriting a graded cell's payload
with update_display_data, and a numerically exact SymPy power bomb in a1. Every student gets exactly
the points of their honest answers, the grader's peak memory stays bounded, no process survives.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from autograde.bench_bounds import MEASURED  # the grader's own peak, printed when nbgrader exits
from autograde.samples import expected_points, write_submission
from autograde.samples.hostile import expected_points as hostile_points, message_cases, write_c_bombs, write_case
from autograde.course import ASSIGNMENT
from autograde.scratch_course import Course
from test_batch import autograded_points, batch, feedback_text, finish, max_points, no_leftovers, small_course

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = small_course(tmp_path_factory.mktemp("bounds"))
    release, source = course.path / "exercises" / ASSIGNMENT, course.path / "solutions" / ASSIGNMENT
    write_submission("reference", release, source, course.submission_dir("reference"))
    for student, case in message_cases().items():
        write_case(case, release, source, course.submission_dir(student), {})
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run([sys.executable, "-c", MEASURED, "autograde", ASSIGNMENT], cwd=course.path, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=1800)
    assert done.returncode == 0 and "error processing" not in done.stdout, done.stdout[-5000:]
    course.nbgrader("generate_feedback", ASSIGNMENT)
    peak = int(done.stdout.rsplit("PEAK_KB", 1)[1].split()[0]) * 1024
    return course, peak


def test_every_student_gets_exactly_the_points_of_their_honest_answers(graded):
    course, _ = graded
    cells = max_points(course)
    assert autograded_points(course, "reference") == pytest.approx(expected_points("reference", cells), abs=0.011)
    for student, case in message_cases().items():
        assert autograded_points(course, student) == pytest.approx(hostile_points(case, cells), abs=0.011), student


def test_the_feedback_says_what_happened(graded):
    course, _ = graded
    for student, case in message_cases().items():
        text = feedback_text(course, student).lower()
        for note in case.notes:
            assert note.lower() in text, (student, note)


def test_the_graders_memory_stays_bounded(graded):
    _, peak = graded
    assert peak < 600 * 2**20, f"{peak / 2**20:.0f} MiB"  # 400 MiB of comm buffers were sent


def test_no_widget_state_is_kept(graded):
    course, _ = graded
    autograded = course.path / "autograde" / "autograded" / "hostile_comm_flood" / ASSIGNMENT
    assert all(p.stat().st_size < 2**20 for p in autograded.glob("*.ipynb"))
    assert all('"widgets"' not in p.read_text() for p in autograded.glob("*.ipynb"))


def test_no_process_survives(graded, sheet):
    no_leftovers()



# --- task (c): the whole sheet, graded by nbgrader autograde and by make grade ----------------------

C_BOMBED = {"c1": 0.2, "c2": 2.82, "c3": 1.0, "c_bonus": 0.0}  # the honest parts of each answer keep theirs
C_BONUS_EXTRA = 3.6  # of 4: everything but the byte count


@pytest.fixture(scope="module")
def sheet(tmp_path_factory):
    graded = {}
    for how in ("autograde", "batch"):
        course = Course(tmp_path_factory.mktemp(f"sheet_{how}"))
        release = course.release()
        source = course.path / "solutions" / ASSIGNMENT
        write_submission("reference", release, source, course.submission_dir("reference"))
        write_c_bombs(release, source, course.submission_dir("c_bombs"))
        if how == "autograde":
            course.nbgrader("autograde", ASSIGNMENT)
        else:
            finish(batch(course, "--workers", "2"))
        graded[how] = course
    return graded


@pytest.mark.parametrize("how", ["autograde", "batch"])
def test_the_c_bombs_cost_only_their_own_parts(sheet, how):
    from nbgrader.api import Gradebook
    course = sheet[how]
    cells = max_points(course)
    reference = autograded_points(course, "reference")
    assert reference == pytest.approx(expected_points("reference", cells), abs=0.011)
    bombed = autograded_points(course, "c_bombs")
    assert bombed == pytest.approx({**reference, **C_BOMBED}, abs=0.011)
    with Gradebook(course.db_url) as gb:
        sub = gb.find_submission(ASSIGNMENT, "c_bombs")
        extra = sum(g.extra_credit or 0 for nb in sub.notebooks for g in nb.grades)
    assert extra == pytest.approx(C_BONUS_EXTRA, abs=0.011)
