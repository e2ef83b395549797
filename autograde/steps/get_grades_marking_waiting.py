"""In `nbgrader generate_feedback`: nbgrader's GetGrades, which also marks the cells that wait for a tutor.

nbgrader stores a cell nobody has scored yet as score 0 with ``needs_manual_grade``; its
feedback template would print "Score: 0.0 / 0.5". Each such cell gets
``metadata.nbgrader.waiting = True``, which autograde.feedback_exporter turns into
"waiting for a tutor".
"""
from nbgrader.preprocessors import GetGrades


class GetGradesMarkingWaiting(GetGrades):
    def _get_score(self, cell, resources) -> None:
        super()._get_score(cell, resources)
        grade = self.gradebook.find_grade(cell.metadata["nbgrader"]["grade_id"], self.notebook_id,
                                          self.assignment_id, self.student_id)
        cell.metadata.nbgrader["waiting"] = bool(grade.needs_manual_grade)
