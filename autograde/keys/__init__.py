"""Reference answers and hidden-probe recipes, one module per sheet task.

Each module defines KEYS: task id -> Key. ``request(rng)`` is what the grader
asks of the student's answer (cases, inputs); ``reference`` is what the task's
``judge`` compares with.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class Key:
    request: Callable[[Any], dict]
    reference: Any


def all_keys() -> dict[str, Key]:
    from . import a
    return {**a.KEYS}
