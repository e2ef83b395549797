"""What the steps share: which cells are judged, who is being graded, and what one step hands to a later one."""
from __future__ import annotations

from dataclasses import dataclass, field

from nbgrader import utils

from ..keys import Key, all_keys

STATE = "course_lib"  # the key of the notebook's Grading in nbgrader's resources


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


@dataclass
class Grading:
    """One notebook's grading as the steps hand it on: the only state that passes between them."""
    keys: dict[str, Key] = field(default_factory=all_keys)  # looked up once per notebook, by its first step
    requests: dict[str, dict] = field(default_factory=dict)  # task -> what is asked of its answer (WriteGraderRequests)
    stopped: str = ""                      # why the kernel stopped early (ExecuteKeepingAnswers), "" if it did not
    credit: dict[str, float] = field(default_factory=dict)  # task -> its verdict's credit 0..1 (JudgeAnswers)

    def bonus(self, task: str) -> float:
        """The extra credit ``task``'s cell can earn; 0 for a cell that is not a bonus."""
        return self.keys[task].extra_credit if task in self.keys else 0

    def extra_credit(self, task: str) -> float:
        """The extra credit earned: the bonus times the verdict's credit (0 without a verdict)."""
        return round(self.bonus(task) * self.credit.get(task, 0.0), 2)


def grading(resources) -> Grading:
    """The notebook's Grading, made by the first step that asks."""
    if STATE not in resources:
        resources[STATE] = Grading()
    return resources[STATE]
