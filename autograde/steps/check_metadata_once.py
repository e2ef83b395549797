"""nbgrader's CheckCellMetadata, each distinct cell metadata checked against the schema once per process.

nbgrader checks every cell's ``metadata["nbgrader"]`` with ``jsonschema.validate``, which first
checks nbgrader's schema itself against JSON Schema's meta-schema: most of the grading process's
time in this step, twice per notebook. Nearly all of that metadata is the release's own
(OverwriteCells put it back), the same in every submission. So the schema part of nbgrader's cell
check (BaseMetadataValidator.validate_cell: version and schema) remembers what passed, keyed by
the metadata's exact content (its JSON, keys sorted: ``true`` and ``1`` differ); everything else
is nbgrader's, every time. A notebook that fails is checked again by nbgrader's own step, so it
fails with nbgrader's log and error.
"""
from __future__ import annotations

import json

from nbgrader.nbgraderformat import MetadataValidator, ValidationError
from nbgrader.nbgraderformat.common import BaseMetadataValidator
from nbgrader.preprocessors import CheckCellMetadata

KEPT = 10_000  # distinct metadata remembered; a submission's own cells cannot grow it past this


class _SchemaOnce(BaseMetadataValidator):
    passed: set[str] = set()

    def validate_cell(self, cell) -> None:
        try:
            key = json.dumps([self.schema_version, cell.metadata["nbgrader"]], sort_keys=True)
        except (KeyError, TypeError, ValueError):
            key = None  # no nbgrader metadata (nothing to check), or none that JSON could hold
        if key is not None and key in self.passed:
            return
        super().validate_cell(cell)
        if key is not None and len(self.passed) < KEPT:
            self.passed.add(key)


class _Validator(MetadataValidator, _SchemaOnce):
    """nbgrader's validator (v3), whose call to its base's validate_cell lands in _SchemaOnce."""


class CheckMetadataOnce(CheckCellMetadata):
    def preprocess(self, nb, resources):
        try:
            _Validator().validate_nb(nb)
        except ValidationError:
            return super().preprocess(nb, resources)
        return nb, resources
