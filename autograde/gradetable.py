"""The grade table: student × graded cell, with totals, read from nbgrader's gradebook."""
from __future__ import annotations

from nbgrader.api import Gradebook


def grade_rows(db_url: str, assignment: str) -> tuple[list[str], list[dict]]:
    """(graded cell ids in notebook order, one row per student: {cell: score or None, "total", "max", "manual"})."""
    with Gradebook(db_url) as gb:
        columns: list[str] = []
        rows = []
        for sub in sorted(gb.assignment_submissions(assignment), key=lambda s: s.student.id):
            row = {"student": sub.student.id, "total": 0.0, "max": 0.0, "extra": 0.0, "manual": 0}
            for nb in sorted(sub.notebooks, key=lambda nb: nb.name):
                for grade in nb.grades:
                    if grade.name not in columns:
                        columns.append(grade.name)
                    row[grade.name] = grade.score if not grade.needs_manual_grade else None
                    row["total"] += grade.score or 0.0
                    row["extra"] += grade.extra_credit or 0.0
                    row["max"] += grade.max_score
                    row["manual"] += bool(grade.needs_manual_grade)
            rows.append(row)
    return columns, rows


def format_table(columns: list[str], rows: list[dict]) -> str:
    """Plain-text table; '?' marks a cell that waits for manual grading."""
    def cell(v):
        return "?" if v is None else f"{v:g}"
    head = ["student", *columns, "total", "bonus", "waiting"]
    body = [[r["student"], *(cell(r.get(c)) for c in columns),
             f"{r['total'] - r['extra']:g}/{r['max']:g}", f"+{r['extra']:g}", str(r["manual"])] for r in rows]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body)]
    line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths))  # noqa: E731
    return "\n".join([line(head), line(["-" * w for w in widths]), *map(line, body)])
