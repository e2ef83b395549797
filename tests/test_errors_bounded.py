"""One errors module, one bounded call with a structured result, one typed unusable value (course_lib.errors, .bounded)."""
import gc
import importlib
import json
import pkgutil
import resource
import weakref

import pytest

import course_lib
from course_lib import bounded, check, errors
from course_lib.errors import Timeout, Unusable, unusable


def test_every_exception_of_course_lib_is_defined_in_errors():
    defined = []
    for info in pkgutil.walk_packages(course_lib.__path__, "course_lib."):
        module = importlib.import_module(info.name)
        defined += [(info.name, name) for name, value in vars(module).items()
                    if isinstance(value, type) and issubclass(value, BaseException)
                    and value.__module__.startswith("course_lib") and value.__module__ != "course_lib.errors"]
    assert defined == []
    assert course_lib.expr_json.ExpressionError is errors.ExpressionError  # still raised and caught by its module's name


def test_an_unusable_value_leaves_the_kernel_as_the_error_dict_the_grader_reads():
    u = Unusable("J_z1(x) returned None (a missing return?)", timed_out=True)
    assert json.loads(json.dumps({"part": u})) == {"part": {"error": "J_z1(x) returned None (a missing return?)"}}
    assert u.timed_out and u.why == unusable(u) == unusable(json.loads(json.dumps(u)))
    assert json.loads(json.dumps(Unusable("not answered yet", blank=True))) == {"error": "not answered yet", "blank": True}
    assert unusable({"npy": "…"}) is None and unusable([["sym", "x"]]) is None and unusable(None) is None
    assert unusable({"error": 3}) == "3"  # hostile data: always a string


def test_a_bounded_call_gives_its_value_or_what_stopped_it():
    assert bounded.call(lambda: 42) == bounded.Bounded(42, None, bounded.CALL_SECONDS)
    raised = bounded.call(lambda: 1 / 0)
    assert raised.value is None and isinstance(raised.failure, ZeroDivisionError) and not raised.timed_out
    assert raised.or_unusable("f") == {"error": "f raised ZeroDivisionError: division by zero"}

    def endless():
        while True:
            pass
    stopped = bounded.call(endless, 0.2)
    assert stopped.timed_out and bounded.hung(stopped.or_unusable("f"))
    assert stopped.or_unusable("f").why == "f did not return within 0.2 s (an endless loop?)"
    assert not bounded.hung(raised.or_unusable("f")) and not bounded.hung({"error": "f did not return within 1 s"})


@pytest.mark.parametrize("fn, message", [
    (lambda: (_ for _ in ()).throw(NotImplementedError()), "not answered yet: f raises NotImplementedError"),
    (lambda: (_ for _ in ()).throw(errors.AnswerError("entry(0, 0, 0, x) is nan")), "entry(0, 0, 0, x) is nan"),
    (lambda: (_ for _ in ()).throw(errors.ExpressionError("unknown symbol 'q'")),
     "f returned an unusable value: unknown symbol 'q'"),
    (lambda: (_ for _ in ()).throw(RecursionError()), "f raised RecursionError: it recursed without end"),
    (lambda: bytearray(2**40), "f ran out of memory: it allocates far more than any answer here needs"),
])
def test_each_failure_has_its_one_line_message(fn, message):
    assert bounded.call(fn).or_unusable("f").why == message


def test_only_what_catch_names_is_caught():
    with pytest.raises(ZeroDivisionError):
        bounded.call(lambda: 1 / 0, catch=(RecursionError,))
    assert isinstance(bounded.call(lambda: 1 / 0, catch=(ZeroDivisionError,)).failure, ZeroDivisionError)


def test_sympy_is_not_called_where_no_time_limit_can_be_set():
    called = []
    result = bounded.call(lambda: called.append(1), 0, memory=None, only_bounded=True)
    assert result.timed_out and called == []
    assert bounded.call(lambda: called.append(1) or 7, 0).value == 7 and called == [1]  # a student's call still runs


def test_a_failed_call_keeps_nothing_it_allocated_alive():
    class Big:
        pass

    def fails():
        big = Big()
        kept.append(weakref.ref(big))
        try:
            raise KeyError("inner")
        except KeyError:
            raise errors.AnswerError("outer") from None

    kept = []
    result = bounded.call(fails)
    gc.collect()
    assert result.failure.args == ("outer",) and kept[0]() is None


def test_an_exception_under_a_tighter_memory_limit_keeps_its_message():
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    tight = 2**36 if hard == resource.RLIM_INFINITY else min(hard, 2**36)  # below the current size + 2**40
    try:
        resource.setrlimit(resource.RLIMIT_AS, (tight, hard))
        with pytest.raises(ValueError, match="shapes"):
            with bounded.memory_limit(2**40):  # a tighter limit is in force: nothing is lowered
                raise ValueError("shapes (2,3) and (4,) not aligned")
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def test_a_budget_shares_its_seconds():
    budget = bounded.Budget(10.0, per_call=2.5)
    assert 2.4 < budget.left() <= 2.5
    assert bounded.Budget(-1.0).left() < 0


def test_a_self_check_shows_the_unusable_part_and_judges_the_rest():
    fb = check("a2", {"max_dsigmoid": 0.25, "sigmoid_bound": "4", "i1_bound_has_abs_x": 1})
    text = fb.text()
    assert "sigmoid_bound" in text and "i1_bound_has_abs_x: must be True or False" in text
    assert "relu_sup: missing" in text and "max_dsigmoid: correct" in text
