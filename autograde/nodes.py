"""Cells and outputs the grader builds from its own data, without nbformat's check of each new node.

nbformat.v4's ``new_output`` and ``new_code_cell`` validate every node they build against
a part of the schema, on jsonschema's slow path (milliseconds each, dozens per submission).
The nodes built here are the grader's own (verdicts, notes, cells as handed out), and the
whole notebook is still validated before its points are saved and after the last step
(steps/check_notebook_valid.py, validated_once.py), so a node built wrong stops the grading.
Outputs a kernel sends are still built and checked by nbformat (nbclient's output_from_msg).
"""
from __future__ import annotations

from nbformat import from_dict
from nbformat.corpus.words import generate_corpus_id

_OUTPUT_DEFAULTS = {"display_data": {"metadata": {}, "data": {}},
                    "execute_result": {"metadata": {}, "data": {}, "execution_count": None}}


def new_output(output_type: str, **fields):
    """As nbformat.v4.new_output with every field but the defaults given (``name`` and ``text`` of a stream,
    ``ename``, ``evalue`` and ``traceback`` of an error)."""
    return from_dict({"output_type": output_type, **_OUTPUT_DEFAULTS.get(output_type, {}), **fields})


def new_cell(cell_type: str, source: str, **fields):
    """As nbformat.v4's new_code_cell or new_markdown_cell."""
    code = {"execution_count": None, "outputs": []} if cell_type == "code" else {}
    return from_dict({"id": generate_corpus_id(), "cell_type": cell_type, "metadata": {}, "source": source,
                      **code, **fields})
