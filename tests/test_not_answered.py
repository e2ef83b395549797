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
