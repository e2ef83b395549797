"""The grading steps hand on through one Grading per notebook, and the request file has one owner."""
import json

from nbformat.v4 import new_code_cell, new_notebook

from autograde import verdict
from autograde.keys import all_keys
from autograde.secret import load_secret
from autograde.steps import WriteGraderRequests, request_file
from autograde.steps.common import STATE, Grading, grading
from course_lib.answers import REQUEST_FILE
from course_lib.i18n import REQUEST_KEY


def graded_cell(task, points=1):
    cell = new_code_cell(f"hand_in({task!r}, answer)")
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "grade_id": task, "points": points}
    return cell


def test_one_grading_per_notebook_made_by_the_first_step_that_asks():
    resources = {}
    state = grading(resources)
    assert resources[STATE] is state and grading(resources) is state
    assert state.keys.keys() == all_keys().keys() and state.stopped == "" and state.credit == {}


def test_the_extra_credit_is_the_bonus_times_the_verdicts_credit():
    state = Grading(credit={"c_bonus": 0.9, "a1": 0.5})
    assert state.bonus("c_bonus") == all_keys()["c_bonus"].extra_credit == 4
    assert state.extra_credit("c_bonus") == 3.6
    assert state.bonus("a1") == 0 and state.extra_credit("a1") == 0
    assert Grading().extra_credit("c_bonus") == 0  # no verdict (the kernel died before the cell): nothing
    assert Grading().bonus("zz") == 0  # a cell without a key


def test_the_request_file_is_written_for_the_kernel_and_removed(tmp_path):
    nb = new_notebook(cells=[graded_cell("a1"), graded_cell("zz"), new_code_cell("x = 1")])
    resources = {"nbgrader": {"student": "ana", "notebook": "nb"}, "metadata": {"path": str(tmp_path)}}
    WriteGraderRequests().preprocess(nb, resources)
    assert request_file.path(resources) == str(tmp_path / REQUEST_FILE)
    text = (tmp_path / REQUEST_FILE).read_text()
    written = json.loads(text)
    stock = tmp_path / "stock.json"
    with open(stock, "w", encoding="utf-8") as f:
        json.dump(written, f)
    assert text == stock.read_text()  # json.dump's text
    stock.unlink()
    # no key, no request; the language the graded run's self-checks speak (the tests' English)
    assert written == {REQUEST_KEY: "en", "a1": verdict.request_for("a1", load_secret(), "ana", "nb")}
    request_file.remove(resources)
    request_file.remove(resources)  # gone already (a kernel may delete it): nothing to do
    assert list(tmp_path.iterdir()) == []
