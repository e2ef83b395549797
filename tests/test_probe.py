"""The time limit every bounded call runs under (course_lib.bounded), and symbolic confirmation (course_lib.probe)."""
import time

import pytest
import sympy as sp

from course_lib.bounded import time_limit
from course_lib.errors import Timeout
from course_lib.probe import symbolically_equal


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # the swallowed one, on purpose
def test_a_time_limit_holds_when_python_swallows_the_first_alarm():
    class Finalizer:
        def __del__(self):
            time.sleep(0.3)  # the first alarm lands here, and Python ignores exceptions raised in __del__

    started = time.monotonic()
    with pytest.raises(Timeout):
        with time_limit(0.1):
            Finalizer()
            while time.monotonic() - started < 5:
                pass
    assert time.monotonic() - started < 1


def test_no_alarm_is_left_behind():
    with time_limit(0.05):
        pass
    time.sleep(0.2)  # an alarm still armed would raise here


def test_symbolic_confirmation_proves_or_does_not_tell():
    x = sp.Symbol("x")
    assert symbolically_equal(sp.sin(x) ** 2 + sp.cos(x) ** 2, sp.Integer(1)) is True
    assert symbolically_equal(x, x + 1) is None  # never False: the numeric probes decide
