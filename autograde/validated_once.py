"""nbconvert's exporters, copying the notebook once and validating it after the last step instead of after each.

Exporter.from_notebook_node copies the notebook, then ``_preprocess`` copies it again and
``normalize`` a third time, and the whole notebook is validated after every step: with
eight steps to sanitize, ten to autograde and three for the feedback, that is a fifth of
the grading process's CPU time per submission. Here the steps work on the one copy
from_notebook_node made (the caller's notebook stays as it was), and the notebook is
validated once, after the last step; an invalid one still stops the run, before anything
is written. ``normalize`` only repaired missing or duplicate cell ids, which nbformat's
reading (every notebook here is read by nbformat.read or reads) has already repaired in place.
Points are read only from a valid notebook: steps.CheckNotebookValid runs before SaveAutoGrades.

A grading run writes every notebook and reads it back for the next pass (the submission as the
intake left it, the sanitized one, the autograded one for the feedback), and nbformat validated
each one again as it read it. A text nbformat itself wrote from a notebook that had just passed its
validation (``writes``) is remembered by its exact content; reading it back gives that same notebook
(nbformat's writer and reader are each other's inverse: lines split and joined, transient fields
dropped both ways), so its validation could only repeat the verdict and is skipped. Anything else
(a changed byte, any file this process did not write) is validated as before.

Reading and writing give nbformat's notebooks and nbformat's bytes, with less work: ``_parsed`` makes the
dicts NotebookNodes as json's parser builds them (nbformat's ``from_dict`` walks every value of the parsed
notebook again, in Python), and ``_json`` writes json.dumps's indented text by one call per container
(json's pure-Python encoder, which ``indent`` needs, resumes a generator per value); anything either does
not cover (another nbformat version, a broken file, bytes, keys that are no strings, a cycle, nesting past
the recursion limit) goes to nbformat and json themselves.
"""
from __future__ import annotations

import copy
import hashlib
import json
import math
from json.encoder import encode_basestring as _encode_str  # json.dumps's with ensure_ascii=False (C)

import nbformat
from nbconvert.exporters import Exporter, NotebookExporter
from nbformat.reader import parse_json
from nbformat.v4.nbjson import BytesEncoder
from nbformat.v4.rwbase import rejoin_lines, split_lines, strip_transient
from traitlets.log import get_logger


class ValidatedOnce(Exporter):
    def from_file(self, file_stream, resources=None, **kw):
        """Exporter's: nbformat.read, without validating a text this process wrote as a valid notebook."""
        return self.from_notebook_node(handed_over(reads(file_stream.read())), resources=resources, **kw)

    def _preprocess(self, nb, resources):
        resources = copy.deepcopy(resources)  # as nbconvert's: a step's additions never reach the caller's
        for step in self._preprocessors:
            nb, resources = step(nb, resources)
        # kept for NotebookValidatedOnce, which writes this notebook next: writing it would validate it again
        self._valid_for_writing = valid_or_stop(
            nb, self.log, f"after the steps {[type(s).__name__ for s in self._preprocessors]}")
        return nb, resources


def valid_or_stop(nb, log, when: str) -> bool:
    """Raise nbformat's ValidationError, logged with ``when``, if ``nb`` is not a valid notebook (other properties
    allowed); return whether it is valid without them too, as nbformat.writes checks. One validation when it is:
    the strict schema is the relaxed one with "no other properties" added."""
    try:
        nbformat.validate(nb)
        return True
    except nbformat.ValidationError:
        pass
    try:
        nbformat.validate(nb, relax_add_props=True)
    except nbformat.ValidationError:
        log.error("Notebook is invalid %s", when)
        raise
    return False


class NotebookValidatedOnce(ValidatedOnce, NotebookExporter):
    """The exporter of `nbgrader autograde`'s two passes (sanitizing, then grading)."""

    def from_notebook_node(self, nb, resources=None, **kw):
        """NotebookExporter's, its text remembered as valid if it is (``writes``)."""
        if self.nbformat_version != nb.nbformat:  # converted on the way out: nbconvert's own
            return super().from_notebook_node(nb, resources, **kw)
        nb_copy, resources = Exporter.from_notebook_node(self, nb, resources, **kw)
        resources["output_suffix"] = ".nbconvert"
        return writes(nb_copy, valid=self._valid_for_writing), resources  # nothing changed it after the steps


class _HandedOver(nbformat.NotebookNode):
    def __deepcopy__(self, memo):
        return nbformat.NotebookNode(self)


