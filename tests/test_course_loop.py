"""The course loop after grading: answer notes, the class report, the grade exports, the feedback archive.

All on the sample students graded once by conftest's ``graded`` fixture (the course test_e2e checks).
"""
import csv
import io
import re
import shutil
import zipfile
from typing import NamedTuple

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograde import report
from autograde.answer_notes import METADATA_KEY, NOT_JUDGED, read_notes
from autograde.platform import feedback_archive, grades_out, state
from autograde.platform.roster import Person
from autograde.samples import students
from autograde.steps.common import judged_cells
from autograde.course import ASSIGNMENT
from autograde.scratch_course import Course
from course_lib.feedback import Feedback

pytestmark = pytest.mark.e2e

NAMED = {  # the diagnoses the typical mistakes of autograde/samples must reach
    "mistake_a_missing_h": {"a1": ["a1/h_{i-1} missing"],
                            "a2": ["a2/max_dsigmoid/sigma(0)", "a2/sigmoid_bound/per-layer 1/2", "a2/relu_sup/no x"]},
    "mistake_a_product_range": {"a1": ["a1/w_i included"]},
    "mistake_b_fan_out": {"b3": ["b3/back/fan-out not summed", "b3/back/equal", "b3/back/follow-on"]},
}
PEOPLE = [Person("reference", "4711", "ref@uni.example", "Rita", "Reference"),
          Person("blank", "4712", "blank@uni.example", "Bernd", "Blank"),
          Person("absent", "4713", "absent@uni.example", "Anna", "Absent")]


class G(NamedTuple):
    points: float | None     # without extra credit; None: waits for a tutor
    top: float
    extra: float
    kind: str                # code (autograded) or markdown (a tutor's)


def _gradebook(course):
    """{student: {cell: G}} straight from nbgrader's gradebook."""
    out = {}
    with Gradebook(course.db_url) as gb:
        for sub in gb.assignment_submissions(ASSIGNMENT):
            out[sub.student.id] = {g.name: G(None if g.needs_manual_grade else g.score - (g.extra_credit or 0),
                                             g.max_score, g.extra_credit or 0, g.cell_type)
                                   for nb in sub.notebooks for g in nb.grades}
    return out


def _part(cells, part):
    """Points (without extra credit) of the cells whose id starts with ``part``; "" for all."""
    return sum(g.points or 0 for c, g in cells.items() if c.startswith(part))


def _pending(cells):
    return [c for c, g in cells.items() if g.points is None]


def _verdict_texts(course, student):
    """{cell: the feedback text the verdict wrote into the autograded cell}."""
    out = {}
    for path in (course.path / "autograde" / "autograded" / student / ASSIGNMENT).glob("*.ipynb"):
        for task, cell in judged_cells(nbformat.read(path, as_version=4)):
            out[task] = "\n".join(o.get("data", {}).get("text/plain", "") for o in cell.outputs)
    return out


@pytest.fixture(scope="module")
def notes(graded):
    return read_notes(graded.path / "autograde" / "autograded", ASSIGNMENT)


@pytest.fixture(scope="module")
def platform(graded):
    """The graded course with a roster (two sample students and one who handed nothing in) and a Moodle id."""
    state.save(graded.path, PEOPLE, {"reference": "Rita Reference_301"})
    with Gradebook(graded.db_url) as gb:
        for p in PEOPLE:
            gb.update_or_create_student(p.username, first_name=p.first_name, last_name=p.last_name, email=p.email)
    yield graded
    with Gradebook(graded.db_url) as gb:
        gb.remove_student("absent")


# --- answer notes ---------------------------------------------------------------------------

def test_every_judged_cell_of_every_sample_has_its_notes(graded, notes):
    grades = _gradebook(graded)
    assert set(notes) == set(students())
    for student, cells in notes.items():
        judged = {name for name, g in grades[student].items() if g.kind == "code"}
        assert set(cells) == judged, student
        assert all(cells[c] and all(n["path"].startswith(f"{c}/") for n in cells[c]) for c in cells)


def test_answer_notes_are_the_verdicts_diagnoses(graded, notes):
    grades = _gradebook(graded)
    for student in students():
        shown = _verdict_texts(graded, student)
        for cell, cell_notes in notes[student].items():
            points, top, extra, _ = grades[student][cell]
            for note in cell_notes:
                if note["status"] != "ok":  # a task sums up what is right in its own words
                    assert note["message"] in shown[cell], (student, cell, note)  # the message the student saw
            if (points or 0) + extra >= (top or 4) - 1e-9:
                assert all(n["status"] == "ok" for n in cell_notes), (student, cell, cell_notes)
            if any(n["status"] == "wrong" for n in cell_notes):
                assert (points or 0) + extra < (top or 4), (student, cell, cell_notes)


def test_the_typical_mistakes_reach_their_named_diagnoses(notes):
    for student, cells in NAMED.items():
        for cell, paths in cells.items():
            assert [n["path"] for n in notes[student][cell]] == paths, (student, cell)
    assert all(n["status"] == "ok" for cell in notes["reference"].values() for n in cell)
    blank = {cell: [n["path"] for n in cell_notes] for cell, cell_notes in notes["blank"].items()}
    assert blank["a1"] == [f"a1/{NOT_JUDGED}"] and blank["c_bonus"] == [f"c_bonus/{NOT_JUDGED}"]


