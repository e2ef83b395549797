"""After SaveAutoGrades: write each bonus cell's points into the gradebook as Grade.extra_credit.

A bonus cell carries 0 points in nbgrader, so it adds nothing to the maximum score.
Its extra credit (the notebook's Grading, steps/common.py: the verdict's credit, left by
JudgeAnswers, times its key's ``extra_credit``) becomes Grade.extra_credit, which nbgrader adds to the
cell's score, to the notebook's and the assignment's, and to `nbgrader export`.
It is written on every run, so `nbgrader autograde --force` writes it again; a cell
without a verdict (the kernel died before it) gets 0.
"""
from __future__ import annotations

from nbgrader.api import Gradebook
from nbgrader.preprocessors import NbGraderPreprocessor

from .common import grading, judged_cells, who


class SaveExtraCredit(NbGraderPreprocessor):
    def preprocess(self, nb, resources):
        student, notebook = who(resources)
        assignment = resources["nbgrader"]["assignment"]
        state = grading(resources)
        bonus = [task for task, _ in judged_cells(nb) if state.bonus(task)]
        if not bonus:
            return nb, resources
        with Gradebook(resources["nbgrader"]["db_url"]) as gb:
            for task in bonus:
                grade = gb.find_grade(task, notebook, assignment, student)
                grade.extra_credit = state.extra_credit(task)
                self.log.info("%s / %s / %s: %s extra credit", student, notebook, task, grade.extra_credit)
            gb.db.commit()
        return nb, resources
