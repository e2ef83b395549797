"""JSON for the launcher's plain data, through json's C half (``_json``): the same text both ways, without
json.py's Python half, which imports re and enum (with shutil, half of a launcher's start-up, protocol.py).

It reads and writes what the grader, the launcher and the warm kernel server hand each other (spec.json,
report.json, the connection file, protocol.REQUEST): dicts, lists, strings, numbers, booleans and None,
written as ``json.dumps`` writes them with its defaults. Text that is not JSON raises ValueError (json's
JSONDecodeError, which the C half imports only then).
"""
from __future__ import annotations

import _json

_WHITESPACE = " \t\n\r"
_CONSTANTS = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}


class _Decoding:
    """What _json's scanner reads of its context (json.decoder.JSONDecoder's attributes), as json.loads sets them."""
    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = staticmethod(_CONSTANTS.__getitem__)


def _unknown(value):
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_scan = _json.make_scanner(_Decoding())
# json.dumps's defaults: no circular check needed for plain data, ASCII escapes, ", " and ": ", NaN allowed
_encode = _json.make_encoder(None, _unknown, _json.encode_basestring_ascii, None, ": ", ", ", False, False, True)


def loads(text: str | bytes):
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    start = len(text) - len(text.lstrip(_WHITESPACE))
    try:
        value, end = _scan(text, start)
    except StopIteration as e:
        raise ValueError(f"not JSON: expected a value at character {e.value}") from None
    if text[end:].strip(_WHITESPACE):
        raise ValueError(f"not JSON: extra data at character {end}")
    return value


def dumps(value) -> str:
    return "".join(_encode(value, 0))
