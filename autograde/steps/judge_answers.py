"""After the kernel: decide every graded cell from its answer payload, outside the kernel.

Each autograded test cell's outputs are *replaced* by the verdict: the feedback
(HTML and text) and an execute_result holding the score. nbgrader's own
SaveAutoGrades then reads that score as partial credit. Replacing matters: stock
nbgrader gives full points to any output without an error, so anything the
kernel printed into the cell must not survive.
"""
from __future__ import annotations

from nbformat.v4 import new_output
from nbgrader.preprocessors import NbGraderPreprocessor

from ..answer_notes import store
from ..keys import all_keys
from ..secret import load_secret
from ..verdict import judge_cell
from .common import judged_cells, who


class JudgeAnswers(NbGraderPreprocessor):
    def preprocess(self, nb, resources):
        student, notebook = who(resources)
        secret = load_secret()
        state = resources.setdefault("course_lib", {})
        credits = state.setdefault("credit", {})
        keys = all_keys()
        for task, cell in judged_cells(nb):
            feedback = judge_cell(task, cell.outputs, secret, student, notebook, state.get("stopped", ""))
            credits[task] = feedback.credit  # later steps (extra credit) read the verdict from here
            store(cell, feedback.notes)
            points = float(cell.metadata["nbgrader"]["points"])
            score = round(points * feedback.credit, 2)
            bonus = keys[task].extra_credit if task in keys else 0
            feedback.title = (f"{task}: {round(bonus * feedback.credit, 2):g} of {bonus:g} bonus points" if bonus
                              else f"{task}: {score:g} of {points:g} points")
            cell.outputs = [
                new_output("display_data", data={"text/html": feedback.html(), "text/plain": feedback.text()}),
                new_output("execute_result", data={"text/plain": repr(score)}, execution_count=cell.get("execution_count")),
            ]
            self.log.info("%s / %s / %s: %s of %s", student, notebook, task, score, points)
        return nb, resources
