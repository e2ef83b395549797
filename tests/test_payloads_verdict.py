"""The grader trusts no payload: every malformed or missing one is a clear message and zero credit."""
import json

import nbformat
import numpy as np
import pytest

from autograde import verdict
from autograde.payloads import PayloadError, json_size, read_payload
from course_lib.answers import MIME
from course_lib.arrays import array_from_data, array_to_data
from course_lib.errors import AnswerError
from grading import output


def display(payload):
    """A graded cell's output holding ``payload``, however malformed."""
    return {"output_type": "display_data", "data": {MIME: payload, "text/plain": "x"}}


GOOD = output("a2", {"max_dsigmoid": ["rat", "1", "4"]})["data"][MIME]


def test_a_good_payload_is_read():
    assert read_payload([{"output_type": "stream", "name": "stdout", "text": "hi"}, display(GOOD)], "a2") == GOOD["data"]


@pytest.mark.parametrize("outputs, message", [
    ([], "did not run to the end"),
    ([{"output_type": "error", "ename": "NameError", "evalue": "name 'a2' is not defined", "traceback": []}],
     "stopped with NameError: name 'a2' is not defined"),
    ([display(GOOD), display(GOOD)], "more than one answer payload"),
    ([display({**GOOD, "task": "a1"})], "not addressed to this task"),
    ([display({**GOOD, "version": 99})], "not addressed to this task"),
    ([display({**GOOD, "data": {"v": float("nan")}})], "not plain finite JSON"),
    ([display("{not json")], "not valid JSON"),
    ([display({**GOOD, "data": "text"})], "has no data"),
    ([display({**GOOD, "data": {"v": "x" * (33 * 2**20)}})], "too large"),
    ([{"output_type": "execute_result", "data": {"text/plain": "2.0"}, "execution_count": 1}], "did not run"),
])
def test_missing_or_malformed_payloads_are_refused_with_a_reason(outputs, message):
    with pytest.raises(PayloadError, match=message):
        read_payload(outputs, "a2")
    fb = verdict.judge_cell("a2", outputs, "s", "student", "nb")
    assert fb.credit == 0 and message.split(":")[0] in fb.text()


def test_deeply_nested_payload_is_refused():
    deep = []
    for _ in range(600):
        deep = [deep]
    with pytest.raises(PayloadError, match="nested too deeply"):
        read_payload([display({**GOOD, "data": {"v": deep}})], "a2")


def test_garbage_inside_well_formed_payload_costs_points_not_the_run():
    for data in ({"cases": "all"}, {"cases": [[1, 1, ["lambda", "x"]]]}, {"cases": [[1, 1, {"npy": "AAAA"}]]},
                 {"max_dsigmoid": {"nested": [1, 2]}}):
        for task in ("a1", "a2"):
            fb = verdict.judge_cell(task, [output(task, data)], "s", "x", "nb")
            assert fb.credit == 0, fb.text()


def test_a_cell_without_key_scores_nothing():
    fb = verdict.judge_cell("zz", [display({**GOOD, "task": "zz"})], "s", "x", "nb")
    assert fb.credit == 0 and "no key" in fb.text()


def test_a_dead_kernel_is_named_for_cells_that_never_ran():
    fb = verdict.judge_cell("a2", [], "s", "x", "nb", stopped="the kernel died in cell 12")
    assert "the kernel died in cell 12" in fb.text()


def test_requests_are_stable_per_student_and_differ_between_students():
    one = verdict.request_for("a1", "secret", "alice", "a_vanishing_gradient")
    assert one == verdict.request_for("a1", "secret", "alice", "a_vanishing_gradient")
    others = [verdict.request_for("a1", "secret", s, "a_vanishing_gradient") for s in ("bob", "carol", "dave")]
    assert any(o != one for o in others)
    by_secret = {str(verdict.request_for("a1", secret, "alice", "a_vanishing_gradient")) for secret in "vwxyz"}
    assert len(by_secret) > 1  # the secret seeds the request, so it cannot be predicted without it


@pytest.mark.parametrize("refused", [np.array([object()], dtype=object), np.array([1 + 2j]), np.array(["1.0"])])
def test_an_array_that_is_not_numbers_is_refused_with_a_message(refused):
    with pytest.raises(AnswerError, match="expected a numeric array, got dtype"):
        array_to_data(refused)


def test_a_numeric_array_goes_out_as_data_and_comes_back():
    a = np.arange(6, dtype=np.int16).reshape(2, 3)
    back = array_from_data(array_to_data(a))
    assert back.dtype == np.float64 and (back == a).all()


def test_a_payload_is_sized_as_json_writes_it():
    long = "QUJD" * 2**11
    deep = [1]
    for _ in range(100):
        deep = [deep, {}]
    for payload in ({"npy": long}, {"a": [long, long + "\x7f", long + '"', long + "\\", long + "\n", long + "é"]},
                    [], {}, [[]], {"": {}}, [0.1, 1e-300, -0.0, 10**30, True, False, None, "ß", "\u2028"],
                    {"t": (1, 2)}, {1: "x", "y": 2}, deep, {"v": [long] * 3, "w": {"x": [1.5, "y"]}},
                    nbformat.from_dict({"v": {"npy": long}, "w": [{"x": "y"}]}), {"many": [1, "a"] * 10**4}):
        assert json_size(payload) == len(json.dumps(payload, allow_nan=False)), payload
    for bad, error in (({"v": [float("inf")]}, ValueError), ({"v": {1, 2}}, TypeError)):
        with pytest.raises(error):
            json_size(bad)
