"""`make report`: the class report a tutor opens before the tutorial, one self-contained HTML page.

From the gradebook (points; what waits for a tutor) and the answer notes (autograde/answer_notes.py:
which diagnosis each verdict reached): the distribution of points per task and in total, per
graded cell the diagnoses by frequency with their message and how many students got them, the
cells most often left blank, which cells the same students fail, and the students still waiting for
manual grading. Plots are PNGs inside the page (data URIs), so it opens without a network;
every plot has a table with the same numbers beside it.
"""
from __future__ import annotations

import base64
import html
import io
import itertools
import statistics
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from .answer_notes import NOT_JUDGED, read_notes  # noqa: E402
from .course import ASSIGNMENT, ROOT  # noqa: E402
from .platform.grades_out import Grades, read_grades  # noqa: E402


@dataclass
class ClassData:
    grades: Grades
    notes: dict[str, dict[str, list[dict]]]    # student -> graded cell -> notes

    @property
    def submitted(self):
        return [s for s in self.grades.students if s.submitted]

    def diagnoses(self, cell: str) -> list[tuple[str, str, str, int]]:
        """(path, status, most frequent message, students) for ``cell``, most frequent first."""
        students: Counter = Counter()
        messages: dict[str, Counter] = {}
        status = {}
        for by_cell in self.notes.values():
            for note in by_cell.get(cell, []):
                students[note["path"]] += 1
                messages.setdefault(note["path"], Counter())[note.get("message", "")] += 1
                status[note["path"]] = note.get("status", "")
        return [(path, status[path], messages[path].most_common(1)[0][0], n)
                for path, n in sorted(students.items(), key=lambda kv: (-kv[1], kv[0]))]

    def judged_cells(self) -> list[str]:
        """Graded cells with answer notes, in notebook order, the bonus last."""
        noted = {cell for by_cell in self.notes.values() for cell in by_cell}
        return [c for c in self.grades.cells if c in noted] + sorted(noted - set(self.grades.cells))

    def blank(self) -> list[tuple[str, int, str]]:
        """(cell, students, a reason shown) for every cell nothing judgeable was handed in for, most often first."""
        out = []
        for cell in self.judged_cells():
            reasons = Counter(note["message"] for by_cell in self.notes.values() for note in by_cell.get(cell, [])
                              if note["path"] == f"{cell}/{NOT_JUDGED}")
            if reasons:
                out.append((cell, sum(reasons.values()), reasons.most_common(1)[0][0]))
        return sorted(out, key=lambda r: (-r[1], r[0]))

    def left_blank(self, student: str, cell: str) -> bool:
        return [n["path"] for n in self.notes.get(student, {}).get(cell, [])] == [f"{cell}/{NOT_JUDGED}"]

    def failed(self, cell: str) -> set[str]:
        """Students who answered ``cell`` (not blank) and got less than its full points, once graded."""
        full = self.grades.max_points[cell]
        return {s.student for s in self.submitted if s.points[cell] is not None and s.points[cell] < full - 1e-9
                and not self.left_blank(s.student, cell)}

    def fail_together(self) -> list[tuple[str, str, int, int, int]]:
        """(cell, cell, students failing both, failing the first, failing the second), most shared first."""
        cells = [c for c in self.grades.cells if any(s.points[c] is not None for s in self.submitted)]
        failed = {c: self.failed(c) for c in cells}
        pairs = [(a, b, len(failed[a] & failed[b]), len(failed[a]), len(failed[b]))
                 for a, b in itertools.combinations(cells, 2) if failed[a] & failed[b]]
        return sorted(pairs, key=lambda p: (-p[2], p[0], p[1]))

    def waiting(self) -> list[tuple[str, list[str]]]:
        return [(s.student, s.pending) for s in self.grades.students if s.pending]


def load(course: Path = ROOT, assignment: str = ASSIGNMENT) -> ClassData:
    return ClassData(read_grades(f"sqlite:///{course / 'autograde' / 'gradebook.db'}", assignment),
                     read_notes(course / "autograde" / "autograded", assignment))


# --- page -------------------------------------------------------------------

