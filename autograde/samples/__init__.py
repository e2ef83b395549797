"""Sample submissions for the demo and the end-to-end tests, built from the release.

* ``reference`` — every answer cell filled from the solutions (their solution regions);
* ``blank``     — the release as handed out;
* one student per entry of a task module's VARIANTS (typical mistakes, applied on
  top of the reference) and of tamper.TAMPERING (attacks, applied on top of blank).
  A variant maps grade ids to new cell sources; usually answer cells, but it may
  also edit a graded cell, which nbgrader restores before grading.

EXPECTED_POINTS(student) gives the autograded points each graded cell must get.
"""
from __future__ import annotations

import copy
import re
from pathlib import Path

import nbformat

from . import a, tamper

TASK_MODULES = [a]

_SOLUTION = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", re.M)


def _optional_task_modules():
    """Task modules whose sample files exist (tasks are added one by one)."""
    import importlib
    modules = list(TASK_MODULES)
    for name in ("b", "c"):
        try:
            modules.append(importlib.import_module(f"{__name__}.{name}"))
        except ModuleNotFoundError:
            pass
    return modules


def answer_cells(nb):
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            yield meta["grade_id"], cell


def nbgrader_cells(nb):
    """Every cell with a grade id: answers, graded cells, locked text (a variant may edit any of them)."""
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id:
            yield grade_id, cell


def reference_answers(source_dir: Path) -> dict[str, str]:
    """grade_id -> the solution's source with the solution markers removed (all source notebooks)."""
    out = {}
    for path in sorted(Path(source_dir).glob("*.ipynb")):
        for grade_id, cell in answer_cells(nbformat.read(path, as_version=4)):
            out[grade_id] = _SOLUTION.sub("", cell.source)
    return out


def students() -> dict[str, tuple[str, dict[str, str]]]:
    """student id -> (base, answer overrides); base is "reference" or "blank"."""
    out = {"reference": ("reference", {}), "blank": ("blank", {})}
    for module in _optional_task_modules():
        out.update({sid: ("reference", cells) for sid, cells in module.VARIANTS.items()})
    out.update({sid: ("blank", cells) for sid, cells in tamper.TAMPERING.items()})
    return out


def write_submission(student: str, release_dir: Path, source_dir: Path, out_dir: Path) -> None:
    """Write the student's notebooks (one per release notebook) into out_dir."""
    base, overrides = students()[student]
    answers = reference_answers(source_dir) if base == "reference" else {}
    answers.update(overrides)
    out_dir.mkdir(parents=True, exist_ok=True)
    for path in sorted(Path(release_dir).glob("*.ipynb")):
        nb = copy.deepcopy(nbformat.read(path, as_version=4))
        for grade_id, cell in nbgrader_cells(nb):
            if grade_id in answers:
                cell.source = answers[grade_id]
        nbformat.write(nb, out_dir / path.name)


def expected_points(student: str, graded_cells: dict[str, float]) -> dict[str, float]:
    """Autograded points per graded cell: full for the reference, 0 for blank and tampering,
    the reference's points except where a variant's EXPECTED says otherwise."""
    base, _ = students()[student]
    if student in tamper.TAMPERING or base == "blank":
        return {gid: 0.0 for gid in graded_cells}
    points = dict(graded_cells)
    for module in _optional_task_modules():
        points.update(module.EXPECTED.get(student, {}))
    return points
