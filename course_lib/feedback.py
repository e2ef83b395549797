"""What a check says: a list of findings and the credit they earn, as HTML or plain text.

The same object is shown by a self-check in the student's notebook and, after
grading, written into the graded cell by the grader. From the process that judges
a notebook's answers to the grading step it travels as one line of JSON
(``to_data`` / ``from_data``, autograde/judge.py). Findings hold messages already in the reader's
language; the headline is worded when it is shown, in the language then spoken (course_lib/i18n.py).
"""
from __future__ import annotations

import html
import typing
from dataclasses import asdict, dataclass, field, fields, is_dataclass

from .i18n import _, ngettext

ICONS = {"ok": "✔", "wrong": "✘", "invalid": "⚠", "info": "ℹ", "blank": "○", "skipped": "–"}
COLOURS = {"ok": "#1a7f37", "wrong": "#b42318", "invalid": "#9a6700", "info": "#445", "blank": "#667",
           "skipped": "#667"}


@dataclass
class Finding:
    part: str          # which piece of the answer, e.g. "n=3, i=1" or "sigmoid_bound"
    status: str        # ok | wrong | invalid | info | blank (not answered yet) | skipped (not run when grading)
    message: str


def _rebuild(hint, value):
    item = typing.get_args(hint)[0] if typing.get_origin(hint) is list and typing.get_args(hint) else None
    if item is not None and is_dataclass(item):
        return [v if isinstance(v, item) else item(**v) for v in value]
    if hint is float:
        return float(value)
    return value


@dataclass
class Feedback:
    task: str
    credit: float = 0.0                     # fraction 0..1 of the task's points
    findings: list[Finding] = field(default_factory=list)
    title: str = ""                         # e.g. "Self-check a1" or "a1: 2 of 4 points"
    # answer notes: the diagnoses the verdict reached, [{"path": "a1/sign", "status": "wrong", "message": …}];
    # filled by the grader (autograde/answer_notes.py), plain data so it travels with to_data
    notes: list[dict] = field(default_factory=list)

    def add(self, part: str, status: str, message: str) -> "Feedback":
        self.findings.append(Finding(part, status, message))
        return self

    @property
    def passed(self) -> bool:
        return self.credit >= 1.0 and not any(f.status in ("wrong", "invalid") for f in self.findings)

    # --- data ---------------------------------------------------------------
    def to_data(self) -> dict:
        """Every field as JSON-able data (lists of findings as lists of dicts)."""
        return asdict(self)

    @classmethod
    def from_data(cls, data: dict) -> "Feedback":
        """The inverse of ``to_data``, generic over the fields: a field added later travels too.

        A field typed ``list[SomeDataclass]`` is rebuilt element by element; missing fields
        take their defaults.
        """
        hints = typing.get_type_hints(cls)
        return cls(**{f.name: _rebuild(hints[f.name], data[f.name]) for f in fields(cls) if f.name in data})

    # --- display ------------------------------------------------------------
    @property
    def blank(self) -> bool:
        """Nothing was answered yet: the only findings say so."""
        return bool(self.findings) and all(f.status == "blank" for f in self.findings)

    @property
    def skipped(self) -> bool:
        """Not checked at all: a self-check in a graded run (check.py)."""
        return bool(self.findings) and all(f.status == "skipped" for f in self.findings)

    def headline(self) -> str:
        title = self.title or self.task
        wrong = sum(f.status in ("wrong", "invalid") for f in self.findings)
        if self.blank:
            said = _("not answered yet")
        elif self.skipped:
            said = _("not run when grading")
        elif wrong:
            said = ngettext("{count} problem found", "{count} problems found", wrong).format(count=wrong)
        else:
            said = _("all checks passed") if self.passed else _("no problems found")
        return f"{title}: {said}"

    def text(self) -> str:
        lines = [self.headline()]
        lines += [f"  {ICONS.get(f.status, '-')} {f.part + ': ' if f.part else ''}{f.message}" for f in self.findings]
        return "\n".join(lines)

    def html(self) -> str:
        problems = any(f.status in ("wrong", "invalid") for f in self.findings)
        colour = COLOURS["wrong" if problems else "blank" if self.blank or self.skipped else "ok"]
        rows = "".join(
            f'<li style="color:{COLOURS.get(f.status, "#000")}">{ICONS.get(f.status, "-")} '
            f'{"<b>" + html.escape(f.part) + "</b>: " if f.part else ""}{html.escape(f.message)}</li>'
            for f in self.findings)
        return (f'<div class="course-lib-feedback" style="border-left:4px solid {colour};padding:4px 10px">'
                f'<b style="color:{colour}">{html.escape(self.headline())}</b>'
                f'<ul style="margin:4px 0;list-style:none;padding-left:8px">{rows}</ul></div>')

    def __repr__(self) -> str:
        return self.text()

    def _repr_html_(self) -> str:
        return self.html()
