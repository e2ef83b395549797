"""Before the kernel starts: write the grader's requests (cases, inputs) next to the notebook.

The graded cells read them through course_lib.answers.request_for (the file: steps/request_file.py).
The file also says which language the grader speaks for this notebook, so the graded run's
self-checks speak it too. The requests stay in the notebook's Grading for the judges (JudgeAnswers):
the kernel gets a copy in the file, the grader's own stay out of its reach.
"""
from __future__ import annotations

from nbgrader.preprocessors import NbGraderPreprocessor

from course_lib.i18n import REQUEST_KEY, language

from ..secret import load_secret
from ..verdict import request_for
from . import request_file
from .common import grading, judged_cells, who


class WriteGraderRequests(NbGraderPreprocessor):
    def preprocess(self, nb, resources):
        student, notebook = who(resources)
        secret, state = load_secret(), grading(resources)
        state.requests = {task: request_for(task, secret, student, notebook, state.keys)
                          for task, _ in judged_cells(nb) if task in state.keys}
        request_file.write(resources, {REQUEST_KEY: language(), **state.requests})
        return nb, resources
