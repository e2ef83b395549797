"""Grading notes: what happened to a notebook on its way through grading, in plain words at its top.

Steps that change or stop a submission say so here: "test cell `a1` restored: it had
been edited", "cell 7 exceeded the 60 s limit", "this notebook could not be read".
The notes live in one markdown cell at the top of the notebook, so they reach the
autograded notebook and the feedback like any other cell; the cell carries no
nbgrader metadata, so nbgrader neither grades nor checks it.
"""
from __future__ import annotations

import re

from .language import N_, _
from .nodes import new_cell

MARK = "course_lib_grading_notes"
TITLE = N_("Grading notes")


def literal(text, limit: int = 80) -> str:
    """``text`` from a submission (a file name, a grade id) as an inline code span that stays one:
    no backtick to close it early, no line break to leave the list item, at most ``limit`` characters.
    Inside a code span Markdown shows ``<``, ``>`` and ``&`` as they are, never as HTML."""
    text = str(text).encode("utf-8", "replace").decode()  # a file name that is not UTF-8 has lone surrogates
    text = re.sub(r"[\x00-\x1f\x7f`]", lambda m: "'" if m.group() == "`" else " ", text)
    return f"`{text[:limit] + '…' if len(text) > limit else text}`"


def _notes_cell(nb):
    if nb.cells and nb.cells[0].metadata.get(MARK):
        return nb.cells[0]
    return None


def add_note(nb, text: str) -> None:
    cell = _notes_cell(nb)
    if cell is None:
        cell = new_cell("markdown", f"**{_(TITLE)}**\n", metadata={MARK: True})
        nb.cells.insert(0, cell)
    cell.source += f"\n- {text[:1].upper()}{text[1:]}"


def cell_label(nb, index: int) -> str:
    """How a student finds cell ``index``: "cell 7", counted from the top without the notes cell,
    with the cell's grade id where it has one: "cell 9 (`a1`)"."""
    number = index + 1 - (_notes_cell(nb) is not None)
    grade_id = nb.cells[index].metadata.get("nbgrader", {}).get("grade_id")
    return (_("cell {number} ({grade_id})") if grade_id else _("cell {number}")).format(
        number=number, grade_id=literal(grade_id) if grade_id else "")
