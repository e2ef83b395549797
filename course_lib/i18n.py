"""The language of every message a student or a TA reads: German or English, from gettext catalogues.

Messages are written in English in the sources; that text is the message id. ``_`` looks it up
in ``course_lib/locale/<language>/LC_MESSAGES/course_lib.mo`` (the stdlib's gettext; the catalogues
are kept with Babel, see the README's "Messages in two languages"). A diagnosis tree's messages
stay literal strings in ``Outcome(credit, "message")``: diagnose.diagnose translates them when it
renders them, so ``{name}`` placeholders are filled after translation.

Which language speaks, first that applies:

1. ``set_language("en")`` — the student's choice in the notebook, or the grader's for the notebook
   it grades (autograde/steps/speak_the_notebooks_language.py);
2. the grader's request file next to the notebook: before a graded kernel starts, the grader
   writes there the language it grades the notebook in, so the graded run's self-checks speak it too;
3. ``COURSE_LIB_LANGUAGE`` in the environment (a student's shell, a JupyterHub's settings);
4. the metadata of the notebook the kernel runs for, ``metadata["course_lib"]["language"]``: Jupyter's
   server (jupyter_server, which JupyterLab and Notebook 7 run on) tells every kernel it starts for a
   notebook that notebook's path in ``JPY_SESSION_NAME``;
5. the course's default, German.

A kernel has no other reliable way to its notebook (nothing of the notebook reaches it but code),
hence the path from the server; a graded kernel, started by nbclient without one, gets the language
from the grader instead, and it comes before the environment so that a variable left in the
grader's shell cannot change it. Each file is read again only when it changes. Anything but "de" or
"en" at any of these places is passed over, as if it were not there: the notebook is the student's.
"""
from __future__ import annotations

import gettext
import json
import os
from functools import cache
from pathlib import Path

LANGUAGES = ("de", "en")
DEFAULT = "de"
DOMAIN = "course_lib"
LOCALE = Path(__file__).resolve().parent / "locale"
ENV = "COURSE_LIB_LANGUAGE"
REQUEST_KEY = "language"        # the grader's request file: {"language": "de", "<task>": request, …}
FILE_BYTES = 64 * 2**20         # a notebook larger than this is not read for its language

_chosen: str | None = None
_seen: dict[str, tuple] = {}    # path -> ((mtime_ns, size), the language found there)


def supported(language) -> str | None:
    """``language`` if the course speaks it, else None (whatever it is: metadata is the student's)."""
    return language if isinstance(language, str) and language in LANGUAGES else None


def set_language(language: str | None) -> None:
    """Speak ``language`` ("de" or "en") from now on in this kernel; None returns to the notebook's."""
    global _chosen
    if language is not None and not supported(language):
        raise ValueError(_("the course speaks {languages}, not {language}").format(
            languages=_(" and ").join(LANGUAGES), language=repr(language)))
    _chosen = language


def notebook_language(metadata) -> str | None:
    """The language a notebook's metadata names, if the course speaks it."""
    course = metadata.get("course_lib") if isinstance(metadata, dict) else None
    return supported(course.get("language")) if isinstance(course, dict) else None


def language() -> str:
    """The language messages are shown in now (see the module's docstring for the order)."""
    return _chosen or _requested() or supported(os.environ.get(ENV)) or _session_notebook() or DEFAULT


def _requested() -> str | None:
    from .answers import requests  # answers imports the tasks, which import this module
    given = requests()  # (read once for the hand-ins and the language alike)
    return supported(given.get(REQUEST_KEY)) if given is not None else None


def _session_notebook() -> str | None:
    path = os.environ.get("JPY_SESSION_NAME")
    if not path or not path.endswith(".ipynb"):
        return None
    if not os.path.isabs(path) and not os.path.exists(path):
        path = os.path.basename(path)  # a path from the server's root; the kernel runs in the notebook's folder
    return _language_in(path, lambda nb: notebook_language(nb.get("metadata")))


def _language_in(path: str, pick) -> str | None:
    """pick(the JSON in ``path``), read again only when the file changes; None if it cannot be read."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    key, seen = (stat.st_mtime_ns, stat.st_size), _seen.get(os.path.abspath(path))
    if seen is None or seen[0] != key:
        found = None
        if stat.st_size <= FILE_BYTES:
            try:
                with open(path, encoding="utf-8") as f:
                    found = pick(json.load(f))
            except (OSError, ValueError, AttributeError):  # unreadable, not JSON, not a dict
                pass
        seen = _seen[os.path.abspath(path)] = (key, found)
    return seen[1]


class Messages:
    """One gettext domain's catalogues, speaking the current language at each call."""

    def __init__(self, domain: str, folder: Path):
        self.domain, self.folder = domain, folder

    @cache
    def translations(self, language: str) -> gettext.NullTranslations:
        return gettext.translation(self.domain, self.folder, languages=[language], fallback=True)

    def gettext(self, message: str) -> str:
        """``message`` (its English text) in the current language."""
        return self.translations(language()).gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.translations(language()).ngettext(singular, plural, n)


COURSE_LIB = Messages(DOMAIN, LOCALE)
_ = COURSE_LIB.gettext
ngettext = COURSE_LIB.ngettext


def N_(message: str) -> str:
    """Marks ``message`` for the catalogue where it is written; it is translated where it is shown."""
    return message
