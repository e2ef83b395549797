"""Cells that only show something are left out of a graded run (autograde/display_cells.py): which, and when not."""
import copy
import json

import nbformat
import pytest

from autograde import display_cells
from autograde.course import ASSIGNMENT, ROOT
from autograde.language import FOLDERS
from course_lib import check, graded_run

NOTEBOOKS = ("a_vanishing_gradient", "b_rosenbrock_graph", "c_mlp_jacobians")


def _cells(folder: str, notebook: str) -> list:
    return json.loads((ROOT / folder / ASSIGNMENT / f"{notebook}.ipynb").read_text())["cells"]


def _marked(cells) -> list[int]:
    return [k for k, c in enumerate(cells) if display_cells.marked(c)]


def _c_with(edit):
    """The c notebook's reference cells, with ``edit(cells)`` applied, and the indices of its marked cells."""
    cells = copy.deepcopy(_cells("solutions", "c_mlp_jacobians"))
    marked = _marked(cells)
    edit(cells)
    return display_cells.skipped(cells, display_cells.marked_sources(ASSIGNMENT, "c_mlp_jacobians")), marked


def _answer(cells, grade_id: str) -> dict:
    return next(c for c in cells if c["metadata"].get("nbgrader", {}).get("grade_id") == grade_id)


def _source_of(cells, start: str) -> int:
    return next(k for k, c in enumerate(cells) if display_cells._source(c).startswith(start))


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_the_course_marks_only_plain_code_cells_alike_in_both_languages_and_every_mark_is_used(notebook):
    for language, (sources, release) in FOLDERS.items():
        cells = _cells(sources, notebook)
        marked = _marked(cells)
        assert marked, (language, notebook)
        assert all(not cells[k]["metadata"].get("nbgrader") for k in marked), "graded and locked cells always run"
        assert _marked(_cells(release, notebook)) == marked, "the release keeps the marks"
        # on the reference every marked cell is left out: no course cell needs what a marked one binds
        assert sorted(display_cells.skipped(cells, display_cells.marked_sources(ASSIGNMENT, notebook))) == marked
    assert _marked(_cells("solutions", notebook)) == _marked(_cells("solutions-de", notebook))


def test_a_changed_cell_runs_and_so_do_the_cells_it_may_read():
    cells = _cells("solutions", "c_mlp_jacobians")
    plot, timing = _source_of(cells, "fig, (left, right)"), _source_of(cells, "grading = os.environ")

    def edit(cells):
        cells[plot]["source"] += "\nprint('mine')"
    left_out, marked = _c_with(edit)
    # it reads o (which it binds first, but a symbol table does not say in which order): the examples binding o run
    assert plot not in left_out and timing in left_out and left_out < set(marked)


def test_a_cell_that_runs_and_reads_a_name_keeps_the_cells_it_needs_running():
    cells = _cells("solutions", "c_mlp_jacobians")
    z, oy, o = (_source_of(cells, s) for s in ("z = mlp.softmax(o)", "o, y = np.array(", "o = np.array([1000.0"))

    def edit(cells):  # the bonus answer, after the softmax examples, reads their z: z needs o and y
        _answer(cells, "bonus_answer")["source"] += "\nlast_z = z"
    left_out, marked = _c_with(edit)
    assert {z, oy, o}.isdisjoint(left_out) and left_out == set(marked) - {z, oy, o}


def test_a_function_defined_before_reads_the_name_when_called_later():
    cells = _cells("solutions", "c_mlp_jacobians")
    plot, timing = _source_of(cells, "fig, (left, right)"), _source_of(cells, "grading = os.environ")

    def edit(cells):  # the plot binds slope
        _answer(cells, "c1_answer")["source"] += "\ndef later():\n    return slope\n"
    left_out, marked = _c_with(edit)
    assert plot not in left_out and timing in left_out


def test_reads_before_the_cell_and_a_lambdas_own_names_do_not_keep_it_running():
    def edit(cells):  # y and o before the examples bind them; the lambda's o is its own
        _answer(cells, "c1_answer")["source"] += "\nprint(y)\nf = lambda o: o + 1\n"
    left_out, marked = _c_with(edit)
    assert left_out == set(marked)


@pytest.mark.parametrize("code", ["print(globals()['z'])", "%timeit 1 + 1", "!ls", "print(_)", "print(Out[3])",
                                  "print(_19)", "exec('print(z)')", "vars()",
                                  "import sys\nsys.modules['__main__'].z", "f.__dict__", "x = (" * 300,
                                  "def (:", "\0"])
def test_a_cell_that_reaches_the_namespace_unseen_or_does_not_parse_keeps_every_cell_running(code):
    def edit(cells):
        cells.append(nbformat.v4.new_code_cell(code))
    assert _c_with(edit)[0] == set()


def test_a_notebook_too_large_to_analyse_cheaply_runs_every_cell():
    def edit(cells):
        cells.append(nbformat.v4.new_code_cell("x = 1\n" * (display_cells.ANALYSED_BYTES // 6 + 1)))
    assert _c_with(edit)[0] == set()


def test_a_self_check_in_a_graded_run_says_the_grader_judges_instead(monkeypatch):
    from course_lib.tasks.a import x
    monkeypatch.setenv(graded_run.EXECUTION_ENV, graded_run.GRADED)
    feedback = check("a1", lambda n, i: x)
    assert feedback.headline() == "Self-check a1: not run when grading" and feedback.credit == 0
    assert [f.status for f in feedback.findings] == ["skipped"] and "grader" in feedback.text()
    monkeypatch.delenv(graded_run.EXECUTION_ENV)
    assert "not run when grading" not in check("a1", lambda n, i: x).text()


def test_a_cells_names_are_remembered_by_its_exact_source_only(monkeypatch):
    analysed = []
    monkeypatch.setattr(display_cells, "_analysed_names",
                        lambda source, analyse=display_cells._analysed_names: analysed.append(source) or analyse(source))
    display_cells._remembered_names.cache_clear()
    first, again, other = "y = x + 1", "y = x + 1", "y = x + 1 "
    assert display_cells._names(first) == display_cells._names(again) == (frozenset("y"), frozenset("x"), frozenset())
    assert display_cells._names(other) == display_cells._names(first) and analysed == [first, other]
    long = "y = x\n" + "#" * display_cells.REMEMBERED[1]
    display_cells._names(long), display_cells._names(long)
    for _ in range(2):
        with pytest.raises(display_cells.Opaque):
            display_cells._names("eval('x')")
    assert analysed == [first, other, long, long, "eval('x')", "eval('x')"]  # too long or opaque: not remembered
