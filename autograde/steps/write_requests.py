"""Before the kernel starts: write the grader's requests (cases, inputs) next to the notebook.

The graded cells read them through course_lib.answers.request_for. The kernel
may read or even rewrite this file; the verdict recomputes every request from
the secret and never reads it back, so that gains nothing. The file also says which language
the grader speaks for this notebook, so the graded run's self-checks speak it too.
"""
from __future__ import annotations

import json
import os

from nbgrader.preprocessors import NbGraderPreprocessor

from course_lib.answers import REQUEST_FILE
from course_lib.i18n import REQUEST_KEY, language

from ..keys import all_keys
from ..secret import load_secret
from ..verdict import request_for
from .common import judged_cells, who


class WriteGraderRequests(NbGraderPreprocessor):
    def preprocess(self, nb, resources):
        student, notebook = who(resources)
        secret, keys = load_secret(), all_keys()
        requests = {task: request_for(task, secret, student, notebook)
                    for task, _ in judged_cells(nb) if task in keys}
        path = os.path.join(resources.get("metadata", {}).get("path") or ".", REQUEST_FILE)
        with open(path, "w", encoding="utf-8") as f:
            json.dump({REQUEST_KEY: language(), **requests}, f)
        return nb, resources
