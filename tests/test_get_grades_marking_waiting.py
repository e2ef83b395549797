"""GetGradesMarkingWaiting reads a notebook's grades and comments in one go: the cells get what nbgrader's
GetGrades, asking cell by cell, gives them, and "waiting" where a grade still needs a tutor."""
import copy
import os
import sys
from pathlib import Path

import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import GetGrades

from autograde.steps.get_grades_marking_waiting import GetGradesMarkingWaiting


def _cell(new, grade_id, **flags):
    cell = new("x")
    cell.metadata["nbgrader"] = {"grade_id": grade_id, "grade": False, "solution": False, "task": False, **flags}
    return cell


@pytest.fixture
def gradebook(tmp_path, monkeypatch):
    # a new gradebook runs alembic, from the virtual environment
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with Gradebook(url) as gb:
        gb.add_assignment("ps1")
        gb.add_notebook("nb", "ps1")
        gb.add_grade_cell("written", "nb", "ps1", max_score=2, cell_type="markdown")
        gb.add_solution_cell("written", "nb", "ps1")  # a written answer: a grade and a solution cell, one name
        gb.add_grade_cell("auto", "nb", "ps1", max_score=1.5, cell_type="code")
        gb.add_solution_cell("answer", "nb", "ps1")
        gb.add_task_cell("task", "nb", "ps1", max_score=3, cell_type="markdown")
        gb.add_student("ana")
        gb.add_submission("ps1", "ana")
        gb.find_grade("auto", "nb", "ps1", "ana").auto_score = 1.0
        gb.find_grade("auto", "nb", "ps1", "ana").needs_manual_grade = False
        task = gb.find_grade("task", "nb", "ps1", "ana")
        task.manual_score, task.extra_credit, task.needs_manual_grade = 2.0, 0.5, False
        gb.find_comment("written", "nb", "ps1", "ana").manual_comment = "see the chain rule"
        gb.find_comment("answer", "nb", "ps1", "ana").auto_comment = "auto"
        gb.db.commit()
    return url


def _preprocess(step, nb, url):
    resources = {"nbgrader": {"notebook": "nb", "assignment": "ps1", "student": "ana", "db_url": url}}
    return step.preprocess(copy.deepcopy(nb), resources)


def test_the_cells_get_what_getgrades_gives_and_waiting(gradebook):
    nb = new_notebook(cells=[_cell(new_markdown_cell, "written", grade=True, solution=True, points=2),
                             _cell(new_code_cell, "auto", grade=True, points=1.5),
                             _cell(new_code_cell, "answer", solution=True),
                             _cell(new_markdown_cell, "task", task=True, points=3), new_markdown_cell("text")])
    theirs, their_resources = _preprocess(GetGrades(), nb, gradebook)
    ours, our_resources = _preprocess(GetGradesMarkingWaiting(), nb, gradebook)
    assert our_resources == their_resources
    waiting = {"written": True, "auto": False, "task": False}
    for their, our in zip(theirs.cells, ours.cells):
        meta = our.metadata.get("nbgrader", {})
        assert meta.pop("waiting", None) == waiting.get(meta.get("grade_id"))
        assert our == their
    assert [c.metadata.nbgrader.get("score") for c in theirs.cells[:4]] == [0, 1.0, None, 2.5]
    assert theirs.cells[0].metadata.nbgrader["comment"] == "see the chain rule"


def test_a_cell_the_gradebook_does_not_know_fails_as_in_getgrades(gradebook):
    for flags in ({"grade": True, "points": 1}, {"solution": True}):
        nb = new_notebook(cells=[_cell(new_code_cell, "unknown", **flags)])
        for step in (GetGrades(), GetGradesMarkingWaiting()):
            with pytest.raises(MissingEntry):
                _preprocess(step, nb, gradebook)
