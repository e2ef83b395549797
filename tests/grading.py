"""Judging an answer in a test exactly as the grader does."""
import nbformat

from autograde import verdict
from course_lib import answers, tasks


def output(task_id, data) -> dict:
    """The output a graded cell's hand_in shows for ``data`` (task data from answers.encode)."""
    return {"output_type": "display_data", "data": answers.display_data(task_id, data)}


def handed_in(task_id, answer, student="s1", secret="secret", notebook="nb"):
    """The graded cell's outputs: the answer encoded for the hidden request, as a payload."""
    request = verdict.request_for(task_id, secret, student, notebook)
    return [output(task_id, answers.encode(tasks.get(task_id), answer, request))]


def grade(task_id, answer, student="s1", secret="secret", notebook="nb"):
    """Hand in, then judge_cell: the verdict outside the kernel."""
    outputs = handed_in(task_id, answer, student, secret, notebook)
    return verdict.judge_cell(task_id, outputs, secret, student, notebook)


def tag_language(folder, language) -> None:
    """Every notebook in ``folder`` says it is in ``language`` (a submission's metadata: anything at all)."""
    for path in folder.glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        nb.metadata["course_lib"] = {"language": language}
        nbformat.write(nb, path)


def autograde_with_feedback(course):
    """nbgrader autograde and generate_feedback over every submission of the course, as a TA runs them."""
    from autograde.course import ASSIGNMENT
    course.nbgrader("autograde", ASSIGNMENT, "--force")
    course.nbgrader("generate_feedback", ASSIGNMENT, "--force")
    return course


def gradebook_grades(course, student) -> dict:
    """grade id -> (auto score, max score, cell type, extra credit) of ``student``'s submission."""
    from nbgrader.api import Gradebook

    from autograde.course import ASSIGNMENT
    with Gradebook(course.db_url) as gb:
        sub = gb.find_submission(ASSIGNMENT, student)
        return {g.name: (g.auto_score, g.max_score, g.cell_type, g.extra_credit or 0.0)
                for nb in sub.notebooks for g in nb.grades}
