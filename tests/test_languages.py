"""The German and the English sheet: paired notebooks that differ only in text, graded alike.

Each pair (solutions/ and solutions-de/, exercises/ and exercises-de/) must agree in every
cell's type, place, nbgrader metadata and code, and in every formula, code span and code
block of its text; a German submission gets the points its English counterpart gets and
keeps its text German through autograding and feedback.
"""
import copy
import re
from html import unescape

import nbformat
import pytest

from autograde.language import DEFAULT, FOLDERS, language_of, locked_texts
from autograde.samples import expected_extra_credit, expected_points, write_submission
from autograde.course import ASSIGNMENT, ROOT
from autograde.scratch_course import Course
from grading import autograde_with_feedback, gradebook_grades, tag_language

PAIRS = {kind: tuple(ROOT / FOLDERS[language][index] / ASSIGNMENT for language in ("en", "de"))
         for index, kind in enumerate(("sources", "release"))}
# math ($…$, $$…$$), fenced code blocks and inline code: what a translation must leave as it is
_KEPT = re.compile(r"```.*?```|\$\$.*?\$\$|\$[^$]+\$|`[^`\n]+`", re.S)


def _kept(markdown: str) -> list[str]:
    return sorted(_KEPT.findall(markdown))


def _pair_differences(english, german) -> list[str]:
    """Every way the German notebook differs from the English one beyond its text."""
    found = []
    if english.metadata.get("course_lib") != {"language": "en"} or german.metadata.get("course_lib") != {"language": "de"}:
        found.append("metadata course_lib.language is not en / de")
    if {k: v for k, v in english.metadata.items() if k != "course_lib"} != \
            {k: v for k, v in german.metadata.items() if k != "course_lib"}:
        found.append("notebook metadata differ")
    if len(english.cells) != len(german.cells):
        return found + [f"{len(english.cells)} cells against {len(german.cells)}"]
    for index, (en, de) in enumerate(zip(english.cells, german.cells)):
        where = f"cell {index} ({en.metadata.get('nbgrader', {}).get('grade_id', en.cell_type)})"
        if en.cell_type != de.cell_type:
            found.append(f"{where}: {en.cell_type} against {de.cell_type}")
            continue
        meta_en, meta_de = (copy.deepcopy(c.metadata) for c in (en, de))
        if en.cell_type == "markdown":  # the checksum covers the text
            for meta in (meta_en, meta_de):
                meta.get("nbgrader", {}).pop("checksum", None)
        if meta_en != meta_de:
            found.append(f"{where}: metadata {dict(meta_en)} against {dict(meta_de)}")
        if en.cell_type == "code" and en.source != de.source:
            found.append(f"{where}: the code differs")
        if en.cell_type == "markdown" and _kept(en.source) != _kept(de.source):
            missing = set(_kept(en.source)) ^ set(_kept(de.source))
            found.append(f"{where}: formulas or code in the text differ: {sorted(missing)[:3]}")
    return found


def _read(folder, name):
    return nbformat.read(folder / name, as_version=4)


@pytest.mark.parametrize("kind", PAIRS)
def test_both_languages_hold_the_same_notebooks(kind):
    english, german = PAIRS[kind]
    names = sorted(p.name for p in english.glob("*.ipynb"))
    assert names and names == sorted(p.name for p in german.glob("*.ipynb"))


@pytest.mark.parametrize("kind, name", [(kind, p.name) for kind in PAIRS for p in sorted(PAIRS[kind][0].glob("*.ipynb"))])
def test_a_pair_differs_only_in_its_text(kind, name):
    english, german = PAIRS[kind]
    assert _pair_differences(_read(english, name), _read(german, name)) == []


@pytest.mark.parametrize("name", sorted(p.name for p in PAIRS["sources"][0].glob("*.ipynb")))
def test_every_text_cell_of_the_german_sources_is_translated(name):
    english, german = (_read(folder, name) for folder in PAIRS["sources"])
    same = [en.metadata["nbgrader"]["grade_id"] for en, de in zip(english.cells, german.cells)
            if en.cell_type == "markdown" and en.source == de.source]
    assert same == []
    words = " ".join(cell.source for cell in german.cells if cell.cell_type == "markdown")
    assert len(re.findall(r"\b(?:die|der|und|Sie|ist)\b", words)) > 20


def _german_c():
    return _read(PAIRS["sources"][1], "c_mlp_jacobians.ipynb")


