"""End to end through nbgrader's own commands: release, autograde, feedback, export.

One course, graded in one batch (the ``graded`` fixture of conftest.py, shared with test_course_loop.py): the reference (full autograded points), a blank release (0),
typical mistakes (partial points and their messages in the feedback HTML), a dying kernel
(answers before it kept), and tampering attempts (0).
"""
import csv
import re

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograde.samples import TASK_MODULES, expected_extra_credit, expected_points, students
from autograde.course import ASSIGNMENT
from autograde.display_cells import NOT_RUN
from course_lib.graded_run import NOT_RENDERED

pytestmark = pytest.mark.e2e


def _grades(course, student):
    with Gradebook(course.db_url) as gb:
        sub = gb.find_submission(ASSIGNMENT, student)
        return {g.name: (g.auto_score, g.needs_manual_grade, g.max_score, g.cell_type, g.extra_credit or 0.0)
                for nb in sub.notebooks for g in nb.grades}


def _autograded_cells(grades):
    return {name: g[2] for name, g in grades.items() if g[3] == "code"}


@pytest.mark.parametrize("student", list(students()))
def test_every_sample_gets_exactly_its_points(graded, student):
    grades = _grades(graded, student)
    expected = expected_points(student, _autograded_cells(grades))
    got = {name: grades[name][0] for name in expected}
    assert got == pytest.approx(expected, abs=0.011)
    bonus_cells = [name for name, g in grades.items() if g[3] == "code" and g[2] == 0]
    extra = {name: grades[name][4] for name in bonus_cells}
    assert extra == pytest.approx(expected_extra_credit(student, bonus_cells), abs=0.011)


def test_reasoning_cells_wait_for_a_tutor_unless_left_blank(graded):
    for student in students():
        manual = {n: g for n, g in _grades(graded, student).items() if g[3] == "markdown"}
        assert manual, "the notebooks have manually graded reasoning cells"
        blank = student == "blank" or student.startswith("tamper")
        for name, (score, needs_manual, *_rest) in manual.items():
            assert needs_manual is (not blank), (student, name)


def _feedback(course, student):
    folder = course.path / "autograde" / "feedback" / student / ASSIGNMENT
    return "\n".join(p.read_text() for p in sorted(folder.glob("*.html")))


def test_feedback_shows_the_verdicts_not_the_hidden_tests(graded):
    html = _feedback(graded, "reference")
    assert "BEGIN HIDDEN TESTS" not in html and "hand_in(" not in html
    assert "2 of 2 points" in html


def test_feedback_names_each_mistake(graded):
    for module in TASK_MODULES:
        for student, phrases in getattr(module, "MESSAGES", {}).items():
            html = _feedback(graded, student)
            for phrase in phrases:
                assert phrase in html, (student, phrase)


def test_tampering_attempts_leave_a_note_of_what_they_did_not_get(graded):
    html = _feedback(graded, "tamper_input_transformer")
    assert "no answer was handed in" in html


def test_autograded_notebooks_keep_no_grader_request(graded):
    leftovers = list((graded.path / "autograde" / "autograded").rglob("grader_request.json"))
    assert leftovers == []


def test_export_has_a_row_per_student_with_the_autograded_total_and_the_bonus_apart(graded):
    with open(graded.path / "grades.csv", newline="") as f:
        rows = {row["student_id"]: row for row in csv.DictReader(f)}
    assert set(rows) == set(students())
    reference = _grades(graded, "reference")
    assert float(rows["reference"]["total"]) == pytest.approx(sum(g[0] or 0 for g in reference.values()))
    assert float(rows["reference"]["bonus"]) == pytest.approx(sum(g[4] for g in reference.values()))
    assert float(rows["reference"]["max_score"]) == 15
    assert float(rows["blank"]["total"]) == 0


def test_practice_notebooks_are_handed_out_but_never_run_by_the_grader(graded):
    assert (graded.path / "exercises" / ASSIGNMENT / "d_training_with_your_gradients.ipynb").exists()
    assert list((graded.path / "autograde" / "autograded").rglob("d_*.ipynb")) == []
    assert list((graded.path / "autograde" / "feedback").rglob("d_*.html")) == []


def test_release_holds_no_solution_or_hidden_test(graded):
    for path in (graded.path / "exercises" / ASSIGNMENT).glob("*.ipynb"):
        source = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells)
        assert "BEGIN SOLUTION" not in source and "HIDDEN TESTS" not in source and "hand_in(" not in source


def test_blank_graded_cells_get_0_and_say_not_answered_yet(graded):
    html = _feedback(graded, "blank")
    for name, (score, *_rest) in _grades(graded, "blank").items():
        if _rest[2] == "code":   # the verdict's headline: "a1: 0 of 2 points: not answered yet"
            assert score == 0 and re.search(rf"{name}: 0 of [\d.]+ (bonus )?points: not answered yet", html), name


def test_feedback_says_a_written_answer_waits_for_a_tutor_and_why_plots_and_drawings_are_not_there(graded):
    html = _feedback(graded, "reference")
    assert "Waiting for a tutor (0.5 points)" in html and "Written response</a> (waiting for a tutor" in html
    assert "Score: 0.0 / 0.5" not in html
    # the plots (a, c) and course_lib.draw's drawings (b) are in cells that only show something: not run when
    # grading, and the feedback says so where the notebook shows them; the self-checks say the grader judges
    for notebook in ("a_vanishing_gradient", "b_rosenbrock_graph", "c_mlp_jacobians"):
        page = (graded.path / "autograde" / "feedback" / "reference" / ASSIGNMENT / f"{notebook}.html").read_text()
        assert "Figure size" not in page and "data:image/png" not in page, notebook
        assert NOT_RUN in page and "Self-check" in page and "not run when grading" in page, notebook


def test_a_figure_in_a_cell_that_runs_is_not_rendered_and_the_feedback_says_so(graded):
    # right_c_reads_an_example reads the plot's slope and the softmax example's z: they and the examples run
    page = (graded.path / "autograde" / "feedback" / "right_c_reads_an_example" / ASSIGNMENT /
            "c_mlp_jacobians.html").read_text()
    assert NOT_RENDERED in page and "data:image/png" not in page and "stable:" in page
