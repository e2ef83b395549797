"""In `nbgrader generate_feedback`: nbgrader's GetGrades, which also marks the cells that wait for a tutor.

nbgrader stores a cell nobody has scored yet as score 0 with ``needs_manual_grade``; its
feedback template would print "Score: 0.0 / 0.5". Each such cell gets
``metadata.nbgrader.waiting = True``, which autograde.feedback_exporter turns into
"waiting for a tutor".

GetGrades asks the gradebook once or twice per graded cell, through a seven-table join each
time (and once more for each grade's points); this step reads the notebook's grades and
comments with one query each and looks them up as nbgrader's find_grade and find_comment do:
a grade of the grade cell of that name, else of the task cell; a comment of the solution
cell, else of the task cell.
"""
from nbgrader.api import BaseCell, Comment, Grade, MissingEntry
from nbgrader.preprocessors import GetGrades
from sqlalchemy.orm import undefer


class GetGradesMarkingWaiting(GetGrades):
    def preprocess(self, nb, resources):
        self._found = None  # this notebook's grades and comments, read when the first cell asks
        return super().preprocess(nb, resources)

    def _find(self, kind: str, cell, types: tuple[str, str]):
        if self._found is None:
            self._found = self._read()
        name = cell.metadata["nbgrader"]["grade_id"]
        for cell_type in types:
            if (kind, cell_type, name) in self._found:
                return self._found[kind, cell_type, name]
        raise MissingEntry(f"No such {kind}: {self.assignment_id}/{self.notebook_id}/{name} for {self.student_id}")

    def _read(self) -> dict:
        """(kind, cell type, cell name) -> the submitted notebook's Grade or Comment."""
        notebook = self.gradebook.find_submission_notebook(self.notebook_id, self.assignment_id, self.student_id)
        found = {}
        for kind, model, options in (("grade", Grade, [undefer(Grade.max_score)]), ("comment", Comment, [])):
            rows = (self.gradebook.db.query(model, BaseCell.type, BaseCell.name)
                    .join(BaseCell, BaseCell.id == model.cell_id).filter(model.notebook_id == notebook.id)
                    .options(*options))
            found.update(((kind, cell_type, name), row) for row, cell_type, name in rows)
        return found

    def _get_comment(self, cell, resources) -> None:
        cell.metadata.nbgrader["comment"] = self._find("comment", cell, ("SolutionCell", "TaskCell")).comment

    def _get_score(self, cell, resources) -> None:
        grade = self._find("grade", cell, ("GradeCell", "TaskCell"))
        cell.metadata.nbgrader["score"] = grade.score
        cell.metadata.nbgrader["points"] = grade.max_score
        cell.metadata.nbgrader["waiting"] = bool(grade.needs_manual_grade)
