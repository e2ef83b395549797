"""Feedback as an explicit small tree of tests, in the manner of STACK's potential response trees.

A tree is a list of branches tried in order. Each branch has a name, a test on a
context and what follows when the test holds: an Outcome (credit and message) or
another list of branches. The first branch whose test holds decides; a tree
should end with a branch whose test is ``always``. A reader sees every diagnosis
and its message at a glance::

    TREE = [
        Branch("equivalent", lambda c: ratio_is(c, 1), Outcome(1, "Correct.")),
        Branch("sign",       lambda c: ratio_is(c, -1), Outcome(0, "Sign error ...")),
        Branch("other",      always, Outcome(0, "Not equivalent ...")),
    ]

Messages may contain ``{placeholders}`` filled from the dict a test returns
(a test returns False/None for "no", True or a dict for "yes").
"""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Callable, Iterator, Union


@dataclass(frozen=True)
class Outcome:
    credit: float          # fraction of the part's points, 0..1
    message: str           # may hold {placeholders}
    status: str = ""       # "ok" | "wrong" | "invalid"; derived from credit when empty

    def __post_init__(self):
        if not self.status:
            object.__setattr__(self, "status", "ok" if self.credit >= 1 else "wrong")


@dataclass(frozen=True)
class Branch:
    name: str
    test: Callable[[object], object]
    then: Union[Outcome, list]


def always(_ctx) -> bool:
    return True


@dataclass(frozen=True)
class Diagnosis:
    path: tuple[str, ...]  # names of the branches taken, e.g. ("wrong", "sign")
    outcome: Outcome
    message: str           # the outcome's message with its placeholders filled


def diagnose(tree: list, ctx) -> Diagnosis:
    """Walk the tree on ``ctx`` and return the first outcome whose tests hold."""
    path: list[str] = []
    fields: dict = {}
    branches = tree
    while True:
        for branch in branches:
            result = branch.test(ctx)
            if result:
                path.append(branch.name)
                if isinstance(result, dict):
                    fields.update(result)
                if isinstance(branch.then, Outcome):
                    found = Diagnosis(tuple(path), branch.then, branch.then.message.format(**fields))
                    taken = _recording.get()
                    if taken is not None:
                        taken.append((tree, found))
                    return found
                branches = branch.then
                break
        else:
            raise ValueError(f"diagnosis tree has no branch for this case (after {path}); end it with `always`")


_recording: ContextVar[list | None] = ContextVar("diagnoses_recorded", default=None)


@contextmanager
def recording() -> Iterator[list]:
    """Collect (tree, Diagnosis) for every diagnose() call inside the block, in order.

    The grader uses this to keep each verdict's answer notes without the tasks
    having to pass their diagnoses along."""
    taken: list = []
    token = _recording.set(taken)
    try:
        yield taken
    finally:
        _recording.reset(token)
