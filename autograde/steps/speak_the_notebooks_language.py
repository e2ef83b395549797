"""First of all: speak the submitted notebook's language (autograde/language.py) for the rest of its grading.

Every later step writes in it: the grading notes, the verdicts (the judge forks from this
process and inherits it), the headings, and the grader's request file, from which the graded
kernel's self-checks take it.
"""
from __future__ import annotations

from nbgrader.preprocessors import NbGraderPreprocessor

from course_lib.i18n import set_language

from ..language import Language


class SpeakTheNotebooksLanguage(NbGraderPreprocessor):
    def preprocess(self, nb, resources):
        set_language(Language(parent=self).of(nb))
        return nb, resources
