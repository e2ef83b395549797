"""The grading process's own caches (issue 15): they answer only for exactly what they were computed for.

CheckMetadataOnce remembers cell metadata that passed nbgrader's schema check, by its exact content;
gradebook_engine shares one SQLAlchemy engine per gradebook URL and process.
"""
import copy
import os
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook
from nbgrader.nbgraderformat import SchemaTooOldError, ValidationError
from nbgrader.preprocessors import CheckCellMetadata

from autograde import gradebook_engine
from autograde.steps import CheckMetadataOnce

RELEASE = os.path.join(os.path.dirname(__file__), "..", "exercises", "sheet03", "a_vanishing_gradient.ipynb")


def release():
    return nbformat.read(RELEASE, as_version=4)


def graded(nb):
    return next(cell for cell in nb.cells if cell.metadata.get("nbgrader", {}).get("grade"))


def both_reject(nb, error=ValidationError):
    for step in (CheckCellMetadata(), CheckMetadataOnce()):
        with pytest.raises(error):
            step.preprocess(copy.deepcopy(nb), {})


def test_the_release_passes_and_is_remembered():
    nb = release()
    assert CheckMetadataOnce().preprocess(nb, {}) == (nb, {})
    assert CheckMetadataOnce().preprocess(nb, {}) == (nb, {})  # the second time from what passed


def test_metadata_like_what_passed_is_checked_again():
    CheckMetadataOnce().preprocess(release(), {})  # the release's metadata remembered
    for change in ({"grade": 1}, {"points": "two"}, {"schema_version": 3.0, "grade": "yes"}, {"extra": None},
                   {"grade_id": 7}):
        nb = release()
        graded(nb).metadata["nbgrader"].update(change)
        both_reject(nb)


def test_the_notebook_level_and_cell_rules_are_nbgraders():
    nb = release()
    del graded(nb).metadata["nbgrader"]["points"]  # valid for the schema, not for nbgrader's cell check
    both_reject(nb)
    nb = release()
    graded(nb).cell_type = "markdown"  # the same metadata, but a markdown grade cell that is no solution
    both_reject(nb)
    nb = release()
    nb.cells.append(copy.deepcopy(graded(nb)))  # a duplicate grade id
    both_reject(nb)
    nb = release()
    graded(nb).metadata["nbgrader"]["schema_version"] = 2
    both_reject(nb, SchemaTooOldError)


def test_one_engine_per_gradebook_url_and_it_works_after_close(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")  # a new gradebook: alembic
    url, other = f"sqlite:///{tmp_path}/a.db", f"sqlite:///{tmp_path}/b.db"
    gradebook_engine.install()
    with Gradebook(url) as gb:
        engine = gb.engine
        gb.add_student("ana")
    with Gradebook(url) as gb:
        assert gb.engine is engine and [s.id for s in gb.students] == ["ana"]
    with Gradebook(other) as gb:
        assert gb.engine is not engine and gb.students == []
