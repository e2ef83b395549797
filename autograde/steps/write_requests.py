"""Before the kernel starts: write the grader's requests (cases, inputs) next to the notebook.

The graded cells read them through course_lib.answers.request_for (the file: steps/request_file.py).
The file also says which language the grader speaks for this notebook, so the graded run's
self-checks speak it too.
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
        secret, keys = load_secret(), grading(resources).keys
        requests = {task: request_for(task, secret, student, notebook, keys)
                    for task, _ in judged_cells(nb) if task in keys}
        request_file.write(resources, {REQUEST_KEY: language(), **requests})
        return nb, resources
