"""Messages in German and English: the catalogues are complete and current, and the right language speaks.

The catalogue tests compare what Babel extracts from the sources with every .po file
(autograde/catalogue.py): an id without a German or English text, an entry whose id is no longer in
the sources, a fuzzy entry, placeholders that differ between the languages, and a .mo not
compiled from its .po all fail. The language tests follow course_lib/i18n.py's order.
"""
import importlib
import json
import pkgutil

import nbformat
import pytest
import sympy as sp
from babel.messages.catalog import Catalog

from autograde import catalogue
from autograde.feedback_exporter import label_waiting_cells
from autograde.language import Language
from autograde.notes import add_note, cell_label
from autograde.verdict import judge_cell
from course_lib import check, diagnose, i18n, set_language, tasks
from course_lib.answers import REQUEST_FILE
from course_lib.tasks.a import dsigma, h, w
from course_lib.tasks.c.common import FD_NOTE, FLOAT32_NOTE
from grading import handed_in

CATALOGUES = [(domain, language) for domain in catalogue.DOMAINS for language in i18n.LANGUAGES]


@pytest.mark.parametrize("domain, language", CATALOGUES)
def test_every_message_has_a_current_text_in_each_language(domain, language):
    assert catalogue.problems(domain, language) == []


def test_the_catalogue_check_finds_a_missing_and_a_stale_entry(monkeypatch):
    real = catalogue.extracted("course_lib")
    changed = Catalog()
    for message in real:
        if message.id and message.id != "right magnitude, wrong sign":
            changed.add(message.id)
    changed.add("a message added to a tree but to no catalogue")
    monkeypatch.setattr(catalogue, "extracted", lambda domain: changed)
    found = catalogue.problems("course_lib", "de")
    assert "missing: 'a message added to a tree but to no catalogue'" in found
    assert "stale: 'right magnitude, wrong sign'" in found


def test_the_catalogue_check_finds_placeholders_that_differ_a_fuzzy_text_and_a_stray_brace(monkeypatch):
    real = catalogue.read
    def read(domain, language):
        catalog = real(domain, language)
        catalog["the graph computes {factor} times f"].string = "der Graph berechnet das {faktor}-Fache von f"
        catalog["the label {slip}"].flags.add("fuzzy")
        catalog["Self-check {task}"].string = "Selbsttest {task} }"
        return catalog
    monkeypatch.setattr(catalogue, "read", read)
    found = catalogue.problems("course_lib", "de")
    assert "placeholders differ: 'the graph computes {factor} times f'" in found
    assert "fuzzy: 'the label {slip}'" in found
    assert "not a format string like its id: 'Self-check {task}'" in found


def test_placeholders_are_the_render_fields_and_percent_formats():
    assert catalogue.placeholders("∇_{W1}L at {where}: 5 %d, %(n)s, 100 %") == ["%(n)s", "%d", "{W1}", "{where}"]


def _task_modules():
    """Every module of course_lib.tasks, the submodules of a task package (tasks/c/) included."""
    names = [info.name for info in pkgutil.walk_packages(tasks.__path__, "course_lib.tasks.")]
    return {name: importlib.import_module(name) for name in names}


def test_the_tree_messages_are_in_the_catalogue_without_markup():
    """Every message of every diagnosis tree (Outcome:2) is extracted: a literal needs no markup, a constant
    named in an Outcome (FD_NOTE) is marked N_("…") where it is defined."""
    trees = {}
    for module_name, module in _task_modules().items():
        for name, value in vars(module).items():
            if name.endswith("_TREE") and value not in trees.values():
                trees[f"{module_name}.{name}"] = value
            elif name.endswith("_TREES"):
                trees.update({f"{module_name}.{name}[{k}]": tree for k, tree in value.items()})
    assert {"course_lib.tasks.a.A1_TREE", "course_lib.tasks.b.EDGE_TREE", "course_lib.tasks.c.c2.FACTOR_TREE",
            "course_lib.tasks.c.bonus.GRADIENT_TREE"} <= set(trees)
    ids = {m.id for m in catalogue.extracted("course_lib") if m.id}
    messages = {outcome.message for tree in trees.values() for _path, outcome in diagnose.outcomes(tree)}
    assert len(messages) > 50 and FD_NOTE in messages and FLOAT32_NOTE in messages
    assert messages - ids == set()


