"""A German submission through nbgrader's own commands: the same points as the English one, German feedback.

The German notebooks are the English sample submissions with ``metadata["course_lib"]["language"]``
set to "de" (the text of the notebook does not matter to the grader), graded in a course of their
own next to the same samples in English.
"""
import re

import pytest
from nbgrader.api import Gradebook

from autograde.samples import expected_points, write_submission
from autograde.course import ASSIGNMENT
from autograde.scratch_course import Course
from grading import autograde_with_feedback, gradebook_grades, tag_language

pytestmark = pytest.mark.e2e

SAMPLES = ["reference", "mistake_a_missing_h", "mistake_a_product_range"]


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = Course(tmp_path_factory.mktemp("course-german"))
    release = course.release()
    for sample in SAMPLES:
        for language in ("de", "en"):
            folder = course.submission_dir(f"{language}_{sample}")
            write_submission(sample, release, course.path / "solutions" / ASSIGNMENT, folder)
            tag_language(folder, language)
    return autograde_with_feedback(course)


def _points(course, student):
    return {name: auto for name, (auto, _max, kind, _extra) in gradebook_grades(course, student).items() if kind == "code"}


def _feedback(course, student):
    folder = course.path / "autograde" / "feedback" / student / ASSIGNMENT
    return "\n".join(p.read_text() for p in sorted(folder.glob("*.html")))


@pytest.mark.parametrize("sample", SAMPLES)
def test_a_german_submission_gets_the_points_of_the_english_one(course, sample):
    german, english = _points(course, f"de_{sample}"), _points(course, f"en_{sample}")
    assert german == english
    maxima = {name: _max(course, name) for name in german}
    assert german == pytest.approx(expected_points(sample, maxima), abs=0.011)


def _max(course, grade_id):
    with Gradebook(course.db_url) as gb:
        return next(c.max_score for nb in gb.find_assignment(ASSIGNMENT).notebooks
                    for c in nb.grade_cells if c.name == grade_id)


def test_the_german_feedback_is_german(course):
    html = _feedback(course, "de_mistake_a_missing_h")
    assert re.search(r"a1: 0 von 2 Punkten", html)
    assert "der Faktor x fehlt" in html and "das ist σ(0)" in html      # the verdicts' diagnoses
    assert "Selbsttest a1" in html          # the graded run's self-checks: the kernel read the grader's request
    assert "[beim Bewerten nicht ausgeführt: diese Zelle zeigt nur etwas" in html   # the a-notebook's plot, not run
    assert "Wartet auf Korrektur (0.5 Punkte)" in html    # the exporter: the metadata survived autograding
    assert not re.search(r"\d of \d+ points|Self-check a1|missing the factor x", html)
    assert "das Produkt enthält w_i" in _feedback(course, "de_mistake_a_product_range")


def test_the_english_feedback_stays_english(course):
    html = _feedback(course, "en_mistake_a_missing_h")
    assert "a1: 0 of 2 points" in html and "missing the factor x" in html and "Self-check a1" in html
    assert not re.search(r"von \d+ Punkten|Selbsttest|der Faktor x fehlt", html)
