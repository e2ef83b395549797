"""One SQLAlchemy engine per gradebook in a process, instead of one per ``Gradebook(db_url)``.

nbgrader opens the gradebook some 25 times while grading one submission (the converter, most
of its steps, ours), and each ``Gradebook`` creates an engine of its own: a new dialect and an
empty cache of compiled statements, so every query is compiled again each time (SQL compilation
was most of the gradebook's cost). An engine is made to be shared (SQLAlchemy: one per database
URL and process); ``Gradebook.close`` disposes of its connections, which leaves the engine usable
with its compiled statements. The compiled cache holds SQL text keyed by the statement's
structure, never a parameter's value. Keyed by process as well: an engine does not cross a fork.
A few are kept, most recent first. A batch job process grades every job at the same path (batch/job.py),
so its engine, with what it has compiled, serves all the process's jobs.

Each open also runs ``Base.metadata.create_all``, which asks the database about each of nbgrader's
tables in turn (a query per table, every time); ``create_missing`` asks once for all their names
and leaves the work to ``create_all`` only when one is missing, which is exactly when it would do any.

A batch job's gradebook is a private file the job has just written (batch/job.py) and that only nbgrader
and the job change: nothing drops a table or a course row. Inside ``private(url)`` the first open per course
id checks it as stock nbgrader does (tables, alembic's version, the course row); the later ones open a
session without asking again. Only the URL named, only until the scope ends (the next job's file may have
the same inode, the course's gradebook is never named).
"""
from __future__ import annotations

import os
import threading
from collections import OrderedDict
from contextlib import contextmanager

import nbgrader.api
import sqlalchemy

KEPT = 4
_engines: OrderedDict = OrderedDict()
_lock = threading.Lock()
_checked: dict[str, set] = {}  # a private gradebook's URL -> the course ids an open in its scope has checked
_nbgraders_init = nbgrader.api.Gradebook.__init__


def shared_engine(url, **kwargs) -> sqlalchemy.engine.Engine:
    """``sqlalchemy.create_engine(url, **kwargs)``, the same engine again for the same arguments in this process."""
    key = (os.getpid(), str(url), tuple(sorted(kwargs.items())))
    with _lock:
        engine = _engines.get(key)
        if engine is None:
            engine = _engines[key] = sqlalchemy.create_engine(url, **kwargs)
        _engines.move_to_end(key)
        while len(_engines) > KEPT:
            _engines.popitem(last=False)  # an open Gradebook keeps its own reference
        return engine


def create_missing(bind, create_all=nbgrader.api.Base.metadata.create_all) -> None:
    """``Base.metadata.create_all(bind=bind)``, after one query that finds every table there already."""
    if not set(nbgrader.api.Base.metadata.tables) <= set(sqlalchemy.inspect(bind).get_table_names()):
        create_all(bind=bind)


@contextmanager
def private(url: str):
    """While in this block, the gradebook at ``url`` is checked at its first open per course id only.

    The file at ``url`` is new (a job process grades each job at the same path, batch/job.py): no connection
    pooled before may serve it, so the URL's engines drop theirs first (keeping their compiled statements)."""
    with _lock:
        engines = [engine for (pid, named, _), engine in _engines.items() if pid == os.getpid() and named == str(url)]
    for engine in engines:
        engine.dispose()
    _checked[str(url)] = set()
    try:
        yield
    finally:
        del _checked[str(url)]


def _open(self, db_url, course_id="default_course", authenticator=None) -> None:
    """``Gradebook.__init__``; within ``private(db_url)`` after the first for ``course_id``, without its checks."""
    checked = _checked.get(str(db_url))
    if checked is None or course_id not in checked:
        _nbgraders_init(self, db_url, course_id, authenticator)
        if checked is not None:
            checked.add(course_id)
        return
    # what nbgrader's __init__ leaves on the object, the checks aside
    self.engine = nbgrader.api.create_engine(db_url, echo=False, future=True)
    self.db = nbgrader.api.scoped_session(nbgrader.api.sessionmaker(autoflush=True, bind=self.engine, future=True))
    self.course_id = course_id
    self.authenticator = authenticator


def install() -> None:
    """Make every ``nbgrader.api.Gradebook`` use ``shared_engine`` and ``create_missing``, and ``private``'s scopes."""
    nbgrader.api.create_engine = shared_engine
    nbgrader.api.Base.metadata.create_all = create_missing
    nbgrader.api.Gradebook.__init__ = _open
