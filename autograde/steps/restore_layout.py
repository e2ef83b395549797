"""Before nbgrader's own sanitizing: put the notebook's nbgrader cells back as they were handed out, and say so.

nbgrader's OverwriteCells restores the source, type and points of the nbgrader cells
a student left in place, silently. A submission may also have deleted, duplicated,
moved or renamed them; run as it stands, its honest answers could then go unjudged
(a deleted test cell) or be judged before they exist (a test cell moved above its
answer). This step, first in ``Autograde.sanitize_preprocessors``:

* restores deleted nbgrader cells as handed out, at their place;
* puts the nbgrader cells back in the order handed out; every other cell moves with
  the nbgrader cell it followed, so a student's helper cells stay with their answer;
* keeps only the last copy of a duplicated cell as the nbgrader cell (as nbgrader's
  DeduplicateIds does) and strips the metadata of an unknown grade id, so those run
  as ordinary cells;
* writes a grading note for each of these and for every edit OverwriteCells will
  undo (an edited test or locked cell, changed points, a changed cell type); locked
  text as handed out in either language (solutions-de/ for German) is not an edit.

The layout comes from the gradebook (the source cells in notebook order), so the
step needs nothing but what nbgrader already stored at generate_assignment; it is read
once (stored_notebook.py), and OverwriteCellsReadOnce answers its lookups from the same rows.
"""
from __future__ import annotations

from nbgrader.preprocessors import ClearHiddenTests, NbGraderPreprocessor

from ..language import FOLDERS, SOURCE, _, locked_texts
from ..nodes import new_cell
from ..notes import add_note, cell_label, literal
from .stored_notebook import stored_notebook


def _kind(name, layout) -> str:
    if name in layout["grade"] and name not in layout["solution"]:
        return _("test cell")
    if name in layout["solution"]:
        return _("answer cell")
    return _("locked cell")


def _as_handed_out(source_cell) -> str:
    """The source students got: the stored source without its hidden tests."""
    cell = new_cell("code", source_cell.source)
    ClearHiddenTests()._remove_hidden_test_region(cell)
    return cell.source


class RestoreLayout(NbGraderPreprocessor):
    def preprocess(self, nb, resources):
        meta = resources["nbgrader"]
        stored = stored_notebook(resources).find_notebook(meta["notebook"], meta["assignment"])
        layout = {"cells": {c.name: c for c in stored.source_cells}, "order": [c.name for c in stored.source_cells],
                  "grade": {c.name: c.max_score for c in stored.grade_cells},
                  "solution": {c.name for c in stored.solution_cells},
                  "task": {c.name for c in stored.task_cells},
                  "translated": [locked_texts(language, meta["assignment"], meta["notebook"])
                                 for language in FOLDERS if language != SOURCE]}
        notes = self._keep_known_cells(nb, layout) + self._restore_order(nb, layout) + self._edits_to_undo(nb, layout)
        for note in notes:
            add_note(nb, note)
        return nb, resources

    @staticmethod
    def _keep_known_cells(nb, layout) -> list[str]:
        """Strip nbgrader metadata from unknown grade ids and from all but the last copy of a duplicate."""
        notes, last = [], {}
        for index, cell in enumerate(nb.cells):
            name = cell.metadata.get("nbgrader", {}).get("grade_id")
            if name is None:
                continue
            if name not in layout["cells"]:
                notes.append(_("{cell} had the unknown grade id {grade_id}; it ran as an ordinary cell").format(
                    cell=cell_label(nb, index), grade_id=literal(name)))
                del cell.metadata["nbgrader"]
            else:
                last[name] = index
        copies = {}
        for index, cell in enumerate(nb.cells):
            name = cell.metadata.get("nbgrader", {}).get("grade_id")
            if name is not None and last[name] != index:
                copies[name] = copies.get(name, 1) + 1
                del cell.metadata["nbgrader"]
        notes += [_("{kind} `{name}` appeared {count} times; the last copy is graded, the others ran as ordinary "
                    "cells").format(kind=_kind(name, layout), name=name, count=n) for name, n in copies.items()]
        return notes

    @staticmethod
    def _restore_order(nb, layout) -> list[str]:
        blocks, current, seen = {None: []}, None, []
        for cell in nb.cells:
            name = cell.metadata.get("nbgrader", {}).get("grade_id")
            if name is not None:
                current = name
                seen.append(name)
                blocks[name] = []
            blocks[current].append(cell)
        missing = [name for name in layout["order"] if name not in blocks]
        if not missing and seen == layout["order"]:
            return []
        notes = [_("{kind} `{name}` had been deleted; it was restored as handed out").format(
            kind=_kind(name, layout), name=name) for name in missing]
        if seen != [name for name in layout["order"] if name in blocks]:
            notes.append(_("cells had been moved; the notebook ran in the order handed out, every other cell "
                           "after the graded or locked cell it followed"))
        nb.cells = blocks[None] + [cell for name in layout["order"]
                                   for cell in blocks.get(name) or [RestoreLayout._restored(name, layout)]]
        return notes

    @staticmethod
    def _restored(name, layout):
        stored = layout["cells"][name]
        cell = new_cell(stored.cell_type, _as_handed_out(stored))
        cell.metadata["nbgrader"] = {
            "grade": name in layout["grade"], "grade_id": name, "locked": stored.locked,
            "solution": name in layout["solution"], "task": name in layout["task"], "schema_version": 3,
            "checksum": stored.checksum, "cell_type": stored.cell_type,
            **({"points": layout["grade"][name]} if name in layout["grade"] else {})}
        if stored.locked:
            cell.metadata.update(deletable=False, editable=False)
        return cell

    @staticmethod
    def _edits_to_undo(nb, layout) -> list[str]:
        notes = []
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            name = meta.get("grade_id")
            if name is None:
                continue
            stored, kind = layout["cells"][name], _kind(name, layout)
            if cell.cell_type != stored.cell_type:
                notes.append(_("{kind} `{name}` was turned into a {new} cell; it is {old} again").format(
                    kind=kind, name=name, new=cell.cell_type, old=stored.cell_type))
            handed_out = {_as_handed_out(stored).strip()} | {texts[name].strip() for texts in layout["translated"]
                                                             if name in texts}
            if stored.locked and cell.source.strip() not in handed_out:
                notes.append(_("{kind} `{name}` restored: it had been edited").format(kind=kind, name=name))
            if name in layout["grade"] and meta.get("points") != layout["grade"][name]:
                notes.append(_("the points of `{name}` were changed to {points}; they are {handed_out} again").format(
                    name=name, points=literal(meta.get("points")), handed_out=f"{layout['grade'][name]:g}"))

        return notes
