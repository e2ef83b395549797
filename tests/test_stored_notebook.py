"""OverwriteCells and SaveAutoGrades answered from one notebook's rows read once: the same as stock nbgrader, and
never another notebook's or another assignment's rows (every notebook here has a cell of the same name)."""
import copy

import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from nbgrader import utils
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import OverwriteCells, SaveAutoGrades

from autograde.steps import OverwriteCellsReadOnce, SaveAutoGradesReadOnce
from autograde.steps.stored_notebook import STORED, StoredNotebook, SubmittedRows, stored_notebook

PLACES = [(a, n) for a in ("a1", "a2") for n in ("n1", "n2")]


def points(assignment, notebook):
    return 1 + PLACES.index((assignment, notebook))


def locked_test(assignment, notebook, source=None, pts=None):
    cell = new_code_cell(source or f"assert '{assignment}/{notebook}'")
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True, "grade_id": "x",
                                 "points": pts or points(assignment, notebook), "schema_version": 3}
    return cell


def answer_cell(source="answer = 1"):
    cell = new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade": False, "solution": True, "locked": False, "grade_id": "y",
                                 "schema_version": 3}
    return cell


@pytest.fixture
def db_url(tmp_path):
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with Gradebook(url) as gb:
        for assignment, notebook in PLACES:
            if notebook == "n1":
                gb.add_assignment(assignment)
            gb.add_notebook(notebook, assignment)
            cell = locked_test(assignment, notebook)
            gb.add_grade_cell("x", notebook, assignment, max_score=points(assignment, notebook), cell_type="code")
            gb.add_source_cell("x", notebook, assignment, cell_type="code", locked=True, source=cell.source,
                               checksum=utils.compute_checksum(cell))
            gb.add_solution_cell("y", notebook, assignment)
            gb.add_source_cell("y", notebook, assignment, cell_type="code", locked=False, source="# YOUR CODE",
                               checksum=utils.compute_checksum(answer_cell("# YOUR CODE")))
        for student in ("ana", "ben"):
            gb.add_student(student)
            for assignment in ("a1", "a2"):
                gb.add_submission(assignment, student)
    return url


def resources(db_url, assignment, notebook, student="ana"):
    return {"nbgrader": {"db_url": db_url, "assignment": assignment, "notebook": notebook, "student": student}}


def submitted():
    """Edited test code and points, a markdown cell posing as the answer cell: everything OverwriteCells undoes."""
    cell = locked_test("zz", "zz", source="pass", pts=9)
    answer = new_markdown_cell("answer = 2", metadata={"nbgrader": answer_cell().metadata["nbgrader"]})
    cell.id, answer.id = "test", "answer"  # the same notebook each time
    return new_notebook(cells=[cell, answer])


@pytest.mark.parametrize("assignment, notebook", PLACES)
def test_overwrite_cells_as_stock_nbgrader_from_this_notebooks_rows(db_url, assignment, notebook):
    stock, _ = OverwriteCells().preprocess(submitted(), resources(db_url, assignment, notebook))
    other = ("a2", "n2") if (assignment, notebook) == ("a1", "n1") else ("a1", "n1")
    stale = resources(db_url, assignment, notebook)
    stale[STORED] = StoredNotebook(db_url, *other)  # as if the resources had been another notebook's
    ours, _ = OverwriteCellsReadOnce().preprocess(submitted(), stale)
    assert ours == stock
    assert ours.cells[0].source == f"assert '{assignment}/{notebook}'"
    assert ours.cells[0].metadata.nbgrader["points"] == points(assignment, notebook)
    assert ours.cells[1].cell_type == "code"


def test_the_rows_read_once_answer_for_their_own_notebook_only(db_url):
    stored = StoredNotebook(db_url, "a1", "n2")
    assert stored.find_graded_cell("x", "n2", "a1").max_score == points("a1", "n2")
    assert [c.name for c in stored.find_notebook("n2", "a1").source_cells] == ["x", "y"]
    with pytest.raises(MissingEntry):
        stored.find_source_cell("zz", "n2", "a1")
    for notebook, assignment in [("n1", "a1"), ("n2", "a2")]:
        with pytest.raises(LookupError, match="rows read for a1/n2"):
            stored.find_source_cell("x", notebook, assignment)
    kept = resources(db_url, "a1", "n2")
    assert stored_notebook(kept) is stored_notebook(kept)  # read once per notebook
    with Gradebook(db_url) as gb:
        rows = SubmittedRows(gb, "n2", "a1", "ana")
        assert rows.find_grade("x", "n2", "a1", "ana").max_score == points("a1", "n2")
        for notebook, assignment, student in [("n1", "a1", "ana"), ("n2", "a2", "ana"), ("n2", "a1", "ben")]:
            with pytest.raises(LookupError):
                rows.find_comment("y", notebook, assignment, student)


def dump(db_url):
    with Gradebook(db_url) as gb:
        return {(s.student.id, s.assignment.name, nb.name, row.name): (row.auto_score, row.needs_manual_grade)
                if hasattr(row, "auto_score") else row.auto_comment
                for a in ("a1", "a2") for s in gb.assignment_submissions(a) for nb in s.notebooks
                for row in nb.grades + nb.comments}


def test_save_auto_grades_writes_what_stock_nbgrader_writes_and_only_for_its_notebook(db_url, tmp_path):
    nb = new_notebook(cells=[locked_test("a2", "n1"), answer_cell("# YOUR CODE")])
    nb.cells[1].metadata.nbgrader["checksum"] = utils.compute_checksum(nb.cells[1])  # as OverwriteCells leaves it
    with Gradebook(db_url) as gb:  # a tutor's score: the cell needs a review again after autograding
        gb.find_grade("x", "n1", "a2", "ben").manual_score = 0.5
        gb.db.commit()
    stock_url = f"sqlite:///{tmp_path / 'stock.db'}"
    (tmp_path / "stock.db").write_bytes((tmp_path / "gradebook.db").read_bytes())
    for student in ("ana", "ben"):
        SaveAutoGrades().preprocess(copy.deepcopy(nb), resources(stock_url, "a2", "n1", student))
        SaveAutoGradesReadOnce().preprocess(copy.deepcopy(nb), resources(db_url, "a2", "n1", student))
    ours = dump(db_url)
    assert ours == dump(stock_url)
    assert ours[("ana", "a2", "n1", "x")] == (points("a2", "n1"), False)
    assert ours[("ben", "a2", "n1", "x")] == (points("a2", "n1"), True)
    assert ours[("ana", "a2", "n1", "y")] == "No response."
    assert {k: v for k, v in ours.items() if k[1:3] != ("a2", "n1")} == {
        k: (None, True) if k[3] == "x" else None for k in ours if k[1:3] != ("a2", "n1")}  # untouched
