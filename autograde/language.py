"""The language the grader writes in: the submitted notebook's, unless the course fixes one.

A notebook names its language in ``metadata["course_lib"]["language"]``. That metadata comes
with the submission, so anything but "de" or "en" there (missing, a number, "fr") gives the
course's default. ``c.Language.default`` and ``c.Language.fixed`` in nbgrader_config.py are the
course's choice.

The sheet itself comes in both languages as paired source notebooks, a release for each::

    solutions/sheet03/     English sources: nbgrader's source folder, the gradebook's copy
    solutions-de/sheet03/  German sources, the same notebooks with German text
    exercises/sheet03/     the English release (what `nbgrader generate_assignment` makes)
    exercises-de/sheet03/  the German release, made the same way from solutions-de/

A pair holds the same cells in the same order with the same nbgrader metadata and the same
code; only markdown differs (tests/test_languages.py).

The grader's own messages (grading notes, feedback headings) are in the
``autograde`` catalogue under autograde/locale, which never ships to students; course_lib's
messages (every verdict's findings) are in course_lib's.
"""
from __future__ import annotations

import functools
from pathlib import Path

import nbformat

from traitlets import Enum
from traitlets.config import Configurable

from course_lib.i18n import DEFAULT, LANGUAGES, N_, Messages, notebook_language  # noqa: F401  (N_ for the steps)

from .course import ROOT

SOURCE = "en"                        # the language of solutions/, so of the gradebook
FOLDERS = {"en": ("solutions", "exercises"), "de": ("solutions-de", "exercises-de")}  # (sources, release)

GRADER = Messages("autograde", Path(__file__).resolve().parent / "locale")
_ = GRADER.gettext
ngettext = GRADER.ngettext


class Language(Configurable):
    default = Enum(LANGUAGES, DEFAULT, help="The language of the feedback for a notebook whose metadata "
                                            "names none the course speaks.").tag(config=True)
    fixed = Enum(("", *LANGUAGES), "", help="If set, every feedback is in this language, whatever the "
                                            "notebook says.").tag(config=True)

    def of(self, nb) -> str:
        """The language the grader writes in for ``nb``, a submitted notebook."""
        return self.fixed or notebook_language(nb.get("metadata")) or self.default


def language_of(nb) -> str:
    """The notebook's own language: its metadata's course_lib.language if that is "de" or "en", else DEFAULT."""
    return notebook_language(nb.get("metadata") if isinstance(nb, dict) else None) or DEFAULT


def source_notebook(language: str, assignment: str, notebook: str, root: Path = ROOT) -> Path:
    return root / FOLDERS[language][0] / assignment / f"{notebook}.ipynb"


def locked_texts(language: str, assignment: str, notebook: str, root: Path = ROOT) -> dict[str, str]:
    """grade id -> source of every locked markdown cell of the source notebook in ``language``
    (empty if there is none: a notebook name the course does not have)."""
    path = source_notebook(language, assignment, notebook, root)
    if not path.is_file():
        return {}
    return dict(_locked_texts_in(path.read_text(encoding="utf-8")))


@functools.lru_cache(maxsize=32)
def _locked_texts_in(text: str) -> dict[str, str]:
    """By the source notebook's exact text (the course's own file): two steps read it for every notebook graded."""
    return {cell.metadata["nbgrader"]["grade_id"]: cell.source for cell in nbformat.reads(text, as_version=4).cells
            if cell.cell_type == "markdown" and cell.metadata.get("nbgrader", {}).get("locked")}
