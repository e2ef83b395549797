"""Small helpers shared by the steps: which cells are judged, and who is being graded."""
from __future__ import annotations

from nbgrader import utils


def is_judged(cell) -> bool:
    """Whether ``cell`` is an autograded test cell (a graded cell that hands in an answer)."""
    return cell.cell_type == "code" and utils.is_grade(cell) and not utils.is_solution(cell)


def judged_cells(nb):
    """(task id, cell) for every autograded test cell; the task id is the cell's grade id."""
    for cell in nb.cells:
        if is_judged(cell):
            yield cell.metadata["nbgrader"]["grade_id"], cell


def who(resources) -> tuple[str, str]:
    """(student id, notebook id) of the notebook being graded."""
    return resources["nbgrader"]["student"], resources["nbgrader"]["notebook"]
