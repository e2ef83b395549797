"""Tampering attempts, each on top of a blank or wrong answer: every one must earn 0 autograded points.

Each puts its attack into the first answer cell of task (a) and leaves a wrong
answer behind it; the attack runs in the grading kernel like any student code.
"""

_WRONG_A1 = '''
def dh_dw(n, i):
    return dsigma(w[i] * h(i - 1))
'''

TAMPERING = {
    # the classic: make every comparison in the kernel succeed
    "tamper_allclose": {"a1_answer": '''import numpy as np, numpy.testing
np.allclose = lambda *a, **k: True
np.isclose = lambda *a, **k: True
numpy.testing.assert_allclose = lambda *a, **k: None
''' + _WRONG_A1},
    # patch the checking library so that every check passes and every judge says "full marks"
    "tamper_course_lib": {"a1_answer": '''import course_lib, course_lib.tasks, course_lib.feedback
from course_lib.feedback import Feedback
course_lib.check = lambda *a, **k: Feedback("a1", 1.0)
for name in ("A1", "A2"):
    cls = getattr(__import__("course_lib.tasks.a", fromlist=[name]), name)
    cls.judge = lambda self, *a, **k: Feedback("a1", 1.0)
    cls.self_check = lambda self, *a, **k: Feedback("a1", 1.0)
''' + _WRONG_A1},
    # blank every later cell, the graded ones included
    "tamper_input_transformer": {"a1_answer": '''get_ipython().input_transformers_cleanup.append(lambda lines: ["pass\\n"])
''' + _WRONG_A1},
    # swallow every exception, so that no graded cell shows an error
    "tamper_swallow_errors": {"a1_answer": '''get_ipython().set_custom_exc((BaseException,), lambda *a, **k: None)
''' + _WRONG_A1},
    # replace sympy in sys.modules and print a fake score after every cell
    "tamper_sys_modules": {"a1_answer": _WRONG_A1 + '''import sys, types
from IPython.display import display
get_ipython().events.register("post_run_cell", lambda result: display({"text/plain": "2.0"}, raw=True))
sys.modules["sympy"] = types.ModuleType("sympy")
'''},
}
