"""Reading a graded cell's answer payload from its outputs, trusting nothing about it.

A payload is display data of the MIME type course_lib.answers.MIME. Exactly one
must be present; it must be JSON of bounded size with only finite numbers and be
addressed to the cell's task. Anything else is reported as the reason no answer
could be read.
"""
from __future__ import annotations

import json
import math

import numpy as np

from course_lib.answers import MIME, PAYLOAD_VERSION

from .language import _

MAX_PAYLOAD_BYTES = 32 * 2**20
MAX_NESTING = 500
LONG = 2**12         # a string this long is sized without encoding it (json_size)
WALKED_NESTING = 64  # deeper payloads, or ones of more values, are sized by json.dumps itself
WALKED_VALUES = 2**14


class PayloadError(ValueError):
    pass


def read_payload(outputs: list, task_id: str) -> dict:
    """The task data handed in by this cell. Raises PayloadError saying why there is none."""
    found = [o for o in outputs
             if o.get("output_type") in ("display_data", "execute_result") and MIME in o.get("data", {})]
    if not found:
        raise PayloadError(_why_missing(outputs))
    if len(found) > 1:
        raise PayloadError(_("more than one answer payload in this cell; only one is allowed"))
    payload = found[0]["data"][MIME]
    if isinstance(payload, str):  # some writers keep JSON MIME data as text
        try:
            payload = json.loads(payload)
        except ValueError:
            raise PayloadError(_("the answer payload is not valid JSON")) from None
    try:
        size = json_size(payload)
    except (TypeError, ValueError):
        raise PayloadError(_("the answer payload holds values that are not plain finite JSON")) from None
    if size > MAX_PAYLOAD_BYTES:
        raise PayloadError(_("the answer payload is too large ({size} MB)").format(size=f"{size / 2**20:.0f}"))
    if not isinstance(payload, dict) or payload.get("task") != task_id or payload.get("version") != PAYLOAD_VERSION:
        raise PayloadError(_("the answer payload is not addressed to this task"))
    _check_finite(payload.get("data"), 0)
    if not isinstance(payload.get("data"), dict):
        raise PayloadError(_("the answer payload has no data"))
    return payload["data"]


class _Unusual(Exception):
    """Something json_size leaves to json.dumps."""


def json_size(payload) -> int:
    """``len(json.dumps(payload, allow_nan=False))``, raising as it does, but without encoding the long
    base64 strings of arrays: for them JSON adds only the quotes (c2's answer holds 3.6 MB of them, which
    json.dumps took 17 ms to escape). Anything but plain JSON values, deep nesting or many values (which
    json.dumps walks far faster) goes to json.dumps."""
    try:
        return _size(payload, 0, [WALKED_VALUES])
    except _Unusual:
        return len(json.dumps(payload, allow_nan=False))


def _size(value, depth: int, left: list) -> int:
    """What json.dumps writes for value (numbers as their repr, as it does); ``left``: [values still to walk]."""
    left[0] -= 1
    if left[0] < 0:
        raise _Unusual
    kind = type(value)
    if kind is str and len(value) >= LONG and _plain(value):
        return len(value) + 2
    if kind is int:
        return len(int.__repr__(value))
    if kind is float:
        if not math.isfinite(value):
            raise ValueError("not JSON")
        return len(float.__repr__(value))
    if value is True or value is None or value is False:
        return 5 if value is False else 4  # true, null, false
    if kind is str:
        return len(json.dumps(value))
    if depth > WALKED_NESTING:
        raise _Unusual
    if kind is list:
        return 2 * max(len(value), 1) + sum(_size(v, depth + 1, left) for v in value)  # "[", "]", ", " between
    if isinstance(value, dict) and kind.items is dict.items and all(type(k) is str for k in value):  # (NotebookNode)
        # "{", "}", ", " between, and ": " after each key
        return 2 * max(len(value), 1) + sum(_size(k, depth + 1, left) + 2 + _size(v, depth + 1, left)
                                         for k, v in value.items())
    raise _Unusual


def _plain(text: str) -> bool:
    """Whether JSON writes ``text`` as it stands: printable ASCII (" " to "~"), no quote, no backslash."""
    if not text.isascii() or '"' in text or "\\" in text:
        return False
    codes = np.frombuffer(text.encode("ascii"), np.uint8)
    return codes.min() >= 0x20 and codes.max() <= 0x7E


def _why_missing(outputs: list) -> str:
    for o in outputs:
        if o.get("output_type") == "error":
            ename = str(o.get("ename", "an error"))[:60]
            evalue = str(o.get("evalue", ""))[:160]
            said = (_("no answer was handed in: the cell stopped with {error}: {value}") if evalue
                    else _("no answer was handed in: the cell stopped with {error}"))
            return said.format(error=ename, value=evalue)
    return _("no answer was handed in: the graded cell did not run to the end")


def _check_finite(value, depth: int) -> None:
    if depth > MAX_NESTING:
        raise PayloadError(_("the answer payload is nested too deeply"))
    if isinstance(value, float) and not math.isfinite(value):
        raise PayloadError(_("the answer payload holds NaN or infinity"))
    if isinstance(value, dict):
        for v in value.values():
            _check_finite(v, depth + 1)
    elif isinstance(value, list):
        for v in value:
            _check_finite(v, depth + 1)
