import pytest

from course_lib.diagnose import Branch, Outcome, always, diagnose
from course_lib.feedback import Feedback

TREE = [
    Branch("negative", lambda v: v < 0, [
        Branch("very", lambda v: v < -10 and {"v": v}, Outcome(0, "far below zero: {v}")),
        Branch("a bit", always, Outcome(0.5, "slightly below zero")),
    ]),
    Branch("ok", always, Outcome(1, "fine")),
]


def test_first_matching_branch_decides_and_fills_placeholders():
    d = diagnose(TREE, -20)
    assert d.path == ("negative", "very") and d.message == "far below zero: -20" and d.outcome.status == "wrong"
    assert diagnose(TREE, -1).outcome.credit == 0.5
    assert diagnose(TREE, 3).outcome.status == "ok"


def test_tree_without_catch_all_is_an_error():
    with pytest.raises(ValueError, match="always"):
        diagnose([Branch("never", lambda v: False, Outcome(1, "x"))], 0)


def test_feedback_renders_text_and_escaped_html_and_round_trips():
    fb = Feedback("a1", 0.5, title="Self-check a1").add("n=1", "wrong", "uses <b> & σ'")
    assert "1 problem found" in fb.text() and "✘ n=1: uses <b> & σ'" in fb.text()
    assert "&lt;b&gt; &amp;" in fb.html()
    again = Feedback.from_data(fb.to_data())
    assert again.text() == fb.text() and not again.passed
    assert Feedback("a1", 1.0).add("", "info", "note").passed
