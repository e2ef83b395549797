"""Grades as data between the course's gradebook and the jobs: only the batch's writer opens the real one.

A job grades in a gradebook of its own: a copy of the course's with the assignment
and no students (``template``), into which it first puts what the course's gradebook
already holds for its student and grading must keep — the student's record, manual
scores, extra credit, comments, an extension (``carried`` / ``seed``). Stock
``nbgrader autograde`` then runs there as it would on the real one, so manual
grades survive exactly as nbgrader keeps them. The job hands back what autograding
wrote (``harvest``), and the writer puts it into the course's gradebook in one
transaction per submission (``store``), together with the submission's fingerprint:
a submission is graded exactly when that row is there, so a batch killed at any
moment resumes with the first submission whose transaction did not commit.

Fields only a person sets (manual scores and comments, extension, flags) are never
written back; extra credit is written back only where autograding changed it.
"""
from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from datetime import datetime, timedelta

from nbgrader.api import (BaseCell, Comment, Gradebook, Grade, MissingEntry, Notebook, Student, SubmittedAssignment,
                          SubmittedNotebook)
from sqlalchemy import text
from sqlalchemy.orm import object_session

MARKS = "course_lib_batch"  # (assignment, student) -> fingerprint of the submission last graded by a batch
STUDENT_FIELDS = ("first_name", "last_name", "email", "lms_user_id")


def db_path(db_url: str) -> str:
    assert db_url.startswith("sqlite:///"), "the batch needs nbgrader's SQLite gradebook"
    return db_url[len("sqlite:///"):]


def template(db_url: str) -> bytes:
    """The gradebook without students, submissions or batch marks, as the bytes of an SQLite file."""
    source, copy = sqlite3.connect(db_path(db_url)), sqlite3.connect(":memory:")
    with source:
        source.backup(copy)
    source.close()
    for model in (Grade, Comment, SubmittedNotebook, SubmittedAssignment, Student):
        copy.execute(f"DELETE FROM {model.__tablename__}")
    copy.execute(f"DROP TABLE IF EXISTS {MARKS}")
    copy.commit()
    data = copy.serialize()
    copy.close()
    return data


def _cells(submission, kind: str):
    """("notebook/cell", row) for each of the submission's Grade (kind "grades") or Comment rows, in one query
    with the names (nbgrader's relationships would ask one query per row for its cell's name)."""
    model = {"grades": Grade, "comments": Comment}[kind]
    rows = (object_session(submission).query(Notebook.name, BaseCell.name, model)
            .join(BaseCell, BaseCell.id == model.cell_id)
            .join(SubmittedNotebook, SubmittedNotebook.id == model.notebook_id)
            .join(Notebook, Notebook.id == SubmittedNotebook.notebook_id)
            .filter(SubmittedNotebook.assignment_id == submission.id))
    for notebook, cell, item in rows:
        yield f"{notebook}/{cell}", item


def carried(gb: Gradebook, assignment: str, student: str) -> dict:
    """What the course's gradebook holds for this student that grading must keep (empty for a new student)."""
    try:
        record = gb.find_student(student)
    except MissingEntry:
        return {}
    out = {"student": {f: getattr(record, f) for f in STUDENT_FIELDS}}
    try:
        sub = gb.find_submission(assignment, student)
    except MissingEntry:
        return out
    out["extension"] = sub.extension.total_seconds() if sub.extension else None
    out["flagged"] = {nb.name: nb.flagged for nb in sub.notebooks}
    out["grades"] = {key: {"manual_score": g.manual_score, "extra_credit": g.extra_credit}
                     for key, g in _cells(sub, "grades")}
    out["comments"] = {key: c.manual_comment for key, c in _cells(sub, "comments")}
    return out


