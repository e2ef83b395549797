"""What a blank release hands in and shows: "not answered yet", never a traceback and never points."""
import pytest

from course_lib import check
from course_lib.answers import blank
from course_lib.graph import Graph
from course_lib.tasks import REGISTRY


def stub(n, i):
    """The release's a1 stub: a docstring and a comment."""
    # YOUR CODE HERE


def inputs_only() -> Graph:
    G = Graph()
    G.input("x1")
    G.input("x2")
    return G


class Endless(Graph):   # a hostile subclass is the task's to judge, not a blank answer
    def to_data(self):
        return {"nodes": []}


@pytest.mark.parametrize("answer", [..., {}, [], stub, lambda n, i: None, inputs_only(),
                                    {"graph": inputs_only(), "adjoints": {}, "grad": []}])
def test_what_the_release_leaves_is_blank(answer):
    assert blank(answer)


@pytest.mark.parametrize("answer", [None, 0, False, "", {"nodes": []}, {"graph": None, "adjoints": {}},
                                    lambda n, i: "x", lambda n, i: 0, Endless(), [...], {"a": ...}])
def test_anything_written_is_not_blank(answer):
    assert not blank(answer)


@pytest.mark.parametrize("task", sorted(REGISTRY))
def test_every_self_check_on_a_placeholder_says_not_answered_yet_and_never_raises(task):
    for placeholder in (..., {}, []):
        feedback = check(task, placeholder)
        assert feedback.text().startswith(f"Self-check {task}: not answered yet") and feedback.credit == 0


def _release(source: str) -> str:
    from nbformat.v4 import new_code_cell
    from autograde.steps import ClearSolutionsToStubsThatRun
    cell = new_code_cell(source)
    ClearSolutionsToStubsThatRun(code_stub={"python": "# YOUR CODE HERE"})._replace_solution_region(cell, "python")
    return cell.source


@pytest.mark.parametrize("source, release", [
    ('a2 = {\n    ### BEGIN SOLUTION\n    "k": 1,\n    ### END SOLUTION\n}',
     'a2 = {\n    # YOUR CODE HERE\n}'),                                        # the literal stays, empty
    ('def f(n):\n    """Doc."""\n    ### BEGIN SOLUTION\n    return n\n    ### END SOLUTION',
     'def f(n):\n    """Doc."""\n    # YOUR CODE HERE'),                      # an empty body after the docstring
    ('def f(n):\n    ### BEGIN SOLUTION\n    return n\n    ### END SOLUTION\n\n\ndef g():\n'
     '    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION',
     'def f(n):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n\n\ndef g():\n'
     '    # YOUR CODE HERE\n    raise NotImplementedError()'),                  # a comment alone would not compile
    ('### BEGIN SOLUTION\nx = 1\n### END SOLUTION\ny = [\n    ### BEGIN SOLUTION\n    x,\n    ### END SOLUTION\n]',
     '# YOUR CODE HERE\ny = [\n    # YOUR CODE HERE\n]'),
])
def test_the_release_stub_is_a_comment_wherever_that_still_compiles(source, release):
    assert _release(source) == release


def test_a_region_without_its_end_is_still_refused():
    with pytest.raises(RuntimeError):
        _release("x = 1\n### BEGIN SOLUTION\ny = 2\n")
