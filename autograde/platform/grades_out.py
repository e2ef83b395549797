"""Grades out of the gradebook: the per-task table, Moodle's gradebook import, a Stud.IP list.

The gradebook holds, per graded cell, points (auto or manual) and extra credit; the bonus
cell carries 0 points and its points as extra credit (autograde/steps/save_extra_credit.py).
Here the bonus always stays apart: a total never exceeds the sheet's maximum (15), and
points that wait for a tutor are marked, never counted as 0. Column mappings: README,
"Grades and feedback back to the platform".
"""
from __future__ import annotations

import argparse
import csv
from dataclasses import dataclass
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins import ExportPlugin

from ..course import ASSIGNMENT, ROOT
from ..keys import all_keys
from . import state

TITLE = "Sheet 3"
COMPLETE, WAITING, MISSING = "complete", "waits for a tutor", "no submission"


@dataclass
class StudentGrades:
    student: str
    first_name: str
    last_name: str
    email: str
    submitted: bool
    points: dict[str, float | None]   # graded cell -> points without extra credit; None: waits for a tutor
    bonus: float                      # all extra credit: the bonus cell's and any a tutor gave

    @property
    def total(self) -> float:
        return round(sum(v for v in self.points.values() if v is not None), 2)

    @property
    def pending(self) -> list[str]:
        return [cell for cell, v in self.points.items() if v is None]

    @property
    def status(self) -> str:
        return MISSING if not self.submitted else WAITING if self.pending else COMPLETE

    def part_points(self, part: str) -> float:
        return round(sum(v or 0 for cell, v in self.points.items() if cell.startswith(part)), 2)


@dataclass
class Grades:
    cells: list[str]                  # graded cells with points, in notebook order
    max_points: dict[str, float]
    bonus_max: float
    students: list[StudentGrades]

    @property
    def max_score(self) -> float:
        return round(sum(self.max_points.values()), 2)

    @property
    def parts(self) -> list[str]:
        """The sheet's tasks (a, b, c): the first letter of their cells' ids."""
        return sorted({cell[0] for cell in self.cells})

    def part_max(self, part: str) -> float:
        return round(sum(v for cell, v in self.max_points.items() if cell.startswith(part)), 2)


def read_grades(db_url: str, assignment: str = ASSIGNMENT) -> Grades:
    with Gradebook(db_url) as gb:
        return grades_in(gb, assignment)


def grades_in(gb: Gradebook, assignment: str) -> Grades:
    cells, bonus_cells = {}, []
    for nb in sorted(gb.find_assignment(assignment).notebooks, key=lambda nb: nb.name):
        for cell in nb.grade_cells:
            if cell.max_score:
                cells[cell.name] = float(cell.max_score)
            else:
                bonus_cells.append(cell.name)
    students = []
    for s in sorted(gb.students, key=lambda s: s.id):
        row = StudentGrades(s.id, s.first_name or "", s.last_name or "", s.email or "", False,
                            dict.fromkeys(cells, 0.0), 0.0)
        try:
            submission = gb.find_submission(assignment, s.id)
        except MissingEntry:
            students.append(row)
            continue
        row.submitted = True
        for nb in submission.notebooks:
            for grade in nb.grades:
                extra = grade.extra_credit or 0.0
                row.bonus += (grade.score or 0.0) if grade.name in bonus_cells else extra
                if grade.name in cells:
                    row.points[grade.name] = None if grade.needs_manual_grade else round(grade.score - extra, 2)
        row.bonus = round(row.bonus, 2)
        students.append(row)
    keys = all_keys()
    bonus_max = sum(keys[c].extra_credit for c in bonus_cells if c in keys)
    return Grades(list(cells), cells, bonus_max, students)


def number(value: float | None, comma: bool = False) -> str:
    text = "" if value is None else f"{round(value, 2):g}"
    return text.replace(".", ",") if comma else text


def task_table(grades: Grades) -> tuple[list[str], list[list[str]]]:
    """The per-task table (the one `make demo` prints): a column per graded cell, the bonus apart."""
    head = ["student_id", "last_name", "first_name", "email", *grades.cells,
            "total", "max_score", "bonus", "bonus_max", "status", "pending"]
    rows = [[s.student, s.last_name, s.first_name, s.email,
             *(number(s.points[c]) if s.submitted else "" for c in grades.cells),
             number(s.total), number(grades.max_score), number(s.bonus), number(grades.bonus_max),
             s.status, " ".join(s.pending)] for s in grades.students]
    return head, rows