@pytest.mark.parametrize("drift", ["code", "grade id", "points", "formula", "cell type", "cell order", "language"])
def test_the_pair_check_finds_each_kind_of_drift(drift):
    english, german = _read(PAIRS["sources"][0], "c_mlp_jacobians.ipynb"), _german_c()
    graded = next(c for c in german.cells if c.metadata.get("nbgrader", {}).get("points"))
    text = next(c for c in german.cells if c.cell_type == "markdown" and "$" in c.source)
    if drift == "code":
        next(c for c in german.cells if c.cell_type == "code").source += "\nx = 1"
    elif drift == "grade id":
        graded.metadata.nbgrader["grade_id"] += "_de"
    elif drift == "points":
        graded.metadata.nbgrader["points"] += 1
    elif drift == "formula":
        text.source = text.source.replace("$", "$2", 1)
    elif drift == "cell type":
        text.cell_type = "raw"
    elif drift == "cell order":
        german.cells[1], german.cells[3] = german.cells[3], german.cells[1]
    else:
        german.metadata["course_lib"]["language"] = "en"
    assert _pair_differences(english, german) != []


@pytest.mark.parametrize("metadata, language", [
    ({"course_lib": {"language": "en"}}, "en"), ({"course_lib": {"language": "de"}}, "de"),
    ({}, DEFAULT), ({"course_lib": {"language": "EN"}}, DEFAULT), ({"course_lib": {"language": "de "}}, DEFAULT),
    ({"course_lib": {"language": ["de"]}}, DEFAULT), ({"course_lib": {"language": {"de": 1}}}, DEFAULT),
    ({"course_lib": "de"}, DEFAULT), ({"course_lib": None}, DEFAULT), ({"course_lib": {"language": "../../etc"}}, DEFAULT),
])
def test_the_language_of_a_notebook_is_de_or_en_whatever_its_metadata_holds(metadata, language):
    assert language_of(nbformat.v4.new_notebook(metadata=metadata)) == language
    assert language_of({"metadata": "de"}) == DEFAULT and language_of([]) == DEFAULT


def test_locked_texts_are_the_german_sources_markdown_and_nothing_for_an_unknown_notebook():
    texts = locked_texts("de", ASSIGNMENT, "a_vanishing_gradient")
    assert texts["intro"].startswith("# Blatt 3 · Aufgabe (a)") and "a2_reasoning" not in texts  # an answer, not locked
    assert locked_texts("de", ASSIGNMENT, "not_a_notebook") == {}


def test_locked_texts_follow_the_source_file_and_are_the_callers_own(tmp_path):
    sources = tmp_path / FOLDERS["de"][0] / ASSIGNMENT
    sources.mkdir(parents=True)
    text = (ROOT / FOLDERS["de"][0] / ASSIGNMENT / "a_vanishing_gradient.ipynb").read_text(encoding="utf-8")
    (sources / "a_vanishing_gradient.ipynb").write_text(text, encoding="utf-8")
    texts = locked_texts("de", ASSIGNMENT, "a_vanishing_gradient", tmp_path)
    texts["intro"] = "changed by a caller"
    assert locked_texts("de", ASSIGNMENT, "a_vanishing_gradient", tmp_path)["intro"].startswith("# Blatt 3")
    (sources / "a_vanishing_gradient.ipynb").write_text(text.replace("# Blatt 3", "# Blatt 4"), encoding="utf-8")
    assert locked_texts("de", ASSIGNMENT, "a_vanishing_gradient", tmp_path)["intro"].startswith("# Blatt 4")


def _as_overwritten(language_tag):
    """The German release of a, its language tag set, after OverwriteCells: locked text back from the (English) gradebook."""
    nb = _read(PAIRS["release"][1], "a_vanishing_gradient.ipynb")
    nb.metadata["course_lib"] = {"language": language_tag}
    english = locked_texts("en", ASSIGNMENT, "a_vanishing_gradient")
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") in english:
            cell.source = english[cell.metadata.nbgrader.grade_id]
    return nb


@pytest.mark.parametrize("language_tag, shown", [("de", "de"), ("en", "en"), (["de"], DEFAULT), ("", DEFAULT)])
def test_keep_notebook_language_puts_the_locked_text_back_in_the_notebooks_language(language_tag, shown):
    from autograde.steps import KeepNotebookLanguage
    nb = _as_overwritten(language_tag)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    resources = {"nbgrader": {"assignment": ASSIGNMENT, "notebook": "a_vanishing_gradient"}}
    nb, _ = KeepNotebookLanguage().preprocess(nb, resources)
    expected = locked_texts(shown, ASSIGNMENT, "a_vanishing_gradient")
    assert {c.metadata.nbgrader.grade_id: c.source for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("grade_id") in expected} == expected
    assert [c.source for c in nb.cells if c.cell_type == "code"] == code       # what runs is never touched
    answer = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "a2_reasoning")
    assert answer.source == "YOUR ANSWER HERE"                                  # nor a student's written answer


