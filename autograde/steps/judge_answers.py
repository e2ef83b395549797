"""After the kernel: decide every graded cell from its answer payload, outside the kernel.

Each autograded test cell's outputs are *replaced* by the verdict: the feedback
(HTML and text) and an execute_result holding the score. nbgrader's own
SaveAutoGrades then reads that score as partial credit. Replacing matters: stock
nbgrader gives full points to any output without an error, so anything the
kernel printed into the cell must not survive. The verdicts come from a judge process
with a time and memory budget per cell (autograde/judge.py, ``c.Judge.*``). Each verdict's
title, with its points, is given here; its credit goes on in the notebook's Grading (steps/common.py).
"""
from __future__ import annotations

from nbgrader.preprocessors import NbGraderPreprocessor

from ..answer_notes import store
from ..judge import Judge
from ..language import _
from ..nodes import new_output
from ..secret import load_secret
from .common import grading, judged_cells, who


class JudgeAnswers(NbGraderPreprocessor):
    def preprocess(self, nb, resources):
        student, notebook = who(resources)
        secret, state = load_secret(), grading(resources)  # every judge forked from here inherits keys and requests
        cells = list(judged_cells(nb))
        verdicts = Judge(parent=self).judge_all([(task, cell.outputs) for task, cell in cells], secret, student,
                                                notebook, state.stopped, state.keys, state.requests)
        for (task, cell), feedback in zip(cells, verdicts):
            state.credit[task] = feedback.credit
            store(cell, feedback.notes)
            points = float(cell.metadata["nbgrader"]["points"])
            score = round(points * feedback.credit, 2)
            bonus = state.bonus(task)
            feedback.title = (_("{task}: {score} of {points} bonus points") if bonus else
                              _("{task}: {score} of {points} points")).format(
                task=task, score=f"{state.extra_credit(task) if bonus else score:g}", points=f"{bonus or points:g}")
            cell.outputs = [
                new_output("display_data", data={"text/html": feedback.html(), "text/plain": feedback.text()}),
                new_output("execute_result", data={"text/plain": repr(score)}, execution_count=cell.get("execution_count")),
            ]
            self.log.info("%s / %s / %s: %s of %s", student, notebook, task, score, points)
        return nb, resources
