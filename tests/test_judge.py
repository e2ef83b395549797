"""The judge process (autograde/judge.py): every verdict within a time and a memory budget, as data."""
from __future__ import annotations

import dataclasses
import json
import os
import signal
import sys
import time

import pytest
import sympy as sp

from autograde import judge as judge_module
from autograde.judge import Judge
from course_lib import feedback, proofs, tasks
from course_lib.graph import Graph
from course_lib.tasks.a import dsigma, h, w
from course_lib.tasks.c import J, n0
from course_lib.tasks.c import c3
from course_lib.tasks.c.c3 import concrete_model
from grading import handed_in, output


def loop(n, i):
    out = h(i - 1) * dsigma(w[i] * h(i - 1))
    for k in range(i + 1, n + 1):
        out *= w[k] * dsigma(w[k] * h(k - 1))
    return out


def judged(cells, **budget):
    return Judge(**budget).judge_all([(task, handed_in(task, answer)) for task, answer in cells], "secret", "s1", "nb")


@pytest.fixture
def endless_a1(monkeypatch):
    """The a1 judge never returns (in the forked judge, which inherits the patch), as a SymPy bomb would."""
    def forever(*args):
        while True:
            pass
    monkeypatch.setattr(type(tasks.get("a1")), "judge", forever)


@pytest.fixture
def greedy_a1(monkeypatch):
    def hog(*args):
        hold = [bytearray(2**20) for _ in range(100_000)]  # 100 GB, far past the budget
        return hold
    monkeypatch.setattr(type(tasks.get("a1")), "judge", hog)


def test_a_verdict_past_its_budget_gets_0_and_the_next_cells_are_still_judged(endless_a1):
    started = time.monotonic()
    a1, a1_again, c1_blank = judged([("a1", loop), ("a1", loop), ("c1", None)], seconds=1)
    assert time.monotonic() - started < 30  # two budgets of 1 s and two forks, with room for a loaded machine
    for verdict in (a1, a1_again):
        assert verdict.credit == 0 and "this answer could not be judged within 1 s" in verdict.text()
    assert c1_blank.task == "c1" and c1_blank.credit == 0 and "could not be judged within" not in c1_blank.text()


def test_a_verdict_past_its_memory_gets_0(greedy_a1):
    (verdict,) = judged([("a1", loop)], memory_bytes=2**28)
    assert verdict.credit == 0 and "memory" in verdict.text()


def test_honest_verdicts_come_back_whole():
    (verdict,) = judged([("a1", loop)])
    assert verdict.credit == 1.0 and "confirmed symbolically" in verdict.text()


def test_the_warm_up_runs_once_in_the_grader_before_the_first_judge_is_forked():
    judged([("a1", loop)])
    assert "networkx" in sys.modules and judge_module.warm_up.cache_info().currsize == 1
    model = concrete_model.cache_info()
    assert model.currsize == 1    # c3's model was built here, so every judge forked after it has it
    (verdict,) = judged([("a1", loop)])
    assert verdict.credit == 1.0 and concrete_model.cache_info().misses == model.misses


def _children() -> set[int]:
    """This process's children now (other tests of the run may have left their own)."""
    return {int(pid) for task in os.listdir("/proc/self/task")
            for pid in open(f"/proc/self/task/{task}/children").read().split()}


def test_no_judge_process_is_left():
    before = _children()
    judged([("a1", loop)])
    assert _children() <= before


# --- one judge kept between notebooks (judge.keep_one, as SafeAutograde runs them) --------------------

def kept_judge() -> int | None:
    return judge_module._kept.pid if judge_module._kept else None


def notebooks():
    """Three students' notebooks (student, cells): right, wrong and blank answers of two tasks."""
    wrong = lambda n, i: loop(n, i) * 2  # noqa: E731
    return [(s, [("a1", handed_in("a1", answer, student=s)), ("c1", handed_in("c1", None, student=s))])
            for s, answer in (("s1", loop), ("s2", wrong), ("s3", loop))]


def judge_notebooks(each, **budget):
    return [[v.to_data() for v in Judge(**budget).judge_all(cells, "secret", student, "nb")] for student, cells in each]


def test_a_kept_judge_judges_every_notebook_as_a_fork_for_each_would_and_goes_at_the_end():
    before = _children()
    forked = judge_notebooks(notebooks())
    with judge_module.keep_one():
        kept = judge_notebooks(notebooks()[:1])
        pid = kept_judge()
        assert pid in _children()
        kept += judge_notebooks(notebooks()[1:])
        assert kept_judge() == pid  # one process judged all three
    assert kept == forked and [v[0]["credit"] for v in kept] == [1.0, 0.0, 1.0]
    assert kept_judge() is None and _children() <= before


