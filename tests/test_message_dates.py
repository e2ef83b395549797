"""Kernel messages' dates: the kernels' own form read without dateutil, the same datetimes; anything else as before."""
import random
from datetime import datetime, timedelta, timezone

import pytest
from jupyter_client import jsonutil, session

from autograde import message_dates

JUPYTERS = message_dates._jupyters


def same(ours, theirs):
    zones = getattr(ours, "tzinfo", None), getattr(theirs, "tzinfo", None)
    return ours == theirs and type(ours) is type(theirs) and type(zones[0]) is type(zones[1]) and zones[0] == zones[1]


def test_the_kernels_form_gives_dateutils_datetime():
    start, rng = datetime(1, 1, 1, tzinfo=timezone.utc), random.Random(15)
    for _ in range(5000):
        text = (start + timedelta(microseconds=rng.randrange(315 * 10**14))).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        text = text.rjust(27, "0")  # strftime writes year 1 as "1"
        assert same(message_dates.parse_date(text), JUPYTERS(text)), text
        assert message_dates.parse_date(text).tzinfo is JUPYTERS(text).tzinfo  # dateutil's UTC itself


@pytest.mark.filterwarnings("ignore:Interpreting naive datetime:DeprecationWarning")
@pytest.mark.parametrize("text", ["2026-12-03T24:00:00.000000Z", "2026-02-30T10:00:00.000000Z", "0000-01-01T00:00:00.000000Z",
                                  "2026-12-03T10:00:00.123Z", "2026-12-03T10:00:00.123456+01:00", "2026-12-03T10:00:00",
                                  "2026-12-03T10:00:60.000000Z", "٢٠٢٦-12-03T10:00:00.000000Z", "not a date", "", None])
def test_every_other_text_is_jupyter_clients(text):
    try:
        theirs = JUPYTERS(text)
    except ValueError as e:
        with pytest.raises(type(e)):
            message_dates.parse_date(text)
        return
    assert same(message_dates.parse_date(text), theirs)


def test_a_guarded_session_reads_headers_with_it():
    from autograde import messages
    messages.guard(session.Session(), 2**20, lambda why: None)
    assert jsonutil.parse_date is message_dates.parse_date
    header = {"msg_id": "1", "date": "2026-12-03T15:00:00.123456Z", "deep": [{"at": "2026-12-03T15:00:00Z"}]}
    assert session.extract_dates(header) == {"msg_id": "1", "date": JUPYTERS(header["date"]),
                                             "deep": [{"at": JUPYTERS("2026-12-03T15:00:00Z")}]}
