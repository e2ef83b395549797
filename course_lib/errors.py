"""Every exception of course_lib, and the value that stands in an answer's data where a part is unusable.

Each exception's message says what is wrong in one line, fit to show a student. All but Timeout are
ValueErrors: the data or the answer has the wrong form.
"""
from __future__ import annotations


class Timeout(BaseException):
    """A bounded call ran out of time (course_lib.bounded). A BaseException, so that SymPy's broad
    ``except Exception`` clauses cannot swallow it."""


class AnswerError(ValueError):
    """The answer has the wrong kind or form; the message says what was expected."""


class ExpressionError(ValueError):
    """The data is not an expression this course accepts (course_lib.expr_json)."""


class GraphError(ValueError):
    """The data is no graph at all (wrong type, too large) (course_lib.graph)."""


class GraphGradientError(ValueError):
    """The graph gives no gradient: a label is missing or unusable, or the graph is no function of x1, x2
    (course_lib.training)."""


class BatchError(ValueError):
    """What a student's ``minibatches`` gives for an epoch is no sequence of index batches (course_lib.training)."""


class Unusable(dict):
    """A part of an answer that cannot be used, and why: in the answer's data it is ``{"error": why}``.

    Built in the kernel where a part fails (a student's function raises or returns no array, an expression
    outside the whitelist), in place of that part, so that the rest is still judged. It is the plain dict it
    looks like, so it leaves the kernel as JSON unchanged; the judge, which sees only that dict, asks
    ``unusable(data)``. ``blank`` (the answer cell as handed out) travels with it; ``timed_out`` stays in
    the kernel, where it spares the next network a call that hung on this one.
    """

    def __init__(self, why: str, *, blank: bool = False, timed_out: bool = False):
        super().__init__(error=why)
        if blank:
            self["blank"] = True
        self.timed_out = timed_out

    @property
    def why(self) -> str:
        return self["error"]


def unusable(data) -> str | None:
    """Why ``data`` is unusable (the message of an Unusable, also as it arrives as JSON), or None if it is not."""
    return str(data["error"]) if isinstance(data, dict) and "error" in data else None