def test_feedback_carries_its_notes_as_plain_data():
    fb = Feedback("a1", 0.0, notes=[{"path": "a1/sign", "status": "wrong", "message": "sign error"}])
    assert Feedback.from_data(fb.to_data()).notes == fb.notes


def test_a_regrade_keeps_notes_beside_the_score_and_leaves_manual_grades_alone(graded, tmp_path):
    course = Course.__new__(Course)
    course.path = tmp_path / "course"
    shutil.copytree(graded.path, course.path, symlinks=True)
    student = "mistake_a_missing_h"
    with Gradebook(course.db_url) as gb:
        grade = gb.find_grade("a2_reasoning", "a_vanishing_gradient", ASSIGNMENT, student)
        grade.manual_score = 0.25
        gb.find_comment("a2_reasoning", "a_vanishing_gradient", ASSIGNMENT, student).manual_comment = "good start"
        gb.db.commit()
    course.nbgrader("autograde", ASSIGNMENT, "--force", "--student", student, "--notebook", "a_vanishing_gradient")
    again = read_notes(course.path / "autograde" / "autograded", ASSIGNMENT)[student]
    before = read_notes(graded.path / "autograde" / "autograded", ASSIGNMENT)[student]
    assert {c: again[c] for c in ("a1", "a2")} == {c: before[c] for c in ("a1", "a2")}
    assert [n["path"] for n in again["a1"]] == ["a1/h_{i-1} missing"]
    with Gradebook(course.db_url) as gb:
        assert gb.find_grade("a2_reasoning", "a_vanishing_gradient", ASSIGNMENT, student).manual_score == 0.25
        assert gb.find_comment("a2_reasoning", "a_vanishing_gradient", ASSIGNMENT,
                               student).manual_comment == "good start"


def test_notes_planted_in_a_submission_never_count(graded, tmp_path):
    nb_path = next((graded.path / "autograde" / "autograded" / "reference" / ASSIGNMENT).glob("a_*.ipynb"))
    nb = nbformat.read(nb_path, as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.metadata[METADATA_KEY] = [{"path": "a1/forged", "status": "ok", "message": ""}]
    folder = tmp_path / "reference" / ASSIGNMENT
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / nb_path.name)
    assert "a1/forged" not in str(read_notes(tmp_path, ASSIGNMENT))


# --- the class report -----------------------------------------------------------------------

def _rows(page, heading):
    """The rows of the first table after <h2>heading</h2> (or <h3>), as lists of cell texts."""
    section = page.split(f">{heading}</h", 1)[1]
    table = section.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [[re.sub("<[^>]+>", "", c).replace("&#x27;", "'").replace("&amp;", "&") for c in
             re.findall(r"<td>(.*?)</td>", row)] for row in re.findall(r"<tr>(.*?)</tr>", table)]


@pytest.fixture(scope="module")
def page(graded):
    return report.write_report(graded.path).read_text()


def test_the_report_is_one_self_contained_page(page):
    assert "<img" in page and 'src="data:image/png;base64,' in page
    assert not re.search(r'(src|href)="(?!data:)', page) and "<script" not in page and "<link" not in page


def test_report_points_agree_with_the_gradebook(graded, page):
    grades = _gradebook(graded)
    for part, top in (("a", 4), ("b", 5), ("c", 6)):
        points = [_part(cells, part) for cells in grades.values()]
        [row] = [r for r in _rows(page, "Points") if r[0] == f"task {part}"]
        assert row[1] == f"{top}" and int(row[2]) == len(grades)
        assert int(row[7]) == sum(p >= top - 1e-9 for p in points) and int(row[8]) == sum(p == 0 for p in points)
    [total] = [r for r in _rows(page, "Points") if r[0] == "total"]
    assert float(total[6]) == pytest.approx(max(_part(cells, "") for cells in grades.values()))


def test_report_diagnoses_count_students_per_note(notes, page):
    for cell in ("a1", "b3", "c2"):
        expected = {}
        for by_cell in notes.values():
            for note in by_cell[cell]:
                expected[note["path"]] = expected.get(note["path"], 0) + 1
        rows = _rows(page, cell)
        assert {r[0]: int(r[2]) for r in rows} == expected
        assert [int(r[2]) for r in rows] == sorted(expected.values(), reverse=True)
    [missing_h] = [r for r in _rows(page, "a1") if r[0] == "a1/h_{i-1} missing"]
    assert missing_h[3].startswith("missing the factor")


