"""Before SaveAutoGrades: the notebook must be valid, so points are only ever read from a valid one.

The exporter validates the notebook once, after its last step (autograde/validated_once.py),
not after each; this step keeps nbconvert's guarantee where it matters: a notebook that
a step before it made invalid (a kernel's malformed execution count, a step's bug) stops
the grading here, before any score reaches the gradebook.
"""
from __future__ import annotations

from nbgrader.preprocessors import NbGraderPreprocessor

from ..validated_once import valid_or_stop


class CheckNotebookValid(NbGraderPreprocessor):
    def preprocess(self, nb, resources):
        valid_or_stop(nb, self.log, "before its grades are saved")
        return nb, resources
