"""After the kernel: decide every graded cell from its answer payload, outside the kernel.

Each autograded test cell's outputs are *replaced* by the verdict: the feedback
(HTML and text) and an execute_result holding the score. nbgrader's own
SaveAutoGrades then reads that score as partial credit. Replacing matters: stock
nbgrader gives full points to any output without an error, so anything the
kernel printed into the cell must not survive. The verdicts come from a judge process
with a time and memory budget per cell (autograde/judge.py, ``c.Judge.*``).
"""
from __future__ import annotations

from nbformat.v4 import new_output
from nbgrader.preprocessors import NbGraderPreprocessor

from ..answer_notes import store
from ..judge import Judge
from ..language import _
from ..keys import all_keys
from ..secret import load_secret
from .common import judged_cells, who


class JudgeAnswers(NbGraderPreprocessor):
    def preprocess(self, nb, resources):
        student, notebook = who(resources)
        secret = load_secret()
        state = resources.setdefault("course_lib", {})
        credits = state.setdefault("credit", {})
        keys = all_keys()  # built here, once: every judge process forked from this one inherits them
        cells = list(judged_cells(nb))
        verdicts = Judge(parent=self).judge_all([(task, cell.outputs) for task, cell in cells], secret,
                                                student, notebook, state.get("stopped", ""))
        for (task, cell), feedback in zip(cells, verdicts):
            credits[task] = feedback.credit  # later steps (extra credit) read the verdict from here
            store(cell, feedback.notes)
            points = float(cell.metadata["nbgrader"]["points"])
            score = round(points * feedback.credit, 2)
            bonus = keys[task].extra_credit if task in keys else 0
            feedback.title = (_("{task}: {score} of {points} bonus points") if bonus else
                              _("{task}: {score} of {points} points")).format(
                task=task, score=f"{round(bonus * feedback.credit, 2) if bonus else score:g}", points=f"{bonus or points:g}")
            cell.outputs = [
                new_output("display_data", data={"text/html": feedback.html(), "text/plain": feedback.text()}),
                new_output("execute_result", data={"text/plain": repr(score)}, execution_count=cell.get("execution_count")),
            ]
            self.log.info("%s / %s / %s: %s of %s", student, notebook, task, score, points)
        return nb, resources
