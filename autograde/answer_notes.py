"""Answer notes: which diagnosis each graded cell's verdict reached, kept beside its score.

STACK calls these answer notes. A note is the path through the task's diagnosis tree,
``<task>/<tree>/<branch>/…`` ("a1/sign", "a2/sigmoid_bound/other", "c3/end.tanh/no square";
the tree's name is left out where it is the task's own, as for a1), with the message the
student was shown and its status (ok, wrong, invalid). A verdict that reached no
diagnosis gets, when it gave points (c1 is judged without a tree), a note per finding,
``<task>/<part>/<status>``, and otherwise the single note ``<task>/not judged``: nothing in the
answer could be diagnosed (blank, an empty graph, not of the answer form, no payload).

The verdict carries its notes in ``Feedback.notes`` (plain data). JudgeAnswers writes them
into the graded cell's metadata under ``METADATA_KEY``, so they live in the autograded
notebook: a re-grade replaces them together with the score, the batch carries them with
the notebook, and the gradebook (manual grades, comments) is never touched.
``read_notes`` is the one way to read them back.
"""
from __future__ import annotations

import importlib
from functools import cache
from pathlib import Path

import nbformat

from course_lib import tasks

METADATA_KEY = "course_lib_answer_notes"
NOT_JUDGED = "not judged"


@cache
def _tree_names() -> dict[int, str]:
    """id(tree) -> its name, from the task modules' globals: A1_TREE -> "a1", END_TREES["tanh"] -> "end.tanh"."""
    names: dict[int, str] = {}
    for module in sorted({module for module, _ in tasks.REGISTRY.values()}):
        for attr, value in vars(importlib.import_module(module)).items():
            if attr.endswith("_TREE") and isinstance(value, list):
                names[id(value)] = attr[:-len("_TREE")].lower()
            elif attr.endswith("_TREES") and isinstance(value, dict):
                for key, tree in value.items():
                    names.setdefault(id(tree), f"{attr[:-len('_TREES')].lower()}.{key}")
    return names


def note_path(task_id: str, tree: list, branches: tuple[str, ...]) -> str:
    tree_name = _tree_names().get(id(tree), "tree")
    return "/".join([task_id, *([tree_name] if tree_name != task_id else []), *branches])


def notes_for(task_id: str, taken: list, feedback) -> list[dict]:
    """The notes of one verdict from the (tree, Diagnosis) pairs recorded while judging, each path once."""
    notes: dict[str, dict] = {}
    for tree, diagnosis in taken:
        path = note_path(task_id, tree, diagnosis.path)
        notes.setdefault(path, {"path": path, "status": diagnosis.outcome.status, "message": diagnosis.message})
    judged = [f for f in feedback.findings if f.status != "info"]
    if not notes and feedback.credit > 0:  # a task judged without a tree (c1) gave points
        for f in judged:
            path = f"{task_id}/{f.part or 'answer'}/{f.status}"
            notes.setdefault(path, {"path": path, "status": f.status, "message": f.message})
    if not notes:
        path = f"{task_id}/{NOT_JUDGED}"
        notes[path] = {"path": path, "status": "invalid", "message": judged[0].message if judged else ""}
    return list(notes.values())


def store(cell, notes: list[dict]) -> None:
    cell.metadata[METADATA_KEY] = notes


def read_notes(autograded: Path, assignment: str) -> dict[str, dict[str, list[dict]]]:
    """{student: {grade id: [{"path", "message"}, …]}} from the autograded notebooks of ``assignment``.

    Only autograded test cells are read (a student cannot plant notes in them: JudgeAnswers
    rewrites every one)."""
    from .steps.common import judged_cells  # the steps import the verdict, which imports this module
    out: dict[str, dict[str, list[dict]]] = {}
    for path in sorted(Path(autograded).glob(f"*/{assignment}/*.ipynb")):
        student = path.parent.parent.name
        nb = nbformat.read(path, as_version=4)
        for task, cell in judged_cells(nb):
            notes = cell.metadata.get(METADATA_KEY)
            if isinstance(notes, list):
                out.setdefault(student, {})[task] = notes
    return out