def _png(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return f'<img alt="" src="data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}">'


def _table(head: list[str], rows: list[list], cls: str = "") -> str:
    cells = lambda row, tag: "".join(f"<{tag}>{html.escape(str(v))}</{tag}>" for v in row)  # noqa: E731
    body = "".join(f"<tr>{cells(r, 'td')}</tr>" for r in rows) or f'<tr><td colspan="{len(head)}">none</td></tr>'
    return f'<table class="{cls}"><thead><tr>{cells(head, "th")}</tr></thead><tbody>{body}</tbody></table>'


def _n(v: float) -> str:
    return f"{round(v, 2):g}"


def distribution(data: ClassData) -> str:
    g = data.grades
    columns = [(f"task {p}", g.part_max(p), [s.part_points(p) for s in data.submitted]) for p in g.parts]
    columns.append(("total", g.max_score, [s.total for s in data.submitted]))
    columns.append(("bonus", g.bonus_max, [s.bonus for s in data.submitted]))
    fig, axes = plt.subplots(1, len(columns), figsize=(3 * len(columns), 2.6), squeeze=False, layout="constrained")
    rows = []
    for ax, (name, top, values) in zip(axes[0], columns):
        ax.hist(values, bins=min(12, max(int(top * 2), 1)), range=(0, top or 1), color="#3a6ea5", edgecolor="white")
        ax.set_title(f"{name} (max {_n(top)})", fontsize=10)
        ax.set_xlabel("points")
        ax.set_ylabel("students" if ax is axes[0][0] else "")
        rows.append([name, _n(top), len(values), _n(statistics.mean(values)), _n(statistics.median(values)),
                     _n(min(values)),
                     _n(max(values)), sum(v >= top - 1e-9 for v in values), sum(v <= 1e-9 for v in values)]
                    if values else [name, _n(top), 0, "", "", "", "", 0, 0])
    table = _table(["", "max", "students", "mean", "median", "lowest", "highest", "full points", "zero"], rows)
    return f"<h2>Points</h2><p>Pending manual points count as not yet given.</p>{table}{_png(fig)}"


def diagnoses(data: ClassData) -> str:
    parts = []
    for cell in data.judged_cells():
        rows = [[path, status, n, message] for path, status, message, n in data.diagnoses(cell)]
        parts.append(f"<h3>{html.escape(cell)}</h3>" + _table(["answer note", "status", "students", "message"], rows,
                                                                 "notes"))
    return ("<h2>Diagnoses by frequency</h2><p>Each graded cell's verdicts, by the path they took through the "
            "cell's diagnosis tree; a student counts once per note (a1 judges several cases, b2 every edge).</p>"
            + "".join(parts))


def blank(data: ClassData) -> str:
    rows = [[cell, n, reason] for cell, n, reason in data.blank()]
    return ("<h2>Left blank</h2><p>Graded cells whose answer gave nothing to diagnose and no points: blank, an "
            "empty graph, not of the answer form, or no answer handed in (the answer note <code>…/not judged</code>)."
            "</p>"
            + _table(["cell", "students", "what the grader saw (most often)"], rows))


def together(data: ClassData, top: int = 15) -> str:
    pairs = data.fail_together()
    cells = [c for c in data.grades.cells if data.failed(c)]
    figure = ""
    if len(cells) > 1:
        failed = {c: data.failed(c) for c in cells}
        fig, ax = plt.subplots(figsize=(0.5 * len(cells) + 2, 0.5 * len(cells) + 1.5))
        matrix = [[len(failed[a] & failed[b]) for b in cells] for a in cells]
        image = ax.imshow(matrix, cmap="Reds")
        ax.set_xticks(range(len(cells)), cells, rotation=90)
        ax.set_yticks(range(len(cells)), cells)
        for i, j in itertools.product(range(len(cells)), repeat=2):
            ax.text(j, i, matrix[i][j], ha="center", va="center", fontsize=8,
                    color="white" if matrix[i][j] > 0.6 * image.norm.vmax else "black")
        ax.set_title("students below full points in both", fontsize=10)
        figure = _png(fig)
    rows = [[a, b, both, fa, fb] for a, b, both, fa, fb in pairs[:top]]
    return ("<h2>Cells that fail together</h2><p>Students below full points in both cells of a pair, most "
            "shared first; a cell left blank does not count here (see above). The matrix's diagonal: students "
            "below full points in the cell.</p>" + _table(["cell", "cell", "both", "first", "second"], rows) + figure)


def waiting(data: ClassData) -> str:
    rows = [[student, " ".join(cells)] for student, cells in data.waiting()]
    return ("<h2>Waiting for manual grading</h2><p>Open the formgrader (make formgrader) for these.</p>"
            + _table(["student", "cells"], rows))


STYLE = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:.5em 0 1em}th,td{border:1px solid #ccc;padding:3px 8px;text-align:left;
vertical-align:top}th{background:#f2f2f2}table.notes td:nth-child(4){max-width:600px}img{max-width:100%}"""


def render(data: ClassData, assignment: str = ASSIGNMENT) -> str:
    head = (f"<h1>Class report: {html.escape(assignment)}</h1><p>{len(data.submitted)} submissions of "
            f"{len(data.grades.students)} students; maximum {_n(data.grades.max_score)} points, bonus up to "
            f"{_n(data.grades.bonus_max)}.</p>")
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Class report {assignment}</title>'
            f"<style>{STYLE}</style></head><body>{head}{distribution(data)}{diagnoses(data)}{blank(data)}"
            f"{together(data)}{waiting(data)}</body></html>\n")


def write_report(course: Path = ROOT, assignment: str = ASSIGNMENT) -> Path:
    target = course / "autograde" / "export" / "report.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render(load(course, assignment), assignment), encoding="utf-8")
    return target


def main() -> None:
    print(f"class report: {write_report().relative_to(ROOT)}")


if __name__ == "__main__":
    main()