def test_a_kept_judge_past_its_budget_is_replaced_and_the_next_notebook_is_judged(monkeypatch, tmp_path):
    stuck, judge_a1 = tmp_path / "stuck", type(tasks.get("a1")).judge

    def a1_until_stuck(*args):  # read in the judge process at each call: the kept one too
        while stuck.exists():
            time.sleep(0.05)
        return judge_a1(*args)
    monkeypatch.setattr(type(tasks.get("a1")), "judge", a1_until_stuck)
    with judge_module.keep_one():
        judge_notebooks(notebooks()[:1])
        first = kept_judge()
        stuck.touch()
        (a1, c1), = judge_notebooks(notebooks()[1:2], seconds=1)
        assert "could not be judged within 1 s" in str(a1) and c1["task"] == "c1" and "could not be judged" not in str(c1)
        assert first not in _children() and kept_judge() not in (None, first)  # c1's judge, kept
        stuck.unlink()
        (a1, _), = judge_notebooks(notebooks()[2:])
        assert a1["credit"] == 1.0


def zombie(pid: int) -> bool:
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rpartition(")")[2].split()[0] == "Z"


def test_a_kept_judge_that_died_is_replaced_and_one_that_grew_is_not_kept(monkeypatch):
    with judge_module.keep_one():
        judge_notebooks(notebooks()[:1])
        dead = kept_judge()
        os.kill(dead, signal.SIGKILL)
        while not zombie(dead):
            time.sleep(0.01)
        (a1, _), = judge_notebooks(notebooks()[2:])  # offered to the dead one first, then judged by a fresh fork
        assert a1["credit"] == 1.0 and kept_judge() not in (None, dead)
        monkeypatch.setattr(judge_module._Process, "grown", lambda judge: 2**40)
        judge_notebooks(notebooks()[:1])
        assert kept_judge() is None


def test_a_kept_judge_speaks_each_notebooks_language():
    from course_lib.i18n import set_language
    student, cells = notebooks()[1]
    try:
        with judge_module.keep_one():
            texts = []
            for lang in ("de", "en", "de"):
                set_language(lang)
                texts.append(Judge().judge_all(cells, "secret", student, "nb")[0].text())
        set_language("en")
        english = Judge().judge_all(cells, "secret", student, "nb")[0].text()  # forked for this notebook
        set_language("de")
        german = Judge().judge_all(cells, "secret", student, "nb")[0].text()
    finally:
        set_language(None)
    assert texts == [german, english, german] and german != english


def test_a_notebook_with_other_keys_gets_a_judge_of_its_own():
    with judge_module.keep_one():
        judge_notebooks(notebooks()[:1])
        first = kept_judge()
        student, cells = notebooks()[0]
        (a1, _) = Judge().judge_all(cells, "secret", student, "nb", keys=dict(judge_module.all_keys()))
        assert a1.credit == 1.0 and kept_judge() != first


def test_a1_with_a_numerically_exact_power_bomb_is_refused_at_once():
    bomb = sp.Pow(sp.Rational(10**59, 10**59 + 1), 10**59, evaluate=False)  # 1.0 in float64

    def bombed(n, i):
        return sp.Mul(loop(n, i), bomb, evaluate=False)
    started = time.monotonic()
    (verdict,) = judged([("a1", bombed)], seconds=60)
    assert verdict.credit == 0 and "powers whose product" in verdict.text()
    assert time.monotonic() - started < 30


def test_feedback_crosses_as_json_with_every_field_even_new_ones():
    fb = feedback.Feedback("a1", 0.25, title="Graded: a1").add("n=2", "wrong", "sign <b>")
    assert feedback.Feedback.from_data(json.loads(json.dumps(fb.to_data()))) == fb

    @dataclasses.dataclass
    class Later(feedback.Feedback):  # a field added later travels without edits of to_data/from_data
        answer_notes: list[str] = dataclasses.field(default_factory=list)
        asides: list[feedback.Finding] = dataclasses.field(default_factory=list)
    later = Later("a1", 1.0, answer_notes=["dsigma(x) read as σ'"], asides=[feedback.Finding("", "info", "i")])
    assert Later.from_data(json.loads(json.dumps(later.to_data()))) == later


# --- proofs a judge found, kept by the grader (course_lib/proofs.py) -----------------------------------

