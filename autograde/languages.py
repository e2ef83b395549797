"""The sheet in German and in English: paired source notebooks, a release for each language.

    solutions/sheet03/     English sources: nbgrader's source folder, the gradebook's copy
    solutions-de/sheet03/  German sources, the same notebooks with German text
    exercises/sheet03/     the English release (what `nbgrader generate_assignment` makes)
    exercises-de/sheet03/  the German release, made the same way from solutions-de/

A pair holds the same cells in the same order with the same nbgrader metadata and the same
code; only markdown differs (tests/test_languages.py). A notebook says which language it
is in ``metadata["course_lib"]["language"]``; a submission's metadata is the student's,
so anything but "de" or "en" there means the course's language.
"""
from __future__ import annotations

from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = "de"                       # the course is taught in German
SOURCE = "en"                        # the language of solutions/, so of the gradebook
FOLDERS = {"en": ("solutions", "exercises"), "de": ("solutions-de", "exercises-de")}  # (sources, release)


def language_of(nb) -> str:
    """The notebook's language: its metadata's course_lib.language if that is "de" or "en", else DEFAULT."""
    metadata = nb.get("metadata") if isinstance(nb, dict) else None
    course_lib = metadata.get("course_lib") if isinstance(metadata, dict) else None
    language = course_lib.get("language") if isinstance(course_lib, dict) else None
    return language if isinstance(language, str) and language in FOLDERS else DEFAULT


def source_notebook(language: str, assignment: str, notebook: str, root: Path = ROOT) -> Path:
    return root / FOLDERS[language][0] / assignment / f"{notebook}.ipynb"


def locked_texts(language: str, assignment: str, notebook: str, root: Path = ROOT) -> dict[str, str]:
    """grade id -> source of every locked markdown cell of the source notebook in ``language``
    (empty if there is none: a notebook name the course does not have)."""
    path = source_notebook(language, assignment, notebook, root)
    if not path.is_file():
        return {}
    return {cell.metadata["nbgrader"]["grade_id"]: cell.source for cell in nbformat.read(path, as_version=4).cells
            if cell.cell_type == "markdown" and cell.metadata.get("nbgrader", {}).get("locked")}