def seed(db_url: str, assignment: str, student: str, kept: dict) -> None:
    """In a job's gradebook: the student, and the submission with what ``carried`` kept."""
    with Gradebook(db_url) as gb:
        gb.update_or_create_student(student, **kept.get("student", {}))
        if "grades" not in kept:
            return
        extension = kept["extension"]
        sub = gb.update_or_create_submission(assignment, student)
        sub.extension = None if extension is None else timedelta(seconds=extension)
        for nb in sub.notebooks:
            nb.flagged = kept["flagged"].get(nb.name, False)
        for key, grade in _cells(sub, "grades"):
            for field, value in kept["grades"].get(key, {}).items():
                setattr(grade, field, value)
        for key, comment in _cells(sub, "comments"):
            comment.manual_comment = kept["comments"].get(key)
        gb.db.commit()


def harvest(db_url: str, assignment: str, student: str) -> dict:
    """What autograding wrote into a job's gradebook for the submission."""
    with Gradebook(db_url) as gb:
        sub = gb.find_submission(assignment, student)
        return {"timestamp": sub.timestamp.isoformat() if sub.timestamp else None,
                "late_submission_penalty": {nb.name: nb.late_submission_penalty for nb in sub.notebooks},
                "grades": {key: {"auto_score": g.auto_score, "needs_manual_grade": g.needs_manual_grade,
                                 "extra_credit": g.extra_credit} for key, g in _cells(sub, "grades")},
                "comments": {key: c.auto_comment for key, c in _cells(sub, "comments")}}


@contextmanager
def _one_transaction(gb: Gradebook):
    """nbgrader's Gradebook commits after each call; make those flushes, so the whole block commits once."""
    commit = gb.db.commit
    gb.db.commit = gb.db.flush
    try:
        yield
    except BaseException:
        gb.db.rollback()
        raise
    else:
        commit()
    finally:
        del gb.db.commit


def store(gb: Gradebook, assignment: str, student: str, kept: dict, graded: dict, fingerprint: str) -> None:
    """Write one job's harvest into the course's gradebook and mark the submission graded: all or nothing."""
    with _one_transaction(gb):
        try:
            gb.find_student(student)
        except MissingEntry:
            gb.add_student(student)
        timestamp = graded["timestamp"] and datetime.fromisoformat(graded["timestamp"])
        sub = gb.update_or_create_submission(assignment, student, **({"timestamp": timestamp} if timestamp else {}))
        for nb in sub.notebooks:
            nb.late_submission_penalty = graded["late_submission_penalty"][nb.name]
        sent = kept.get("grades", {})
        for key, grade in _cells(sub, "grades"):
            new = graded["grades"][key]
            grade.auto_score, grade.needs_manual_grade = new["auto_score"], new["needs_manual_grade"]
            if new["extra_credit"] != sent.get(key, {}).get("extra_credit"):
                grade.extra_credit = new["extra_credit"]
        for key, comment in _cells(sub, "comments"):
            comment.auto_comment = graded["comments"][key]
        gb.db.execute(text(f"INSERT OR REPLACE INTO {MARKS} VALUES (:a, :s, :f)"),
                      {"a": assignment, "s": student, "f": fingerprint})


def ensure_marks(gb: Gradebook) -> None:
    gb.db.execute(text(f"CREATE TABLE IF NOT EXISTS {MARKS} "
                       "(assignment TEXT, student TEXT, fingerprint TEXT, PRIMARY KEY (assignment, student))"))
    gb.db.commit()


def marks(gb: Gradebook, assignment: str) -> dict[str, str]:
    """student -> fingerprint of the submission a batch graded last."""
    rows = gb.db.execute(text(f"SELECT student, fingerprint FROM {MARKS} WHERE assignment = :a"), {"a": assignment})
    return dict(rows.all())


def forget_marks(gb: Gradebook, assignment: str) -> None:
    """--force: every submission counts as not yet graded (until the batch grades it again)."""
    gb.db.execute(text(f"DELETE FROM {MARKS} WHERE assignment = :a"), {"a": assignment})
    gb.db.commit()