def handed_over(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """``nb``, just read and held by no one else, for Exporter.from_notebook_node: that deep-copies the notebook it
    is given, so that the caller's stays as it was; this one's copy is shallow, sharing its cells (the reader
    drops it)."""
    return _HandedOver(nb)


_known_valid: set[bytes] = set()  # sha256 of texts written by ``writes`` from a valid notebook
_KNOWN_AT_MOST = 4096  # a long-lived worker forgets them all then: a few dozen a submission


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


def writes(nb, valid: bool = False) -> str:
    """The text nbformat.write puts in a file for the version 4 notebook ``nb`` (nbformat.writes and a final
    newline), validated first as nbformat.writes does, logging what is wrong; remembered when it was valid.
    ``valid``: the caller has just validated ``nb`` as nbformat.writes does, and it passed.

    ``nb`` is used up: nbformat's writer deep-copies the notebook before it splits the lines and drops the
    transient fields, this does both in place (its callers write a notebook nothing reads afterwards)."""
    valid = valid or _logged_valid(nb)
    nb = strip_transient(split_lines(nb))
    try:
        text = _json(nb, "\n")
    except (_NotPlain, RecursionError):
        text = json.dumps(nb, cls=BytesEncoder, indent=1, sort_keys=True, separators=(",", ": "),
                          ensure_ascii=False)  # nbformat.v4.nbjson's writer
    text += "\n"
    if valid:
        if len(_known_valid) >= _KNOWN_AT_MOST:
            _known_valid.clear()
        _known_valid.add(_digest(text))
    return text


def _logged_valid(nb) -> bool:
    """Whether ``nb`` is a valid notebook; what is wrong logged as nbformat's reads and writes log it."""
    try:
        nbformat.validate(nb)
        return True
    except nbformat.ValidationError as e:
        get_logger().error("Notebook JSON is invalid: %s", e)
        return False


class _NotPlain(Exception):
    """A value json.dumps encodes by a rule ``_json`` does not repeat."""




def _json(value, indent: str) -> str:
    """json.dumps(value, indent=1, sort_keys=True, separators=(",", ": "), ensure_ascii=False), for strings, numbers,
    True, False, None, lists, tuples and dicts with string keys; ``indent`` is a newline and the current
    indentation. Raises _NotPlain for anything else, RecursionError for a cycle or a deep nesting."""
    if isinstance(value, str):  # the order of json's encoder: a str subclass is a string, a bool no int
        return _encode_str(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        return _float(value)
    inner = indent + " "
    if isinstance(value, (list, tuple)):
        if not value:
            return "[]"
        return "[" + inner + ("," + inner).join([_json(item, inner) for item in value]) + indent + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        if not all(type(key) is str for key in value):
            raise _NotPlain
        return "{" + inner + ("," + inner).join([_encode_str(key) + ": " + _json(item, inner)
                                                 for key, item in sorted(value.items())]) + indent + "}"
    raise _NotPlain


def _float(value: float) -> str:
    """json's text of a float (allow_nan)."""
    if value != value:
        return "NaN"
    if value == math.inf:
        return "Infinity"
    if value == -math.inf:
        return "-Infinity"
    return float.__repr__(value)


def _parsed(text: str) -> nbformat.NotebookNode:
    """nbformat.reader.reads(text), the dicts made NotebookNodes as they are parsed; anything but a version 4
    notebook read as nbformat reads it (its errors are nbformat's)."""
    try:
        nb = parse_json(text, object_hook=nbformat.NotebookNode)
        version = nb.get("nbformat", 1)
        if type(version) is int and version == 4:
            return strip_transient(rejoin_lines(nb))  # nbformat.v4's to_notebook after its from_dict
    except Exception:  # noqa: BLE001  (nbformat's reading below raises what it raises)
        pass
    return nbformat.reader.reads(text)


def reads(text: str) -> nbformat.NotebookNode:
    """nbformat.reads(text, as_version=4) (which logs what is wrong with an invalid notebook), not validating a
    text ``writes`` made from a valid notebook."""
    nb = nbformat.convert(_parsed(text), 4)
    if _digest(text) not in _known_valid:
        _logged_valid(nb)
    return nb


def reads_valid(text: str) -> nbformat.NotebookNode:
    """nbformat.reads(text, as_version=4), raising nbformat's errors, a ValidationError too (which nbformat.reads
    only logs). Validated once: nbformat.reads and then nbformat.validate checked the same notebook twice."""
    nb = nbformat.convert(_parsed(text), 4)
    if _digest(text) not in _known_valid:
        nbformat.validate(nb)
    return nb