def moodle_table(grades: Grades, people: dict, title: str = TITLE) -> tuple[list[str], list[list[str]], list[str]]:
    """Moodle's CSV grade import, and the students left out because points still wait for a tutor.

    Moodle caps an imported grade at its grade item's maximum unless the site allows grades
    above it (Site administration › Grades › General settings: "Unlimited grades"), so the
    bonus comes in its own column, for a grade item of its own."""
    head = ["Email address", "ID number", "Username", "Full name",
            title, f"{title} bonus", f"{title} with bonus", f"{title} feedback"]
    rows, left_out = [], []
    for s in grades.students:
        if s.status == WAITING:
            left_out.append(s.student)
            continue
        person = people.get(s.student)
        parts = ", ".join(f"{p}: {number(s.part_points(p))}/{number(grades.part_max(p))}" for p in grades.parts)
        feedback = (f"{number(s.total)} of {number(grades.max_score)} points ({parts}), "
                    f"bonus {number(s.bonus)} of {number(grades.bonus_max)}") if s.submitted else MISSING
        rows.append([s.email or (person.email if person else ""), person.matriculation if person else "", s.student,
                     f"{s.first_name} {s.last_name}".strip(), number(s.total), number(s.bonus),
                     number(s.total + s.bonus), feedback])
    return head, rows, left_out


def studip_table(grades: Grades, people: dict) -> tuple[list[str], list[list[str]]]:
    """A per-student list keyed by user name and matriculation number, points per task (decimal comma)."""
    head = ["Nutzername", "Matrikelnummer", "Nachname", "Vorname",
            *(f"Aufgabe {p} (max {number(grades.part_max(p), True)})" for p in grades.parts),
            f"Punkte (max {number(grades.max_score, True)})", f"Bonus (max {number(grades.bonus_max, True)})", "Status"]
    status = {COMPLETE: "vollständig", WAITING: "wartet auf Korrektur", MISSING: "keine Abgabe"}
    rows = [[s.student, people[s.student].matriculation if s.student in people else "", s.last_name, s.first_name,
             *(number(s.part_points(p), True) for p in grades.parts),
             number(s.total, True), number(s.bonus, True), status[s.status]] for s in grades.students]
    return head, rows


def write_csv(path: Path, head: list[str], rows: list[list[str]], delimiter: str = ",") -> Path:
    """Written aside, then renamed: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".partial-{path.name}")
    with open(partial, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, delimiter=delimiter)
        writer.writerow(head)
        writer.writerows(rows)
    partial.replace(path)
    return path


class TaskTableExport(ExportPlugin):
    """`nbgrader export` writes the per-task table (nbgrader_config.py: c.ExportApp.plugin_class)."""

    def export(self, gradebook: Gradebook) -> None:
        grades = grades_in(gradebook, (self.assignment or [ASSIGNMENT])[0])
        write_csv(Path(self.to or "grades.csv"), *task_table(grades))


def export_all(course: Path = ROOT, title: str = TITLE) -> dict[str, Path]:
    """The three exports of ``course``'s gradebook; returns their paths (and prints what Moodle's lacks)."""
    grades = read_grades(f"sqlite:///{course / 'autograde' / 'gradebook.db'}")
    people = {p.username: p for p in state.load(course)["people"]}
    out = course / "autograde" / "export"
    head, rows, left_out = moodle_table(grades, people, title)
    if left_out:
        print(f"left out of the Moodle import, points still wait for a tutor: {', '.join(left_out)}")
    return {"tasks": write_csv(course / "autograde" / "grades.csv", *task_table(grades)),
            "moodle": write_csv(out / "moodle_grades.csv", head, rows),
            "studip": write_csv(out / "studip_grades.csv", *studip_table(grades, people), delimiter=";")}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="make grades", description=__doc__.split("\n\n")[0])
    parser.add_argument("--title", default=TITLE, help="the Moodle grade item's name (column header)")
    for name, path in export_all(title=parser.parse_args(argv).title).items():
        print(f"{name:7s} {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
