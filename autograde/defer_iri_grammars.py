"""Load rfc3987_syntax when it is first used, not when jsonschema is imported.

jsonschema's format checkers import ``rfc3987_syntax`` as they load, and it compiles some
35 Earley grammars at import: 1.8–2.5 CPU s here (jsonschema issue #1428), for the "iri"
formats that no notebook, nbgrader or Jupyter schema uses. Every grading process imports
jsonschema through nbformat: each ``nbgrader`` command, the batch's coordinator and its
fork server, alembic. This module puts a stand-in in ``sys.modules`` whose
``is_valid_syntax`` (all jsonschema takes) and every other name load the real module on
first use, so an iri check still answers as before.

Importing it is enough (``autograde/__init__.py`` does). Processes that import nbgrader
before autograde — the ``nbgrader`` commands — run it from a ``.pth`` file that ``make
venv`` writes into the virtual environment (``install``): it executes this file by path,
so it needs nothing importable at start-up and does nothing where the file is absent or unreadable
(a user who may run the venv's Python but not read the course's code).
"""
from __future__ import annotations

import sys
import types

NAME = "rfc3987_syntax"


class _StandIn(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__"):  # the import system asks for __path__ & co. on every `from ... import`
            raise AttributeError(name)
        return getattr(_real(), name)


def _real():
    if isinstance(sys.modules.get(NAME), _StandIn):
        del sys.modules[NAME]
    import importlib  # here: of the processes importing this module, only those that check an iri need it
    return importlib.import_module(NAME)


def _is_valid_syntax(term: str, value: str) -> bool:
    return _real().is_valid_syntax(term, value)


def _installed(name: str) -> bool:
    """``importlib.util.find_spec(name) is not None`` for a top-level name not yet imported, without importing
    importlib.util (and contextlib with it): the kernel launcher imports this package too, for every notebook."""
    return any(hasattr(finder, "find_spec") and finder.find_spec(name, None) for finder in sys.meta_path)


def defer() -> None:
    """Stand in for rfc3987_syntax unless it is loaded already or not installed."""
    if NAME in sys.modules or not _installed(NAME):
        return
    stand_in = _StandIn(NAME)
    stand_in.is_valid_syntax = _is_valid_syntax
    sys.modules[NAME] = stand_in


def install(site_packages: Path | None = None) -> Path:
    """Write the ``.pth`` file that runs this file in every Python of the environment."""
    import sysconfig  # (here, not at the top: the rest of this file runs as every Python starts)
    from pathlib import Path

    here = str(Path(__file__).resolve())
    pth = Path(site_packages or sysconfig.get_paths()["purelib"]) / "course-defer-iri-grammars.pth"
    pth.write_text(f"import os; p = {here!r}; os.path.isfile(p) and os.access(p, os.R_OK) and exec(compile(open(p).read(), p, 'exec'), "
                   f"{{'__name__': 'course_defer_iri_grammars'}})\n")
    return pth


defer()
