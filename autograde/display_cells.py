"""Cells that only show something are not run when a notebook is graded.

Points come from the handed-in answers. A cell that draws a figure, prints an example or
times a computation changes none of them, and such cells were a third of a graded
notebook's CPU time. The course marks them in its source notebooks, in cell metadata::

    "course_lib": {"when_graded": "skip"}

(``tests/test_display_cells.py``: only ordinary code cells, the same in both languages,
none binding a name another course cell reads). In a submission, a cell is left out only if

* its source is exactly that of a marked cell, so a cell the student changed runs as usual;
* no cell that does run reads a name it binds, after it or from a function (which may be
  called after it): its names are looked up in every other cell's symbol tables
  (``symtable``, so a lambda's or a function's own parameter ``x`` is not the notebook's
  ``x``), and a cell that reaches the namespace in ways no table shows
  (``globals()``, ``eval``, IPython's ``_``/``Out``, a magic that does not compile, …) keeps
  every marked cell running. Leaving a cell out also leaves out whatever it binds, so this
  is decided for all marked cells together, until no cell that runs needs one that does not.

The skipped cell's output in the graded notebook and the feedback is one line saying why.
The student's own runs are untouched. The analysis runs in the grader on submitted source,
which is hostile: it never executes it, and a notebook whose code is too large to analyse
cheaply, or that does not parse, simply runs every cell. A cell's names depend on its source alone and are
remembered by it (most of a notebook's cells are the course's, the same in every submission).
"""
from __future__ import annotations

import functools
import json
import re
import symtable
from pathlib import Path

from .course import ROOT
from .language import FOLDERS, N_, source_notebook

MARK = {"when_graded": "skip"}  # under the cell's metadata["course_lib"]
NOT_RUN = N_("[not run when grading: this cell only shows something and changes no answer; "
             "it runs when you run the notebook yourself]")
ANALYSED_BYTES = 2**20  # of code in a notebook; beyond that, every cell runs
REMEMBERED = 1024, 8192  # cells whose names are remembered, and the longest source remembered (some 8 MB in all)
# names through which a cell reaches the notebook's namespace without naming what it reads
DYNAMIC = {"globals", "vars", "locals", "eval", "exec", "compile", "get_ipython", "__import__", "__builtins__",
           "__main__", "sys", "inspect", "builtins", "In", "Out", "_ih", "_oh", "_dh", "_i", "_ii", "_iii",
           "_", "__", "___"}
OUTPUT_HISTORY = re.compile(r"_i?\d+$")  # IPython's _5, _i5


def marked(cell) -> bool:
    meta = cell.get("metadata", {}).get("course_lib", {})
    return cell.get("cell_type") == "code" and isinstance(meta, dict) and all(
        meta.get(k) == v for k, v in MARK.items())


def _source(cell) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def marked_sources(assignment: str, notebook: str, root: Path = ROOT) -> set[str]:
    """The sources of the marked cells of ``notebook``'s source notebooks, in every language."""
    sources = set()
    for language in FOLDERS:
        path = source_notebook(language, assignment, notebook, root)
        if path.is_file():
            sources |= {_source(c) for c in json.loads(path.read_text(encoding="utf-8"))["cells"] if marked(c)}
    return sources


class Opaque(Exception):
    """The cell reaches the namespace in a way its symbol tables do not show."""


def _names(source: str) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """(names the cell binds in the notebook's namespace, names it reads from it as it runs, names its
    functions, lambdas, classes and comprehensions read from it, which may be whenever they are called)."""
    return _remembered_names(source) if len(source) <= REMEMBERED[1] else _analysed_names(source)


@functools.lru_cache(maxsize=REMEMBERED[0])
def _remembered_names(source: str):
    return _analysed_names(source)  # raising Opaque: not remembered, analysed again when asked again


def _analysed_names(source: str):
    try:
        top = symtable.symtable(source, "<cell>", "exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as e:  # magics, shell escapes, top-level await
        raise Opaque from e
    bound, now, later, tables = set(), set(), set(), [top]
    while tables:
        table = tables.pop()
        for symbol in table.get_symbols():
            name = symbol.get_name()
            if table is top:
                if symbol.is_assigned() or symbol.is_imported():
                    bound.add(name)
                if symbol.is_referenced():
                    now.add(name)
            elif symbol.is_global():
                if symbol.is_assigned():
                    bound.add(name)
                if symbol.is_referenced():
                    later.add(name)
        tables.extend(table.get_children())
    read = now | later
    if read & DYNAMIC or any(OUTPUT_HISTORY.match(n) for n in read) or "__dict__" in source:
        raise Opaque
    return frozenset(bound), frozenset(now), frozenset(later)


def skipped(cells: list, sources: set[str]) -> set[int]:
    """Indices of the code cells of ``cells`` to leave out of a graded run (see the module's docstring)."""
    candidates = {k for k, c in enumerate(cells) if c.get("cell_type") == "code" and _source(c) in sources}
    code = {k: _source(c) for k, c in enumerate(cells) if c.get("cell_type") == "code"}
    if not candidates or sum(len(s) for s in code.values()) > ANALYSED_BYTES:
        return set()
    try:
        names = {k: _names(s) for k, s in code.items()}
    except Opaque:
        return set()
    left_out = set(candidates)
    while True:
        needed = {k for k in left_out if any(names[k][0] & (names[d][2] | (names[d][1] if d > k else set()))
                                             for d in code if d not in left_out)}
        if not needed:
            return left_out
        left_out -= needed
