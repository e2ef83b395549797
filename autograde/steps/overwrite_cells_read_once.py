"""nbgrader's OverwriteCells, its lookups answered from the notebook's cells read once (stored_notebook.py).

Stock OverwriteCells asks the gradebook for every nbgrader cell (and again for a graded
one); RestoreLayout, just before it, has read the same source notebook already. Every
check and every change is nbgrader's own, cell by cell.
"""
from nbgrader.preprocessors import OverwriteCells

from .stored_notebook import stored_notebook


class OverwriteCellsReadOnce(OverwriteCells):
    def preprocess(self, nb, resources):
        meta = resources["nbgrader"]
        self.notebook_id, self.assignment_id, self.db_url = meta["notebook"], meta["assignment"], meta["db_url"]
        self.gradebook = stored_notebook(resources)  # in place of the Gradebook stock OverwriteCells opens
        nb, resources = super(OverwriteCells, self).preprocess(nb, resources)
        if self.add_missing_cells:
            nb, resources = self.add_missing_grade_cells(nb, resources)
            nb, resources = self.add_missing_task_cells(nb, resources)
        return nb, resources
