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
"""
from __future__ import annotations

import copy

import nbformat
from nbconvert.exporters import Exporter, NotebookExporter


class ValidatedOnce(Exporter):
    def _preprocess(self, nb, resources):
        resources = copy.deepcopy(resources)  # as nbconvert's: a step's additions never reach the caller's
        for step in self._preprocessors:
            nb, resources = step(nb, resources)
        valid_or_stop(nb, self.log, f"after the steps {[type(s).__name__ for s in self._preprocessors]}")
        return nb, resources


def valid_or_stop(nb, log, when: str) -> None:
    """Raise nbformat's ValidationError, logged with ``when``, if ``nb`` is not a valid notebook."""
    try:
        nbformat.validate(nb, relax_add_props=True)
    except nbformat.ValidationError:
        log.error("Notebook is invalid %s", when)
        raise


class NotebookValidatedOnce(ValidatedOnce, NotebookExporter):
    """The exporter of `nbgrader autograde`'s two passes (sanitizing, then grading)."""