# --- which language speaks ------------------------------------------------------------------------
@pytest.fixture
def clean(monkeypatch, tmp_path):
    """No language from anywhere: no choice, no environment, no request file, no notebook path."""
    monkeypatch.delenv(i18n.ENV, raising=False)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _notebook(path, metadata):
    nb = nbformat.v4.new_notebook(metadata=metadata)
    nbformat.write(nb, path)


def test_the_course_default_is_german(clean):
    assert i18n.language() == "de"


def test_the_notebook_metadata_names_the_language(clean, monkeypatch):
    _notebook(clean / "a.ipynb", {"course_lib": {"language": "en"}})
    monkeypatch.setenv("JPY_SESSION_NAME", str(clean / "a.ipynb"))
    assert i18n.language() == "en"
    _notebook(clean / "a.ipynb", {"course_lib": {"language": "de"}})  # read again when it changes
    assert i18n.language() == "de"


def test_a_session_path_from_the_server_root_finds_the_notebook_in_the_kernel_folder(clean, monkeypatch):
    _notebook(clean / "a.ipynb", {"course_lib": {"language": "en"}})
    monkeypatch.setenv("JPY_SESSION_NAME", "courses/sheet03/a.ipynb")
    assert i18n.language() == "en"


@pytest.mark.parametrize("metadata", [{}, {"course_lib": "en"}, {"course_lib": {"language": "fr"}},
                                      {"course_lib": {"language": ["en"]}}, {"course_lib": {"language": None}}])
def test_metadata_naming_no_language_of_the_course_gives_the_default(clean, monkeypatch, metadata):
    _notebook(clean / "a.ipynb", metadata)
    monkeypatch.setenv("JPY_SESSION_NAME", str(clean / "a.ipynb"))
    assert i18n.language() == "de"


def test_an_unreadable_notebook_or_request_file_gives_the_default(clean, monkeypatch):
    (clean / "a.ipynb").write_text("{not json")
    (clean / REQUEST_FILE).write_text('["de"]')
    monkeypatch.setenv("JPY_SESSION_NAME", str(clean / "a.ipynb"))
    assert i18n.language() == "de"


def test_order_student_then_grader_request_then_environment_then_notebook(clean, monkeypatch):
    _notebook(clean / "a.ipynb", {"course_lib": {"language": "de"}})
    monkeypatch.setenv("JPY_SESSION_NAME", str(clean / "a.ipynb"))
    monkeypatch.setenv(i18n.ENV, "en")
    assert i18n.language() == "en"
    (clean / REQUEST_FILE).write_text(json.dumps({i18n.REQUEST_KEY: "de", "a1": {}}))
    assert i18n.language() == "de"
    set_language("en")
    assert i18n.language() == "en"
    set_language(None)
    assert i18n.language() == "de"


@pytest.mark.parametrize("bad", ["fr", "DE", "", 1])
def test_set_language_refuses_a_language_the_course_does_not_speak(bad):
    with pytest.raises(ValueError, match="de and en"):
        set_language(bad)


# --- what a student and a TA read -------------------------------------------------------------------
def _sign_error(n, i):
    return -sp.Mul(*[dsigma(w[k] * h(k - 1)) * (w[k] if k > i else 1) for k in range(i, n + 1)]) * h(i - 1)


def test_a_self_check_speaks_german_and_english():
    english = check("a1", _sign_error).text()
    set_language("de")
    german = check("a1", _sign_error).text()
    blank = check("a1", ...).text()
    assert english.startswith("Self-check a1: 1 problem found") and "sign error: right magnitude, wrong sign" in english
    assert german.startswith("Selbsttest a1: 1 Problem gefunden")
    assert "Vorzeichenfehler: Betrag richtig, Vorzeichen falsch" in german and "sign error" not in german
    assert blank.startswith("Selbsttest a1: noch nicht beantwortet")


def test_a_message_is_translated_before_its_placeholders_are_filled():
    tree = [diagnose.Branch("x", lambda c: {"factor": 3}, diagnose.Outcome(0, "the graph computes {factor} times f"))]
    set_language("de")
    assert diagnose.diagnose(tree, None).message == "der Graph berechnet das 3-Fache von f"


