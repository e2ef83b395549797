"""The reference answers, read from the source notebooks, and variants of them with a slip put in."""
from __future__ import annotations

import functools
import re
from pathlib import Path

import nbformat

from ..course import ASSIGNMENT, ROOT

SOURCE_DIR = ROOT / "solutions" / ASSIGNMENT
_SOLUTION = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", re.M)


def without_markers(source: str) -> str:
    """The solution's code as a student would write it: the source with the marker lines removed."""
    return _SOLUTION.sub("", source)


def answer_cells(nb):
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            yield meta["grade_id"], cell


def reference_answers(source_dir: Path = SOURCE_DIR) -> dict[str, str]:
    """grade_id -> the solution's source with the solution markers removed (all source notebooks)."""
    return dict(_reference_answers(Path(source_dir)))


@functools.lru_cache(maxsize=4)
def _reference_answers(source_dir: Path) -> tuple:
    out = {}
    for path in sorted(source_dir.glob("*.ipynb")):
        for grade_id, cell in answer_cells(nbformat.read(path, as_version=4)):
            out[grade_id] = without_markers(cell.source)
    return tuple(out.items())


def reference_with(grade_id: str, *swaps: tuple[str, str]) -> str:
    """The reference answer of ``grade_id`` with each (old, new) swapped in; every old must occur."""
    source = reference_answers()[grade_id]
    for old, new in swaps:
        assert old in source, f"{grade_id} has no {old!r}: update the sample"
        source = source.replace(old, new)
    return source
