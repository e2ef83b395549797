"""The dates in kernel messages' headers, read without dateutil's general ISO 8601 parser where their form allows.

jupyter_client turns every string in a message's header and parent header that looks like an
ISO 8601 time into a datetime through dateutil's ``isoparse`` (``jsonutil.parse_date``): about 50 µs a
message, some 300 messages a whole-sheet submission. Kernels write the one form
``YYYY-MM-DDTHH:MM:SS.ffffffZ``; that form, in ASCII digits, is read by ``datetime.fromisoformat`` with
dateutil's UTC, the same datetime isoparse gives. Anything else (other forms, a date out of range, hour 24)
goes to jupyter_client's own parse_date, which the kernel's text reaches as before.
"""
from __future__ import annotations

import re
from datetime import datetime

from dateutil import tz
from jupyter_client import jsonutil

_KERNELS_FORM = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z")
_jupyters = jsonutil.parse_date


def parse_date(s):
    """jupyter_client.jsonutil.parse_date(s)."""
    if isinstance(s, str) and _KERNELS_FORM.fullmatch(s):
        try:
            return datetime.fromisoformat(s[:-1]).replace(tzinfo=tz.UTC)
        except ValueError:  # a date that does not exist: jupyter_client's answer
            pass
    return _jupyters(s)


def install() -> None:
    """Make jupyter_client's extract_dates (every message's header and parent header) use ``parse_date``."""
    jsonutil.parse_date = parse_date
