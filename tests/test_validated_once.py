"""The exporters copy a notebook once and validate it once; points are still read only from a valid notebook."""
import copy
import json

import nbformat
import pytest
from nbconvert.exporters import NotebookExporter
from nbconvert.preprocessors import Preprocessor
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from nbformat.v4.nbjson import BytesEncoder
from traitlets.config.loader import PyFileConfigLoader

from autograde import nodes, validated_once
from autograde.feedback_exporter import FeedbackExporter
from autograde.steps import CheckNotebookValid, SaveAutoGradesReadOnce
from autograde.validated_once import NotebookValidatedOnce, ValidatedOnce, _NotPlain

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]


class Breaks(Preprocessor):
    def preprocess(self, nb, resources):
        nb.cells[0].execution_count = "7"  # as a kernel's malformed execute_input would leave it
        return nb, resources


class Records(Preprocessor):
    ran = []

    def preprocess(self, nb, resources):
        self.ran.append(nb)
        return nb, resources


def notebook():
    cell = new_code_cell("x = 1", outputs=[new_output("stream", name="stdout", text="1\n")])
    return new_notebook(cells=[cell, new_markdown_cell("*text*")])


def exporter(cls, *steps):
    e = cls()
    for step in steps:
        e.register_preprocessor(step, enabled=True)
    return e


def test_the_same_notebook_as_nbconverts_exporter_and_the_callers_notebook_unchanged():
    nb = notebook()
    before = copy.deepcopy(nb)
    ours, _ = exporter(NotebookValidatedOnce, Records).from_notebook_node(nb)
    stock, _ = exporter(NotebookExporter, Records).from_notebook_node(nb)
    assert ours == stock and nb == before


def test_a_notebook_a_step_made_invalid_stops_the_run():
    with pytest.raises(nbformat.ValidationError):
        exporter(NotebookValidatedOnce, Breaks, Records).from_notebook_node(notebook())


def test_points_are_never_read_from_an_invalid_notebook():
    Records.ran.clear()
    with pytest.raises(nbformat.ValidationError):
        exporter(NotebookValidatedOnce, Breaks, CheckNotebookValid, Records).from_notebook_node(notebook())
    assert Records.ran == []  # the step in SaveAutoGrades' place never saw it


def test_autograde_and_feedback_validate_once_and_check_before_saving_points():
    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    assert config.Autograde.exporter_class is NotebookValidatedOnce and issubclass(FeedbackExporter, ValidatedOnce)
    steps = config.Autograde.autograde_preprocessors
    assert steps[steps.index(SaveAutoGradesReadOnce) - 1] is CheckNotebookValid


def test_the_graders_own_nodes_are_nbformats():
    for kind, fields in [("stream", {"name": "stdout", "text": "t\n"}), ("display_data", {"data": {"text/plain": "x"}}),
                         ("execute_result", {"data": {"text/plain": "1.0"}, "execution_count": 3}),
                         ("error", {"ename": "E", "evalue": "v", "traceback": []})]:
        assert nodes.new_output(kind, **fields) == new_output(kind, **fields)
        nbformat.validate(nodes.new_output(kind, **fields), "output", version=4)
    code, markdown = nodes.new_cell("code", "x"), nodes.new_cell("markdown", "y", metadata={"m": True})
    for ours, theirs in [(code, new_code_cell("x")), (markdown, new_markdown_cell("y", metadata={"m": True}))]:
        assert ours.id and ours.id != theirs.id
        assert {**ours, "id": 0} == {**theirs, "id": 0}
        assert isinstance(ours.metadata, nbformat.NotebookNode)


def counting_validations(monkeypatch):
    """The list of every nbformat.validate call from now on (nbformat.reads and writes call it by this name)."""
    calls, validate = [], nbformat.validate
    monkeypatch.setattr(nbformat, "validate", lambda nb, *a, **k: (calls.append(nb), validate(nb, *a, **k))[1])
    return calls


def test_writes_gives_the_bytes_nbformat_writes_to_a_file(tmp_path):
    shown = new_output("display_data", data={"text/plain": "a\nb – ü\n", "image/png": "iVBOR\nw0=\n",
                                             "application/json": {"k": [1, 2.5]}}, metadata={"m": 1})
    rich = notebook()
    rich.cells += [new_code_cell("def f():\n    return 'ü'\n", outputs=[shown], metadata={"trusted": True})]
    rich.metadata.update(signature="sha256:x", orig_nbformat=3, kernelspec={"name": "python3"})
    release = nbformat.read(ROOT / "exercises" / "sheet03" / "c_mlp_jacobians.ipynb", as_version=4)
    for nb in (notebook(), rich, release):
        nbformat.write(nb, tmp_path / "stock.ipynb")
        assert validated_once.writes(copy.deepcopy(nb)).encode() == (tmp_path / "stock.ipynb").read_bytes()


def test_a_text_written_from_a_valid_notebook_is_not_validated_again_when_read_back(monkeypatch):
    text = validated_once.writes(notebook())
    calls = counting_validations(monkeypatch)
    assert validated_once.reads(text) == validated_once.reads_valid(text) == nbformat.reads(text, as_version=4)
    assert len(calls) == 1  # nbformat.reads' own