def test_the_verdict_speaks_the_language_the_grader_chose():
    outputs = handed_in("a1", _sign_error)
    english = judge_cell("a1", outputs, "secret", "s1", "nb")
    set_language("de")
    german = judge_cell("a1", outputs, "secret", "s1", "nb")
    assert german.credit == english.credit == 0
    assert [n["path"] for n in german.notes] == [n["path"] for n in english.notes] == ["a1/sign"]
    assert "Vorzeichenfehler" in german.findings[0].message


@pytest.mark.parametrize("metadata, default, fixed, expected", [
    ({"course_lib": {"language": "en"}}, "de", "", "en"),
    ({"course_lib": {"language": "de"}}, "en", "", "de"),
    ({"course_lib": {"language": "<script>"}}, "de", "", "de"),
    ({}, "en", "", "en"),
    ({"course_lib": {"language": "de"}}, "de", "en", "en"),
])
def test_the_grader_speaks_the_notebooks_language_unless_the_course_fixes_one(metadata, default, fixed, expected):
    nb = nbformat.v4.new_notebook(metadata=metadata)
    assert Language(default=default, fixed=fixed).of(nb) == expected


def test_grading_notes_and_waiting_cells_speak_german():
    set_language("de")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(metadata={"nbgrader": {"grade_id": "a1"}})])
    add_note(nb, "x")
    assert nb.cells[0].source.startswith("**Hinweise zur Bewertung**")
    assert cell_label(nb, 1) == "Zelle 1 (`a1`)"
    html = ('<h4>sheet03 (Score: 1.0 / 2.0)</h4><a href="#a2">a2</a> (Score: 0.0 / 0.5)')
    assert label_waiting_cells(html, {"a2": 0.5}) == ('<h4>sheet03 (Score: 1.0 / 2.0; 0.5 warten auf Korrektur)</h4>'
                                                      '<a href="#a2">a2</a> (wartet auf Korrektur (0.5 Punkte))')


# --- German self-checks of typical mistakes: the task's own messages, its part labels, its answer-form errors ----
def test_a_german_self_check_of_a1_names_the_weight_beyond_the_chain_in_german():
    set_language("de")
    text = check("a1", lambda n, i: _sign_error(n, i) * w[n + 1]).text()
    assert "alle 7 Fälle: verwendet w_(n+1), das die Kette nicht hat" in text, text
    assert "uses w_(n+1)" not in text and "all 7 cases" not in text


def test_a_german_self_check_of_a2_and_a1_answer_form_errors():
    set_language("de")
    assert "a1 erwartet eine Funktion dh_dw(n, i)" in check("a1", sp.Symbol("x")).text()
    text = check("a2", {"max_dsigmoid": sp.Rational(1, 2), "surprise": 1}).text()
    assert "max_dsigmoid: das ist σ(0), der Wert der Sigmoidfunktion bei 0" in text, text
    assert "unbekannter Schlüssel, ignoriert" in text and "sigmoid_bound: fehlt" in text, text


def test_a_german_self_check_of_b2_names_the_slip_on_the_edge():
    from test_task_b import CANONICAL, build, replace, x1
    set_language("de")
    text = check("b2", build(replace(CANONICAL, v1=("pow", ["x1"], 2, [x1])))).text()
    assert "x1→v1: die Beschriftung lässt den Faktor 2 der Potenzregel aus" in text, text
    assert "Kanten tragen ihre lokale Ableitung" in text and "the label" not in text


def test_a_german_self_check_of_c2_and_c3_names_the_mistake():
    from test_task_c import ROW, SOFTMAX, TANH, with_factor
    set_language("de")
    text = check("c2", with_factor(ROW, "J_z2(z1)", fn=lambda z2, W2: (1 - z2)[:, None] * W2)).text()
    assert "J_z2(z1): " in text and "1 − tanh ohne das Quadrat auf der Diagonale des tanh-Schritts o2 → z2" in text, text
    text = check("c3", {"tanh": TANH[:1] + [TANH[1] + 1] + TANH[2:], "softmax": SOFTMAX}).text()
    assert "tanh, Schritt 2: Schritt 2 ist nicht gleich Schritt 1" in text, text
