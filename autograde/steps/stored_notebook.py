"""The gradebook's rows for one notebook, read once, answering nbgrader's per-cell lookups.

Stock nbgrader steps ask the gradebook once per cell: OverwriteCells a query per nbgrader
cell and one more per graded cell, SaveAutoGrades one per grade and per comment, each
committed on its own (some 100 queries per whole-sheet submission, most of the gradebook's
CPU). Here a step reads what it needs of its notebook once and hands the stock step an
object with the same lookups, answered from those rows:

* ``stored_notebook``: the source notebook as generate_assignment stored it (source cells
  in the gradebook's order, grade, solution and task cells), as plain data, for
  RestoreLayout and OverwriteCells; kept in the notebook's resources for the sanitizing pass.
* ``SubmittedRows``: the submitted notebook's Grade and Comment rows, in an open session;
  the step commits once after its last cell.

Each answers for its own notebook (and student) only: a lookup for any other is an error,
never another notebook's row. What is read is keyed by what nbgrader's resources name, and
lives no longer than the notebook's pass.
"""
from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

from nbgrader.api import Comment, Gradebook, GradeCell, Grade, MissingEntry, SolutionCell, TaskCell
from sqlalchemy.orm import joinedload

STORED = "course_lib_stored"  # the key of the notebook's StoredNotebook in nbgrader's resources


@dataclass(frozen=True)
class StoredCell:
    """A SourceCell's fields that the steps read."""
    name: str
    cell_type: str
    locked: bool
    checksum: str
    source: str


@dataclass(frozen=True)
class StoredGradedCell:
    """A GradeCell's or TaskCell's fields that the steps read."""
    name: str
    max_score: float
    cell_type: str | None


class StoredNotebook:
    """One source notebook's cells; answers find_notebook, find_source_cell and find_graded_cell for it alone."""

    def __init__(self, db_url: str, assignment: str, notebook: str):
        self.key = (db_url, assignment, notebook)
        with Gradebook(db_url) as gb:
            stored = gb.find_notebook(notebook, assignment)
            # the relationships as nbgrader loads them (so in its order); the subclass rows in one query each
            self.source_cells = [StoredCell(c.name, c.cell_type, c.locked, c.checksum, c.source)
                                 for c in stored.source_cells]
            cells = stored._base_cells
            for model in {GradeCell, TaskCell} & {type(c) for c in cells}:
                gb.db.query(model).filter(model.notebook_id == stored.id).all()
            self.grade_cells = [StoredGradedCell(c.name, c.max_score, c.cell_type)
                                for c in cells if isinstance(c, GradeCell)]
            self.task_cells = [StoredGradedCell(c.name, c.max_score, None) for c in cells if isinstance(c, TaskCell)]
            self.solution_cells = [SimpleNamespace(name=c.name) for c in cells if isinstance(c, SolutionCell)]
            self.kernelspec = stored.kernelspec
        self._source = {c.name: c for c in self.source_cells}
        # find_graded_cell looks for a grade cell first, then a task cell of that name
        self._graded = {c.name: c for c in self.task_cells + self.grade_cells}

    def _check(self, notebook: str, assignment: str) -> None:
        if (assignment, notebook) != self.key[1:]:
            raise LookupError(f"asked for {assignment}/{notebook} of the rows read for {self.key[1]}/{self.key[2]}")

    def find_notebook(self, notebook: str, assignment: str) -> StoredNotebook:
        self._check(notebook, assignment)
        return self

    def find_source_cell(self, name: str, notebook: str, assignment: str) -> StoredCell:
        return self._find(self._source, "source cell", name, notebook, assignment)

    def find_graded_cell(self, name: str, notebook: str, assignment: str) -> StoredGradedCell:
        return self._find(self._graded, "grade cell", name, notebook, assignment)

    def _find(self, cells: dict, kind: str, name: str, notebook: str, assignment: str):
        self._check(notebook, assignment)
        try:
            return cells[name]
        except KeyError:
            raise MissingEntry(f"No such {kind}: {assignment}/{notebook}/{name}") from None


def stored_notebook(resources) -> StoredNotebook:
    """The StoredNotebook of the notebook ``resources`` describes, read at the first call."""
    meta = resources["nbgrader"]
    key = (meta["db_url"], meta["assignment"], meta["notebook"])
    if STORED not in resources or resources[STORED].key != key:
        resources[STORED] = StoredNotebook(*key)
    return resources[STORED]


class SubmittedRows:
    """A submitted notebook's Grade and Comment rows in ``gb``'s session, answering find_grade and find_comment
    for that notebook and student alone. ``db.commit`` does nothing: the step commits once, after its last cell."""

    db = SimpleNamespace(commit=lambda: None)

    def __init__(self, gb: Gradebook, notebook: str, assignment: str, student: str):
        self.key = (assignment, notebook, student)
        submitted = gb.find_submission_notebook(notebook, assignment, student)
        self._grades = self._by_name(gb, Grade, submitted, GradeCell)
        self._comments = self._by_name(gb, Comment, submitted, SolutionCell)

    @staticmethod
    def _by_name(gb, model, submitted, preferred) -> dict:
        """name -> row; nbgrader looks up a ``preferred`` cell's row first, then a task cell's of that name."""
        rows = gb.db.query(model).options(joinedload(model.cell)).filter(model.notebook_id == submitted.id).all()
        return {row.cell.name: row for row in sorted(rows, key=lambda row: isinstance(row.cell, preferred))}

    def _find(self, rows: dict, name: str, notebook: str, assignment: str, student: str):
        if (assignment, notebook, student) != self.key:
            raise LookupError(f"asked for {assignment}/{notebook} of {student} of the rows read for "
                              f"{self.key[0]}/{self.key[1]} of {self.key[2]}")
        try:
            return rows[name]
        except KeyError:
            raise MissingEntry(f"No such grade or comment: {assignment}/{notebook}/{name} for {student}") from None

    def find_grade(self, grade_cell: str, notebook: str, assignment: str, student: str) -> Grade:
        return self._find(self._grades, grade_cell, notebook, assignment, student)

    def find_comment(self, solution_cell: str, notebook: str, assignment: str, student: str) -> Comment:
        return self._find(self._comments, solution_cell, notebook, assignment, student)
