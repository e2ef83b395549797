"""The grading process's own caches (issue 15): they answer only for exactly what they were computed for.

CheckMetadataOnce remembers cell metadata that passed nbgrader's schema check, by its exact content;
gradebook_engine shares one SQLAlchemy engine per gradebook URL and process; the feedback's
RememberingHighlight remembers a code cell's HTML by its source, language and magics; FeedbackExporter a
markdown cell's by its source and the renderer's settings, never one with attachments; CSSHTMLHeaderOnce
the style sheet by the style, the highlight class and custom.css. What a job process preloads is frozen
out of the garbage collector's full collections. An autograde run makes no log record that is only dropped.
"""
import copy
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import sqlalchemy
from nbconvert.filters.highlight import Highlight2HTML
import nbgrader.api
from nbgrader.api import Gradebook
from nbgrader.nbgraderformat import SchemaTooOldError, ValidationError
from nbgrader.preprocessors import CheckCellMetadata

from autograde import gradebook_engine
from autograde.feedback_exporter import RememberingHighlight
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
    CheckMetadataOnce().preprocess(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell()]), {})
    nb = release()
    nb.cells[0].metadata["nbgrader"] = None  # not the same as no nbgrader metadata
    both_reject(nb, AttributeError)


def test_one_engine_per_gradebook_url_and_it_works_after_close(tmp_path, monkeypatch):
    # a new gradebook runs alembic, from the virtual environment
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    url, other = f"sqlite:///{tmp_path}/a.db", f"sqlite:///{tmp_path}/b.db"
    gradebook_engine.install()
    with Gradebook(url) as gb:
        engine = gb.engine
        gb.add_student("ana")
    with Gradebook(url) as gb:
        assert gb.engine is engine and [s.id for s in gb.students] == ["ana"]
    with Gradebook(other) as gb:
        assert gb.engine is not engine and gb.students == []


def test_a_gradebook_missing_a_table_gets_it_back_and_a_whole_one_is_asked_once(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    url = f"sqlite:///{tmp_path}/a.db"
    gradebook_engine.install()
    with Gradebook(url) as gb:
        gb.add_student("ana")
        engine = gb.engine
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text("DROP TABLE comment"))
    statements = []
    sqlalchemy.event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    with Gradebook(url) as gb:
        assert "comment" in sqlalchemy.inspect(gb.engine).get_table_names()
        assert [s.id for s in gb.students] == ["ana"]
    statements.clear()
    Gradebook(url).close()
    assert sum("PRAGMA" in s or "sqlite_master" in s for s in statements) <= 2  # not one per table


def test_a_private_gradebook_is_checked_at_its_first_open_per_course_within_its_scope_only(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    url, other = f"sqlite:///{tmp_path}/a.db", f"sqlite:///{tmp_path}/b.db"
    gradebook_engine.install()
    with Gradebook(url) as gb:
        gb.add_student("ana")
        engine = gb.engine
    statements = []
    sqlalchemy.event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))

    def checks():
        return sum("sqlite_master" in s or "PRAGMA" in s or "FROM course" in s for s in statements)

    with gradebook_engine.private(url):
        Gradebook(url).close()
        assert checks() > 0  # the first open checks as nbgrader does
        statements.clear()
        for _ in range(3):
            with Gradebook(url) as gb:
                assert [s.id for s in gb.students] == ["ana"] and gb.course_id == "default_course"
        assert checks() == 0
        with Gradebook(url, "another_course") as gb:  # another course id: checked, so its row is made
            assert gb.db.query(nbgrader.api.Course).filter_by(id="another_course").one()
        with Gradebook(other):  # another file: never within this scope
            pass
    statements.clear()
    Gradebook(url).close()
    assert checks() > 0  # the scope has ended



