"""Reference answers and hidden-probe recipes, one module per sheet task.

Each module defines KEYS: task id -> Key. ``request(rng)`` is what the grader
asks of the student's answer (cases, inputs); ``reference`` is what the task's
``judge`` compares with. A key with ``extra_credit`` grades a bonus: its cell carries
0 points in nbgrader and the verdict's credit times ``extra_credit`` is written to the
gradebook as Grade.extra_credit (see autograde/steps/save_extra_credit.py).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Callable, Mapping


@dataclass(frozen=True)
class Key:
    request: Callable[[Any], dict]
    reference: Any
    extra_credit: float = 0


@functools.cache
def all_keys() -> Mapping[str, Key]:
    """Every task's key, one read-only mapping per process (a kept judge knows it by its identity, judge.py)."""
    from . import a, b, c
    return MappingProxyType({**a.KEYS, **b.KEYS, **c.KEYS})
