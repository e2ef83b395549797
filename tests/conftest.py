import os
import sys
from pathlib import Path

# the instructor package autograde/ is not installed, only course_lib is
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("COURSE_GRADER_SECRET", "tests-secret")
# The tests read English messages unless they ask for German (test_i18n.py); kernels they start
# directly (not graded: no request file names a language) have no notebook path to read it from.
os.environ["COURSE_LIB_LANGUAGE"] = "en"


import pytest  # noqa: E402

from course_lib import i18n  # noqa: E402


@pytest.fixture(autouse=True)
def english():
    """Each test starts in English: a grading step run in the test's process chose the notebook's language."""
    i18n.set_language(None)
    yield
    i18n.set_language(None)


@pytest.fixture(scope="session")
def graded(tmp_path_factory):
    """One scratch course with every sample student graded, fed back and exported (slow: grade once)."""
    from autograde.samples import students, write_submission
    from autograde.course import ASSIGNMENT
    from autograde.scratch_course import Course

    course = Course(tmp_path_factory.mktemp("course"))
    release = course.release()
    for student in students():
        write_submission(student, release, course.path / "solutions" / ASSIGNMENT, course.submission_dir(student))
    course.nbgrader("autograde", ASSIGNMENT, "--force")
    course.nbgrader("generate_feedback", ASSIGNMENT, "--force")
    course.nbgrader("export", "--to", str(course.path / "grades.csv"))
    return course