def test_any_other_text_is_validated_once_and_an_invalid_one_refused(monkeypatch):
    text = validated_once.writes(notebook()).replace('"x = 1"', '"x = 2"')
    calls = counting_validations(monkeypatch)
    validated_once.reads_valid(text)
    validated_once.reads(text)
    assert len(calls) == 2
    with pytest.raises(nbformat.ValidationError):  # nbformat logs it and writes it anyway; never remembered
        validated_once.reads_valid(validated_once.writes(Breaks().preprocess(notebook(), {})[0]))


def test_the_autograde_exporter_reads_back_its_own_output_without_validating_it_again(monkeypatch, tmp_path):
    output, _ = exporter(NotebookValidatedOnce).from_notebook_node(notebook())
    (tmp_path / "nb.ipynb").write_text(output, encoding="utf-8")
    calls = counting_validations(monkeypatch)
    again, _ = exporter(NotebookValidatedOnce).from_filename(str(tmp_path / "nb.ipynb"))
    assert again == output and len(calls) == 1  # after the steps, once for the writing too
    (tmp_path / "nb.ipynb").write_text(output.replace("*text*", "*changed*"), encoding="utf-8")
    exporter(NotebookValidatedOnce).from_filename(str(tmp_path / "nb.ipynb"))
    assert len(calls) == 3  # a changed file: nbformat.read's too


class AddsAProperty(Preprocessor):
    def preprocess(self, nb, resources):
        nb.cells[0]["extra"] = 1  # valid with other properties allowed, as the steps check; invalid for writing
        return nb, resources


def test_a_notebook_valid_only_with_other_properties_allowed_is_written_as_nbformat_writes_it(caplog):
    output, _ = exporter(NotebookValidatedOnce, AddsAProperty).from_notebook_node(notebook())
    nb = AddsAProperty().preprocess(notebook(), {})[0]
    nb.cells[0].id, nb.cells[1].id = validated_once.reads(output).cells[0].id, validated_once.reads(output).cells[1].id
    assert output == nbformat.writes(nb) + "\n"
    assert "Notebook JSON is invalid" in caplog.text  # nbformat.writes' own complaint
    assert validated_once._digest(output) not in validated_once._known_valid


def test_a_notebook_handed_over_is_copied_shallowly_once_and_exports_the_same():
    nb, theirs = notebook(), notebook()
    copied = copy.deepcopy(validated_once.handed_over(nb))
    assert type(copied) is nbformat.NotebookNode and copied.cells is nb.cells and copied == nb
    assert copy.deepcopy(copied).cells is not nb.cells  # the copy is an ordinary notebook
    ours, _ = exporter(NotebookValidatedOnce, Records).from_notebook_node(validated_once.handed_over(nb))
    stock, _ = exporter(NotebookExporter, Records).from_notebook_node(theirs)
    assert ours.replace(nb.cells[0].id, "").replace(nb.cells[1].id, "") == \
        stock.replace(theirs.cells[0].id, "").replace(theirs.cells[1].id, "")


def test_writes_gives_jsons_bytes_for_every_value_json_encodes_and_leaves_the_rest_to_json():
    deep = []
    for _ in range(700):  # past the recursion limit of the writer's own walk, not of json's encoder
        deep = [deep, {"k": 0.5}]
    odd = {"floats": [float("nan"), float("inf"), -float("inf"), -0.0, 1e300, 0.1], "ints": [2**70, -1, True, False],
           "none": None, "empty": [[], {}, ()], "tuple": (1, "a"), "text": "é \u2028 \x00 \" \\ \n 😀",
           "nested": {"b": {"z": 1, "a": [{"y": None}]}}}
    for extra in ({"odd": odd}, {"bytes": b"aGk="}, {"keys": {2: "int key", 1.5: "float key"}}, {"deep": deep}):
        nb = notebook()
        nb.metadata.update(extra)
        if "deep" not in extra:
            assert validated_once.writes(copy.deepcopy(nb)) == nbformat.writes(nb) + "\n"
        else:  # too deep for deepcopy: the same notebook, written both ways
            assert validated_once.writes(nb) == json.dumps(nb, cls=BytesEncoder, indent=1, sort_keys=True,
                                                           separators=(",", ": "), ensure_ascii=False) + "\n"
    with pytest.raises(RecursionError):
        validated_once._json(deep, "\n")
    with pytest.raises(_NotPlain):
        validated_once._json({"b": b"x"}, "\n")


def test_reading_gives_nbformats_notebook_or_nbformats_error():
    v4 = nbformat.writes(notebook())
    v3 = nbformat.writes(nbformat.v3.new_notebook(), version=3)
    for text in (v4, v3, v4.replace('"nbformat": 4', '"nbformat": 4.0'), (ROOT / "exercises" / "sheet03" /
                                                                            "b_rosenbrock_graph.ipynb").read_text()):
        ours, theirs = validated_once._parsed(text), nbformat.reader.reads(text)
        assert ours == theirs and type(ours) is type(theirs)
        assert [type(cell) for cell in ours.get("cells", [])] == [type(cell) for cell in theirs.get("cells", [])]
    for broken in ("[1, 2]", "{", '{"nbformat": 4}', '{"nbformat": 7}', '{"nbformat": 4, "cells": 3}'):
        with pytest.raises(Exception) as ours:
            validated_once._parsed(broken)
        with pytest.raises(Exception) as theirs:
            nbformat.reader.reads(broken)
        assert (type(ours.value), str(ours.value)) == (type(theirs.value), str(theirs.value))