def c3_answer(tanh_last):
    e, u, S, delta, o_i, o_j, s_i, s_j = sp.exp, c3.u, c3.S, c3.delta, c3.o_i, c3.o_j, c3.s_i, c3.s_j
    return {"tanh": [((e(u) + e(-u)) ** 2 - (e(u) - e(-u)) ** 2) / (e(u) + e(-u)) ** 2, tanh_last],
            "softmax": [(delta * e(o_i) * S - e(o_i) * e(o_j)) / S ** 2, s_i * (delta - s_j)]}


def test_a_proof_one_judge_found_serves_the_judges_forked_after_it_and_only_for_the_same_steps(monkeypatch):
    proofs.forget()
    right = c3_answer(1 - sp.tanh(c3.u) ** 2)
    (first,) = judged([("c3", right)])
    assert first.credit == 1.0 and first.text().count("confirmed symbolically") == 2
    monkeypatch.setattr(c3, "prove", lambda *a: False)  # from here on, no judge can prove anything itself
    (again,) = Judge().judge_all([("c3", handed_in("c3", right, student="s2"))], "secret", "s2", "nb")
    assert again.credit == 1.0 and again.text().count("confirmed symbolically") == 2
    # the same tanh steps in another form are other data: proved afresh, which now fails
    (other,) = judged([("c3", c3_answer(sp.sech(c3.u) ** 2 * 1))])
    assert other.text().count("confirmed symbolically") <= 1


def test_what_a_judge_reports_beside_its_verdict_is_kept_only_as_short_strings():
    proofs.forget()
    verdict = feedback.Feedback("a1", 0.5).add("", "ok", "fine")

    def line(**fields):
        return judge_module._verdict("a1", json.dumps(fields).encode())
    too_long = "x" * (proofs.KEY_CHARS + 1)
    assert line(verdict=verdict.to_data(), proved=[123, None, {"a": 1}, too_long, "a proof"]) == verdict
    assert proofs.known("a proof") and not proofs.known(too_long) and not proofs.take_new()
    assert line(verdict=verdict.to_data(), proved="another proof") == verdict
    assert not proofs.known("another proof")
    for broken in (verdict.to_data(), {"proved": ["p"]}):  # no verdict in the line
        assert "judging it failed" in line(**broken).text()
    proofs.forget()


# --- the task (c) bombs: data that would keep SymPy or the graph check busy for hours --------------

def payload(task, data):
    return [output(task, data)]


def nested(base, times=5, exponent=64):
    for _ in range(times):
        base = sp.Pow(base, exponent, evaluate=False)
    return base


def nested_data(base, times=5, exponent=64):
    for _ in range(times):
        base = ["pow", base, ["int", str(exponent)]]
    return base


def dense_loss_graph(size=40):
    """x, y and 38 nodes, each fed by every node before it, every edge labelled: 2^37 paths from x to L."""
    G = Graph()
    names = ["x", "y"]
    for name in names:
        G.input(name)
    for k in range(size - 3):
        names.append(f"z{k + 1}")
        G.op(names[-1], "op", *names[:-1], d=[None if t == "y" else J(names[-1], t) for t in names[:-1]])
    G.op("L", "op", *names, d=[None if t == "y" else J("L", t) for t in names])
    return G


def test_the_c_bombs_are_judged_within_the_budget_and_earn_nothing_for_the_bombed_part():
    from test_task_c import BONUS, ROW
    factor = ROW["factors"]["J_z1(x)"]
    c2 = {**ROW, "factors": {**ROW["factors"], "J_z1(x)": ((nested(n0), n0), factor[1])}}
    bonus = {**BONUS, "bytes": nested(n0)}
    cells = [("c1", handed_in("c1", dense_loss_graph())),
             ("c2", handed_in("c2", c2)),
             ("c3", payload("c3", {"tanh": [nested_data(["call", "tanh", ["sym", "u"]])],
                                   "softmax": [["sym", "s_i"]]})),
             ("c_bonus", handed_in("c_bonus", bonus))]
    verdicts = Judge(seconds=120).judge_all(cells, "secret", "s1", "nb")
    for (task, _), verdict in zip(cells, verdicts):
        assert verdict.task == task and "could not be judged" not in verdict.text(), verdict.text()
        assert verdict.credit < 1, verdict.text()
    c1, c2_verdict, c3, bonus_verdict = verdicts
    assert "2^" not in c1.text() and c1.credit <= 0.2
    for verdict in (c2_verdict, c3, bonus_verdict):
        assert "power" in verdict.text() or "exponents must be numbers" in verdict.text(), verdict.text()
