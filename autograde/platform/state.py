"""What intake learnt about the platform, for the exports later: the roster and Moodle's participant ids.

Kept in autograde/platform.json (git-ignored, beside the gradebook). Moodle's bulk feedback
upload finds a student by the ``Full Name_<participant id>`` their submission came in, so
intake remembers it; the exports key rows by the roster's user name, matriculation number
and e-mail. Written only when it changes.
"""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from .roster import Person

FILE = Path("autograde") / "platform.json"


def load(course: Path) -> dict:
    path = course / FILE
    data = json.loads(path.read_text()) if path.exists() else {}
    return {"people": [Person(**p) for p in data.get("people", [])], "moodle": data.get("moodle", {})}


def save(course: Path, people: list[Person] | None, moodle: dict[str, str]) -> None:
    """Replace the roster (when given) and add these students' Moodle folders."""
    old = load(course)
    new = {"people": [asdict(p) for p in (old["people"] if people is None else people)],
           "moodle": dict(sorted({**old["moodle"], **moodle}.items()))}
    path = course / FILE
    text = json.dumps(new, indent=1, ensure_ascii=False) + "\n"
    if not path.exists() or path.read_text() != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
