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

Messages are data, not format strings: ``{name}`` is replaced by the field ``name``
of the dict a test returns (a test returns False/None for "no", True or a dict for
"yes"); any other brace, such as the one in ``∇_{W1}L``, stays as written. A test
that raises counts as "no" for its branch, so one broken check cannot take the
verdict of the whole part with it.

A message is written in English and translated when it is rendered (course_lib/i18n.py): its
English text, placeholders and all, is the id in the catalogue, which Babel collects from the
trees' sources (``Outcome:2`` is one of its keywords), so a tree needs no markup.
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Callable, Iterator, Union

from .i18n import _

PLACEHOLDER = re.compile(r"\{([A-Za-z_]\w*)\}")


@dataclass(frozen=True)
class Outcome:
    credit: float          # fraction of the part's points, 0..1
    message: str           # English, may hold {placeholders}; translated when rendered
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
    message: str           # the outcome's message, translated, with its placeholders filled
    failed: tuple[str, ...] = field(default=())   # branches whose test raised (treated as "no")


UNEXPLAINED = Outcome(0, "not correct (no more detail could be worked out for this answer)")


def render(message: str, fields: dict) -> str:
    """The message with each {name} that ``fields`` holds replaced by str(value); nothing else changes.

    ``message`` is rendered as given: diagnose translates an outcome's message before."""
    def fill(m):
        return str(fields[m.group(1)]) if m.group(1) in fields else m.group(0)
    return PLACEHOLDER.sub(fill, message)


def diagnose(tree: list, ctx) -> Diagnosis:
    """Walk the tree on ``ctx`` and return the first outcome whose tests hold."""
    path: list[str] = []
    failed: list[str] = []
    fields: dict = {}
    branches = tree
    while True:
        for branch in branches:
            try:
                result = branch.test(ctx)
            except Exception as e:  # noqa: BLE001 — a mistake-test that fails must not decide the verdict
                failed.append(f"{branch.name} ({type(e).__name__})")
                continue
            if result:
                path.append(branch.name)
                if isinstance(result, dict):
                    fields.update(result)
                if isinstance(branch.then, Outcome):
                    return _recorded(tree, Diagnosis(
                        tuple(path), branch.then, render(_(branch.then.message), fields), tuple(failed)))
                branches = branch.then
                break
        else:
            if failed:  # the catch-all itself failed: a plain verdict without the detail it would add
                return _recorded(tree, Diagnosis(
                    tuple(path) + ("unexplained",), UNEXPLAINED, _(UNEXPLAINED.message), tuple(failed)))
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


def _recorded(tree: list, found: Diagnosis) -> Diagnosis:
    taken = _recording.get()
    if taken is not None:
        taken.append((tree, found))
    return found


def outcomes(tree: list, path: tuple = ()) -> Iterator[tuple[tuple[str, ...], Outcome]]:
    """Every (path, outcome) of a tree: what a test walks to render each message once."""
    for branch in tree:
        here = path + (branch.name,)
        if isinstance(branch.then, Outcome):
            yield here, branch.then
        else:
            yield from outcomes(branch.then, here)


def guarded(fb, part: str, default, check: Callable, *args):
    """check(*args), or ``default`` with one finding for ``part`` if the check itself fails:
    a crash in one check of a part costs that check, not the part."""
    try:
        return check(*args)
    except Exception as e:  # noqa: BLE001
        fb.add(part, "invalid", _("this check could not be completed ({error}); it earns nothing").format(
            error=type(e).__name__))
        return default