def test_a_private_gradebook_new_at_a_path_seen_before_is_read_through_no_old_connection(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    path, empty = tmp_path / "a.db", tmp_path / "empty.db"
    gradebook_engine.install()
    Gradebook(f"sqlite:///{empty}").close()
    with gradebook_engine.private(f"sqlite:///{path}"), Gradebook(f"sqlite:///{path}") as gb:
        gb.add_student("ana")  # the last job's gradebook
    pooled = Gradebook(f"sqlite:///{path}")
    assert [s.id for s in pooled.students] == ["ana"]
    pooled.db.remove()  # its connection back in the pool, the engine not disposed
    path.unlink()
    path.write_bytes(empty.read_bytes())  # the next job's, at the same path
    with gradebook_engine.private(f"sqlite:///{path}"), Gradebook(f"sqlite:///{path}") as gb:
        assert gb.students == []

def test_highlighting_is_remembered_only_for_the_same_source_language_and_magics():
    fresh, remembering = Highlight2HTML(pygments_lexer="ipython3"), RememberingHighlight(pygments_lexer="ipython3")
    cells = [("x = 1", None, {}), ("x = 2", None, {}), ("x = 1", "python", {}), ("", None, {}), ("x = 1", None, None),
             ("x = 1", None, {"magics_language": "sql"}), ("x = 1", None, {"magics_language": "bash"}),
             ("x = 1", None, {"magics_language": None}), ("x = 1", None, {"magics_language": "python"})]
    for _ in range(2):  # the second time from what was remembered
        for source, language, metadata in cells:
            assert remembering(source, language, metadata) == fresh(source, language, metadata)
    python = RememberingHighlight(pygments_lexer="python")
    assert python("%time x") == Highlight2HTML(pygments_lexer="python")("%time x")


def _sheet(language: str, name: str):
    folder = "solutions" if language == "en" else "solutions-de"
    return nbformat.read(os.path.join(os.path.dirname(__file__), "..", folder, "sheet03", name), as_version=4)


def test_markdown_is_remembered_only_for_the_same_source_and_settings(monkeypatch):
    from autograde import feedback_exporter
    from autograde.feedback_exporter import FeedbackExporter
    from nbformat.v4 import new_markdown_cell, new_notebook

    def render(nb, **settings):
        return FeedbackExporter(**settings).from_notebook_node(copy.deepcopy(nb))[0]

    image = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
    attached = [new_notebook(cells=[new_markdown_cell("# Bild\n\n![x](attachment:p.png)",
                                                      attachments={"p.png": {mime: image}})])
                for mime in ("image/png", "image/jpeg")]  # the same source, other attachments
    cases = [(_sheet(language, name), settings) for name in ("a_vanishing_gradient.ipynb", "c_mlp_jacobians.ipynb")
             for language in ("en", "de") for settings in ({}, {"exclude_anchor_links": True},
                                                           {"anchor_link_text": "#"})]
    cases += [(nb, {}) for nb in attached]
    with monkeypatch.context() as fresh:
        fresh.setattr(feedback_exporter, "remembered", lambda store, key, render: render())
        expected = [render(nb, **settings) for nb, settings in cases]
    assert len(set(expected)) == len(expected)
    FeedbackExporter.markdown.clear()
    for _ in range(2):  # the second time from what was remembered, in another order
        assert [render(nb, **settings) for nb, settings in cases] == expected
        cases, expected = cases[::-1], expected[::-1]
    assert len(FeedbackExporter.markdown) > 50 and not any("attachment" in key for key in FeedbackExporter.markdown)


def test_the_css_header_is_remembered_only_for_the_same_style_class_and_custom_css(tmp_path):
    from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor

    from autograde.feedback_exporter import CSSHTMLHeaderOnce

    resources = {"config_dir": str(tmp_path)}
    settings = [{}, {"style": "monokai"}, {"highlight_class": ".other"}]
    for custom in (None, ".a { color: red }", ".a { color: blue }"):
        if custom is not None:
            (tmp_path / "custom").mkdir(exist_ok=True)
            (tmp_path / "custom" / "custom.css").write_text(custom)
        for kw in settings * 2:  # the second time from what was remembered
            ours = CSSHTMLHeaderOnce(**kw).preprocess({}, copy.deepcopy(resources))[1]["inlining"]
            assert ours == CSSHTMLHeaderPreprocessor(**kw).preprocess({}, copy.deepcopy(resources))[1]["inlining"]
            assert (custom in ours["css"]) if custom else len(ours["css"]) == 1


def test_a_process_grades_each_job_of_a_batch_in_the_same_fresh_folder(tmp_path):
    from autograde.batch.job import _job_folder
    with _job_folder(str(tmp_path)) as first:
        (first / "gradebook.db").write_bytes(b"the first job's")
        assert first.stat().st_mode & 0o777 == 0o700
    assert not first.exists()
    first.mkdir()
    (first / "left").write_text("what a job that died left")
    with _job_folder(str(tmp_path)) as second:
        assert second == first and not any(second.iterdir())  # same path (same gradebook URL), nothing from before
    with _job_folder(None) as elsewhere, _job_folder(None) as other:
        assert elsewhere != other and elsewhere.parent != tmp_path  # no workdir: a fresh, unguessable temp folder
    assert not elsewhere.exists()


def test_what_a_job_process_preloads_is_frozen_out_of_the_collectors_full_walks():
    code = ("import gc; before = gc.get_freeze_count(); import autograde.batch.preload; "
            "print(before, gc.get_freeze_count(), len(gc.get_objects(generation=2)))")
    result = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[1],
                            capture_output=True, text=True, timeout=300)
    before, frozen, walked = map(int, result.stdout.split())
    assert before == 0 and frozen > 100_000 and walked < frozen / 100  # a full collection walks a few objects


def test_an_autograde_run_makes_no_log_record_its_handler_would_drop_and_leaves_the_level_after():
    import logging

    from autograde.safe_autograde import _records_only_as_shown
    app_log, passing = logging.getLogger("test-app-log"), logging.getLogger("test-passing-log")
    app_log.propagate, app_log.handlers = False, [logging.NullHandler(logging.INFO)]
    app_log.setLevel(logging.DEBUG)
    passing.handlers = [logging.NullHandler(logging.INFO)]
    passing.setLevel(logging.DEBUG)
    with _records_only_as_shown(app_log), _records_only_as_shown(passing):
        assert not app_log.isEnabledFor(logging.DEBUG) and app_log.isEnabledFor(logging.INFO)
        assert passing.isEnabledFor(logging.DEBUG)  # another logger up the chain may show them
    assert app_log.isEnabledFor(logging.DEBUG)
