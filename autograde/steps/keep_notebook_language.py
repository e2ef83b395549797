"""After OverwriteCells: a German submission gets its locked text back in German.

OverwriteCells puts back every locked cell as the gradebook stores it, and the gradebook
holds the English sources (solutions/). A student hands in one language; in a German
notebook that would turn every locked markdown cell English, in the autograded notebook
and in the feedback. This step puts back the locked markdown of the source notebook in
the submission's language instead (solutions-de/ for German), by grade id. The text
comes from the course, never from the submission; code cells are the same in both
languages (tests/test_languages.py), so what runs and what is graded do not change.
"""
from __future__ import annotations

from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor

from ..language import SOURCE, language_of, locked_texts


class KeepNotebookLanguage(NbGraderPreprocessor):
    def preprocess(self, nb, resources):
        language = language_of(nb)
        if language == SOURCE:
            return nb, resources
        meta = resources["nbgrader"]
        texts = locked_texts(language, meta["assignment"], meta["notebook"])
        for cell in nb.cells:
            name = cell.metadata.get("nbgrader", {}).get("grade_id")
            if cell.cell_type == "markdown" and utils.is_locked(cell) and name in texts:
                cell.source = texts[name]
                cell.metadata.nbgrader["checksum"] = utils.compute_checksum(cell)
        return nb, resources
