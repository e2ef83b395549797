"""What a submission folder brings (issue 8), graded through both TA paths: `nbgrader autograde` and `make grade`.

Next to honest submissions, each case of autograde/samples/hostile.py's file_cases brings a
link (to the grader's secret, the keys, the solutions, the gradebook, the course folder), a
hard link, a FIFO, a notebook that is a link, hard link or FIFO, a notebook over the size or
cell limit, student HTML with scripts, or a crafted grade id. For both paths: exact points
for everyone, the note that says what was left out, the secret in no file under autograde/,
only notebooks in the autograded folders (none world-readable) and only HTML in the feedback,
no live script from the submission in it, and no sandbox or job folder left behind.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from autograde.samples import expected_points
from autograde.samples.hostile import file_cases, expected_points as hostile_points, write_case
from test_batch import (ASSIGNMENT, autograded_points, batch, feedback_text, finish, max_points, no_leftovers,
                        small_course, write_honest)
from test_feedback_html import _dangerous

pytestmark = pytest.mark.e2e
HONEST = ["reference", "blank"]


@pytest.fixture(scope="module", params=["nbgrader autograde", "make grade"])
def graded(request, tmp_path_factory):
    course = small_course(tmp_path_factory.mktemp(request.param.replace(" ", "_")))
    secret = "grader-secret-" + secrets.token_hex(16)
    (course.path / "autograde" / "secret.key").write_text(secret)
    write_honest(course, HONEST)
    for student, case in file_cases().items():
        write_case(case, course.path / "exercises" / ASSIGNMENT, course.path / "solutions" / ASSIGNMENT,
                   course.submission_dir(student), targets={})
    temp = Path(tempfile.mkdtemp(prefix="h8-"))  # short (ZeroMQ socket paths), and this run's alone
    with pytest.MonkeyPatch.context() as env:
        env.setenv("TMPDIR", str(temp))
        if request.param == "make grade":
            finish(batch(course, "--workers", "2"))
        else:
            course.nbgrader("autograde", ASSIGNMENT)
            course.nbgrader("generate_feedback", ASSIGNMENT)
        yield course, secret
    shutil.rmtree(temp, ignore_errors=True)


def test_every_student_gets_exactly_the_points_their_answers_earn(graded):
    course, _ = graded
    cells = max_points(course)
    every = {**{s: expected_points(s, cells) for s in HONEST},
             **{s: hostile_points(case, cells) for s, case in file_cases().items()}}
    for student, points in every.items():
        assert autograded_points(course, student) == pytest.approx(points, abs=0.011), student


def test_the_feedback_says_what_was_left_out(graded):
    course, _ = graded
    for student, case in file_cases().items():
        text = feedback_text(course, student).lower()
        for note in case.notes:
            assert note.replace("`", "").lower() in text, (student, note)


def _files(folder: Path):
    return [p for p in folder.rglob("*") if not p.is_dir()]


def test_nothing_the_submission_brings_is_passed_on(graded):
    course, secret = graded
    grading = course.path / "autograde"
    key_line = next(line for line in (grading / "keys" / "a.py").read_text().splitlines() if "def " in line)
    for path in _files(grading):
        if path.is_symlink() or not path.is_file() or "submitted" in path.parts or path.name == "secret.key":
            continue
        data = path.read_bytes()
        assert secret.encode() not in data, path
        if "keys" not in path.parts:
            assert key_line.encode() not in data, path
    for student in [*HONEST, *file_cases()]:
        autograded = _files(grading / "autograded" / student / ASSIGNMENT)
        assert [p.name for p in autograded] == ["a_vanishing_gradient.ipynb"], student
        assert all(p.stat().st_mode & 0o007 == 0 for p in autograded), "autograded copies are not world-readable"
        assert [p.suffix for p in _files(grading / "feedback" / student / ASSIGNMENT)] == [".html"], student


def test_the_kernel_saw_no_file_but_its_notebook(graded):
    course, _ = graded
    for student, case in file_cases().items():
        if "a1_answer" in case.cells and "FILE" in case.cells["a1_answer"]:
            nb = json.loads((course.path / "autograde" / "autograded" / student / ASSIGNMENT /
                             "a_vanishing_gradient.ipynb").read_text())
            printed = "".join("".join(o.get("text", "")) for c in nb["cells"] for o in c.get("outputs", []))
            listed = sorted(line.split()[1] for line in printed.splitlines() if line.startswith("FILE "))
            assert listed and set(listed) <= {"a_vanishing_gradient.ipynb", "grader_request.json"}, (student, listed)


def test_no_script_from_the_submission_lives_in_the_feedback(graded):
    course, _ = graded
    for student in ("html_everywhere", "crafted_grade_id"):
        folder = course.path / "autograde" / "feedback" / student / ASSIGNMENT
        page = "\n".join(p.read_text() for p in folder.glob("*.html"))
        assert "PWNED" in page, "the attack reached the page, as text"
        assert _dangerous(page) == [], student


def test_no_process_or_folder_survives(graded):
    time.sleep(1)  # the batch's fork server ends a moment after it
    no_leftovers()
    left = [p.name for p in Path(os.environ["TMPDIR"]).iterdir() if not p.name.startswith("_jinja2-cache")]
    assert left == [], "no job or sandbox folder is left (the feedback templates' cache stays, by design)"