# ---- grading a German submission -------------------------------------------------------------------------------

GERMAN = ["reference", "mistake_a_missing_h", "mistake_b_sign_on_edge", "mistake_c_softmax_diag", "edited_graded_cell"]
HOSTILE_LANGUAGE = "reference_language_hostile"  # the German reference with a language tag that is no language


@pytest.fixture(scope="module")
def graded_german(tmp_path_factory):
    """An English course (its gradebook, as the term's) grading German submissions made from the German release."""
    course = Course(tmp_path_factory.mktemp("course"))
    course.release()
    german_release = Course(tmp_path_factory.mktemp("course-de"), "de").release()
    for student in GERMAN:
        write_submission(student, german_release, course.path / "solutions" / ASSIGNMENT, course.submission_dir(student))
    write_submission("reference", german_release, course.path / "solutions" / ASSIGNMENT,
                     course.submission_dir(HOSTILE_LANGUAGE))
    tag_language(course.submission_dir(HOSTILE_LANGUAGE), {"de": ["en"]})
    return autograde_with_feedback(course)


@pytest.mark.e2e
@pytest.mark.parametrize("student", GERMAN + [HOSTILE_LANGUAGE])
def test_a_german_submission_gets_the_points_of_its_english_counterpart(graded_german, student):
    english = "reference" if student == HOSTILE_LANGUAGE else student  # test_e2e.py holds the English to these
    grades = gradebook_grades(graded_german, student)
    autograded = {name: g[1] for name, g in grades.items() if g[2] == "code"}
    assert {name: grades[name][0] for name in autograded} == pytest.approx(expected_points(english, autograded), abs=0.011)
    bonus = [name for name, g in grades.items() if g[2] == "code" and g[1] == 0]
    assert {name: grades[name][3] for name in bonus} == pytest.approx(expected_extra_credit(english, bonus), abs=0.011)


def _autograded(course, student):
    folder = course.path / "autograde" / "autograded" / student / ASSIGNMENT
    return {path.stem: nbformat.read(path, as_version=4) for path in sorted(folder.glob("*.ipynb"))}


@pytest.mark.e2e
@pytest.mark.parametrize("student", GERMAN + [HOSTILE_LANGUAGE])
def test_a_german_submission_stays_german_through_grading_and_feedback(graded_german, student):
    notebooks = _autograded(graded_german, student)
    assert sorted(notebooks) == ["a_vanishing_gradient", "b_rosenbrock_graph", "c_mlp_jacobians"]
    for name, nb in notebooks.items():
        german = locked_texts("de", ASSIGNMENT, name)
        shown = {c.metadata["nbgrader"]["grade_id"]: c.source for c in nb.cells
                 if c.cell_type == "markdown" and c.metadata.get("nbgrader", {}).get("grade_id") in german}
        assert shown == german, name
        notes = "".join(c.source for c in nb.cells if c.metadata.get("course_lib_grading_notes"))
        edited = re.findall(r"`(\w+)` wiederhergestellt: sie war bearbeitet worden", notes)   # the grader's notes are German too
        assert edited == (["a1"] if student == "edited_graded_cell" and name.startswith("a_") else []), (name, notes)
    feedback = graded_german.path / "autograde" / "feedback" / student / ASSIGNMENT
    html = unescape((feedback / "a_vanishing_gradient.html").read_text())  # "·" may come as &#183;
    assert "Blatt 3 · Aufgabe (a): die Aktivierungsfunktion und der verschwindende Gradient" in html
    assert "Sheet 3 · Task (a)" not in html and "The derivative of the output with respect to a weight" not in html
    assert "Die Zielfunktion als Graph" in unescape((feedback / "c_mlp_jacobians.html").read_text())


@pytest.mark.e2e
def test_a_german_submission_keeps_its_language_in_the_autograded_notebook(graded_german):
    for nb in _autograded(graded_german, "reference").values():
        assert nb.metadata["course_lib"] == {"language": "de"}   # what the feedback's language is read from
