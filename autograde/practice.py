"""Practice notebooks: handed out with the sheet, never graded.

A practice notebook (``d_…``, e.g. d_training_with_your_gradients) has no graded cell, so
it adds nothing to the gradebook's maximum; but nbgrader would still run it for every
submission. ``skip_practice_notebooks`` is nbgrader's ``Autograde.pre_convert_hook``
(nbgrader_config.py): it takes the practice notebooks out of the list nbgrader is about to
grade, so neither ``nbgrader autograde`` nor ``make grade`` starts a kernel for them, and
``generate_feedback`` has nothing of theirs to write. The rule goes by name, never by the
submitted notebook's cells, which the student controls.
"""
from __future__ import annotations

import fnmatch
from pathlib import Path

PRACTICE = "d_*"   # notebook names without .ipynb


def is_practice(notebook) -> bool:
    return fnmatch.fnmatch(Path(notebook).stem, PRACTICE)


def skip_practice_notebooks(assignment, student, notebooks: list) -> None:
    """nbgrader's pre-convert hook: drop the practice notebooks from ``notebooks`` (in place)."""
    notebooks[:] = [nb for nb in notebooks if not is_practice(nb)]