def test_report_blanks_failures_together_and_waiting_agree_with_the_gradebook(graded, notes, page):
    grades = _gradebook(graded)
    blank = {c: {s for s in notes if [n["path"] for n in notes[s][c]] == [f"{c}/{NOT_JUDGED}"]} for c in notes["blank"]}
    assert "blank" in blank["a1"] and "reference" not in blank["a1"]
    assert {r[0]: int(r[1]) for r in _rows(page, "Left blank")} == {c: len(s) for c, s in blank.items() if s}
    failed = {c: {s for s, cells in grades.items() if cells[c].points < cells[c].top and s not in blank[c]}
              for c in ("a1", "a2", "b3")}
    assert failed["a1"] >= {"mistake_a_missing_h", "mistake_a_product_range"}
    together = {(r[0], r[1]): int(r[2]) for r in _rows(page, "Cells that fail together")}
    assert together.get(("a1", "a2"), 0) == len(failed["a1"] & failed["a2"])
    assert together.get(("a1", "b3"), 0) == len(failed["a1"] & failed["b3"])
    waiting = {r[0]: r[1] for r in _rows(page, "Waiting for manual grading")}
    assert waiting == {s: " ".join(_pending(cells)) for s, cells in grades.items() if _pending(cells)}


# --- grades out -----------------------------------------------------------------------------

def test_the_per_task_table_matches_the_gradebook(platform):
    paths = grades_out.export_all(platform.path)
    rows = {r["student_id"]: r for r in csv.DictReader(open(paths["tasks"], newline=""))}
    grades = _gradebook(platform)
    assert set(rows) == set(grades) | {"absent"}
    for student, cells in grades.items():
        row = rows[student]
        for cell, g in cells.items():
            if g.top:
                assert row[cell] == ("" if g.points is None else f"{round(g.points, 2):g}"), (student, cell)
        assert float(row["total"]) == pytest.approx(_part(cells, ""), abs=0.011)
        assert float(row["total"]) <= float(row["max_score"]) == 15
        assert float(row["bonus"]) == pytest.approx(sum(g.extra for g in cells.values()), abs=0.011)
        pending = _pending(cells)
        assert row["pending"].split() == pending
        assert row["status"] == ("waits for a tutor" if pending else "complete")
    assert rows["absent"]["status"] == "no submission" and rows["reference"]["last_name"] == "Reference"
    assert rows["reference"]["bonus"] == "4" and rows["reference"]["bonus_max"] == "4"


def test_the_moodle_import_keeps_the_bonus_apart_and_waits_for_tutors(platform):
    paths = grades_out.export_all(platform.path)
    rows = list(csv.DictReader(open(paths["moodle"], newline="")))
    grades = _gradebook(platform)
    waiting = {s for s, cells in grades.items() if _pending(cells)}
    by_name = {r["Username"]: r for r in rows}
    assert set(by_name) == (set(grades) - waiting) | {"absent"}
    blank = by_name["blank"]
    assert (blank["Email address"], blank["ID number"], blank["Sheet 3"], blank["Sheet 3 bonus"]) == \
        ("blank@uni.example", "4712", "0", "0")
    assert by_name["absent"]["Sheet 3"] == "0" and by_name["absent"]["Sheet 3 feedback"] == "no submission"
    for row in rows:
        assert float(row["Sheet 3"]) <= 15 and float(row["Sheet 3 bonus"]) <= 4
        assert float(row["Sheet 3 with bonus"]) == pytest.approx(float(row["Sheet 3"]) + float(row["Sheet 3 bonus"]))


def test_the_studip_list_is_keyed_by_user_name_and_matriculation_number(platform):
    paths = grades_out.export_all(platform.path)
    text = paths["studip"].read_text(encoding="utf-8")
    rows = {r["Nutzername"]: r for r in csv.DictReader(io.StringIO(text), delimiter=";")}
    grades = _gradebook(platform)
    reference = rows["reference"]
    assert reference["Matrikelnummer"] == "4711" and reference["Nachname"] == "Reference"
    for part, top in (("a", 4), ("b", 5), ("c", 6)):
        for student, cells in grades.items():
            got = float(rows[student][f"Aufgabe {part} (max {top})"].replace(",", "."))
            assert got == pytest.approx(_part(cells, part), abs=0.011)
    assert float(reference["Punkte (max 15)"].replace(",", ".")) <= 15
    assert reference["Bonus (max 4)"] == "4" and rows["absent"]["Status"] == "keine Abgabe"


# --- feedback out ---------------------------------------------------------------------------

def test_the_feedback_archive_has_moodles_names_and_a_folder_per_student(platform):
    archive, folders, missing = feedback_archive.write_archive(platform.path)
    with zipfile.ZipFile(archive) as z:
        names = z.namelist()
        page = z.read(names[0]).decode()
    assert names == ["Rita Reference_301_assignsubmission_file_feedback_sheet03.html"]
    fullname, participant, plugin_type, plugin, filename = names[0].split("_", 4)  # as Moodle's importer splits it
    assert (participant, plugin_type, plugin, filename) == ("301", "assignsubmission", "file", "feedback_sheet03.html")
    assert sorted(p.name for p in folders.iterdir()) == sorted(students())
    assert set(missing) == set(students()) - {"reference"}
    for notebook in ("a_vanishing_gradient", "b_rosenbrock_graph", "c_mlp_jacobians"):
        assert f'<section id="{notebook}">' in page
    assert page.count("<html") == page.count("<head>") == 1 and "2 of 2 points" in page
    assert (folders / "blank" / "feedback_sheet03.html").read_text().count("<section") == 3
