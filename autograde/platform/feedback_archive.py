"""`make feedback-archive`: each student's feedback as one HTML file, for the platform.

nbgrader writes one HTML file per notebook (autograde/feedback/<student>/sheet03/). Here
they become one file per student, the notebooks one after another, written twice:

* autograde/export/moodle_feedback.zip — for Moodle's "Upload multiple feedback files in a
  zip": Moodle finds the student by the name it gave their submission, so each file is
  ``Full Name_<participant id>_assignsubmission_file_feedback_sheet03.html``, the prefix
  taken from the submissions archive that `make intake` read. Students who did not come in
  through a Moodle archive are not in the zip (the command names them).
* autograde/export/feedback/<student>/feedback_sheet03.html — a folder per student, for
  platforms without a bulk upload (Stud.IP: upload it to the student's feedback by hand).
"""
from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

from . import state
from ..course import ASSIGNMENT, ROOT

FILENAME = f"feedback_{ASSIGNMENT}.html"
BODY = re.compile(r"<body([^>]*)>(.*)</body>", re.DOTALL | re.IGNORECASE)
HEAD = re.compile(r"<head>.*</head>", re.DOTALL | re.IGNORECASE)


def combined(pages: list[Path]) -> str:
    """One HTML document from nbgrader's feedback pages: the first page's head (they share the
    template), then every page's body under its notebook's name."""
    texts = [p.read_text(encoding="utf-8") for p in pages]
    head = HEAD.search(texts[0]) if texts else None
    attributes = BODY.search(texts[0])[1] if texts and BODY.search(texts[0]) else ""
    bodies = []
    for page, text in zip(pages, texts):
        body = BODY.search(text)
        bodies.append(f'<section id="{page.stem}"><h1>{page.stem}</h1>\n{body[2] if body else text}</section>')
    head_html = head[0] if head else '<head><meta charset="utf-8"></head>'
    return (f"<!DOCTYPE html>\n<html>\n{head_html}\n<body{attributes}>\n" + "\n".join(bodies)
            + "\n</body>\n</html>\n")


def write_archive(course: Path = ROOT) -> tuple[Path, Path, list[str]]:
    """(the Moodle zip, the folder of per-student folders, students not in the zip)."""
    feedback = course / "autograde" / "feedback"
    out = course / "autograde" / "export"
    folders = out / "feedback"
    moodle = state.load(course)["moodle"]
    shutil.rmtree(folders, ignore_errors=True)
    missing = []
    partial = out / ".partial-moodle_feedback.zip"
    out.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        for student_dir in sorted(p for p in feedback.iterdir() if p.is_dir()) if feedback.is_dir() else []:
            pages = sorted((student_dir / ASSIGNMENT).glob("*.html"))
            if not pages:
                continue
            page = combined(pages)
            student = student_dir.name
            (folders / student).mkdir(parents=True)
            (folders / student / FILENAME).write_text(page, encoding="utf-8")
            if student in moodle:
                archive.writestr(f"{moodle[student]}_assignsubmission_file_{FILENAME}", page)
            else:
                missing.append(student)
    target = out / "moodle_feedback.zip"
    partial.replace(target)
    return target, folders, missing


def main() -> None:
    archive, folders, missing = write_archive()
    print(f"Moodle bulk upload:  {archive.relative_to(ROOT)}")
    print(f"a folder a student:  {folders.relative_to(ROOT)}/<student>/{FILENAME}")
    if missing:
        print(f"not in the zip (no Moodle submission seen by make intake): {', '.join(missing)}")


if __name__ == "__main__":
    main()
