"""The grader's request file, ``grader_request.json`` next to the notebook: written before the kernel starts
(WriteGraderRequests), read in the kernel by course_lib.answers.request_for, removed after the kernel
(ExecuteKeepingAnswers) so it does not travel into feedback.

The kernel may read or even rewrite it; the verdict takes every request from the grader's own
memory (the notebook's Grading) or recomputes it from the secret, and never reads the file back, so
that gains nothing.
"""
from __future__ import annotations

import json
import os

from course_lib.answers import REQUEST_FILE


def path(resources) -> str:
    """Where the kernel finds the file: its working folder, the notebook's."""
    return os.path.join(resources.get("metadata", {}).get("path") or ".", REQUEST_FILE)


def write(resources, requests: dict[str, dict]) -> None:
    with open(path(resources), "w", encoding="utf-8") as f:
        json.dump(requests, f)


def remove(resources) -> None:
    if os.path.exists(path(resources)):
        os.remove(path(resources))
