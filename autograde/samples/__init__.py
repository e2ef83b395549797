"""Sample submissions for the demo and the end-to-end tests, built from the release.

* ``reference`` — every answer cell filled from the solutions (their solution regions);
* ``blank``     — the release as handed out;
* one student per entry of a task module's VARIANTS (typical mistakes, applied on
  top of the reference) and of tamper.TAMPERING (attacks, applied on top of blank).
  A variant maps grade ids to new cell sources; usually answer cells, but it may
  also edit a graded cell, which nbgrader restores before grading.

expected_points(student, cells) gives the autograded points each graded cell must get,
expected_extra_credit(student, cells) the bonus points.
"""
from __future__ import annotations

import copy
from pathlib import Path

import nbformat

from . import a, b, c, tamper
from .sources import answer_cells, reference_answers  # noqa: F401  (the samples' public helpers)

TASK_MODULES = [a, b, c]


def nbgrader_cells(nb):
    """Every cell with a grade id: answers, graded cells, locked text (a variant may edit any of them)."""
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id:
            yield grade_id, cell


def students() -> dict[str, tuple[str, dict[str, str]]]:
    """student id -> (base, answer overrides); base is "reference" or "blank"."""
    out = {"reference": ("reference", {}), "blank": ("blank", {})}
    for module in TASK_MODULES:
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
    for module in TASK_MODULES:
        points.update(module.EXPECTED.get(student, {}))
    return points


def expected_extra_credit(student: str, bonus_cells: list[str]) -> dict[str, float]:
    """Extra credit per bonus cell: 0 on a blank base, else the reference's unless EXTRA_CREDIT says otherwise."""
    base, _ = students()[student]
    out = dict.fromkeys(bonus_cells, 0.0)
    for module in TASK_MODULES:
        table = getattr(module, "EXTRA_CREDIT", {})
        if base == "reference":
            out.update(table.get("reference", {}))
            out.update(table.get(student, {}))
    return out
