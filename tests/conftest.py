import os
import sys
from pathlib import Path

# the instructor package autograde/ is not installed, only course_lib is
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("COURSE_GRADER_SECRET", "tests-secret")


import pytest  # noqa: E402


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
