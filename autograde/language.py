"""The language the grader writes in: the submitted notebook's, unless the course fixes one.

A notebook names its language in ``metadata["course_lib"]["language"]``. That metadata comes
with the submission, so anything but "de" or "en" there (missing, a number, "fr") gives the
course's default. ``c.Language.default`` and ``c.Language.fixed`` in nbgrader_config.py are the
course's choice. The grader's own messages (grading notes, feedback headings) are in the
``autograde`` catalogue under autograde/locale, which never ships to students; course_lib's
messages (every verdict's findings) are in course_lib's.
"""
from __future__ import annotations

from pathlib import Path

from traitlets import Enum
from traitlets.config import Configurable

from course_lib.i18n import DEFAULT, LANGUAGES, N_, Messages, notebook_language  # noqa: F401  (N_ for the steps)

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
