"""nbgrader's SaveAutoGrades, the notebook's grades and comments read in one query each and committed once.

Stock SaveAutoGrades looks up each grade and comment in its own query and commits after
each cell; here its lookups are answered from the submitted notebook's rows, read once
(stored_notebook.SubmittedRows), and what it set is written in one commit after the
last cell. Which score, which review flag and which comment is nbgrader's own, cell by cell.
"""
from nbgrader.api import Gradebook
from nbgrader.preprocessors import SaveAutoGrades

from .stored_notebook import SubmittedRows


class SaveAutoGradesReadOnce(SaveAutoGrades):
    def preprocess(self, nb, resources):
        meta = resources["nbgrader"]
        self.notebook_id, self.assignment_id = meta["notebook"], meta["assignment"]
        self.student_id, self.db_url = meta["student"], meta["db_url"]
        with Gradebook(self.db_url) as gb:
            self.gradebook = SubmittedRows(gb, self.notebook_id, self.assignment_id, self.student_id)
            nb, resources = super(SaveAutoGrades, self).preprocess(nb, resources)
            gb.db.commit()
        return nb, resources
