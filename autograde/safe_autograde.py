"""nbgrader's Autograde, reading a submission only through autograde/submission_files.py.

Stock Autograde copies every other file of a submission folder into the autograded
folder (``shutil.copy`` follows links, as root), from where it reaches the kernel's
home and, with ``generate_feedback``, the student's feedback folder; and it reads each
notebook by its path, following a link. Here, on every path that runs Autograde
(``nbgrader autograde``, the formgrader, the batch's jobs):

* before anything is copied, the submission folder is scanned; only the notebooks
  the scan read are used, and no other file of the submission is copied anywhere;
* a notebook the scan refused (a link, a special file, over the size limit), that
  cannot be parsed or that has more cells than allowed is graded as handed out;
* a grading note says what was left out and why;
* ``timestamp.txt`` is read without following a link, and a bad one is ignored
  (stock nbgrader stops the whole run on it).

``_ScannedSubmission`` sits between Autograde and BaseConverter in the method order,
so that Autograde's own calls to BaseConverter (copying the folder's other files,
converting one notebook) land here. nbgrader builds Autograde by name in its app and
in its API; nbgrader_config.py calls ``install()``, which points both names here.
"""
from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

import nbformat
from nbgrader.apps import api, autogradeapp
from nbgrader.converters import Autograde, BaseConverter

from . import judge
from .batch.intake import parse_notebook, unread_note
from .language import _
from .notes import add_note
from .submission_files import TIMESTAMP, Refused, SubmissionLimits, dropped_notes, read_timestamp, scan
from .validated_once import handed_over


class _ScannedSubmission(BaseConverter):
    def __init__(self, coursedir=None, **kwargs):
        super().__init__(coursedir=coursedir, **kwargs)
        # nbgrader reads a submission's timestamp.txt by its path (a link, a FIFO) and stops on a bad date
        self.coursedir.get_existing_timestamp = read_timestamp

    def init_assignment(self, assignment_id: str, student_id: str) -> None:
        """In place of BaseConverter's copy of the folder's other files: the scan, and no copy."""
        self.limits = SubmissionLimits(parent=self)
        self.release_folder = Path(self.coursedir.format_path(self.coursedir.release_directory, ".", assignment_id))
        self.scanned = scan(Path(self._format_source(assignment_id, student_id)), self.limits,
                            {path.name for path in self.release_folder.glob("*.ipynb")})
        if TIMESTAMP in self.scanned.files:  # nbgrader compares it with the submission's to decide a re-run
            dest = Path(self._format_dest(assignment_id, student_id))
            dest.mkdir(parents=True, exist_ok=True)
            (dest / TIMESTAMP).write_bytes(self.scanned.files[TIMESTAMP])

    def convert_single_notebook(self, notebook_filename: str) -> None:
        if not self._sanitizing:  # the autograded copy, which nbgrader itself has just written
            return super().convert_single_notebook(notebook_filename)
        resources = self.init_single_notebook_resources(notebook_filename)
        resources["metadata"] = {"name": Path(notebook_filename).stem, "path": os.path.dirname(notebook_filename)}
        nb = handed_over(self._submitted(notebook_filename))
        output, resources = self.exporter.from_notebook_node(nb, resources)
        self.write_single_notebook(output, resources)

    def _submitted(self, notebook_filename: str) -> nbformat.NotebookNode:
        """The notebook as scanned, or the release with the reason; the first one also carries the notes
        on what else the folder held."""
        name = os.path.basename(notebook_filename)
        notes = []
        try:
            why = self.scanned.dropped.get(".") or self.scanned.dropped.get(name)
            if why or name not in self.scanned.files:
                raise Refused(why or _("it appeared after the folder was read"))
            nb, notes = parse_notebook(self.scanned.files[name], self.limits)
        except Refused as e:
            nb = nbformat.read(self.release_folder / name, as_version=4)
            notes.append(unread_note(str(e)))
        if notebook_filename == self.notebooks[0]:
            notes += dropped_notes({n: why for n, why in self.scanned.dropped.items()
                                    if n != "." and n not in map(os.path.basename, self.notebooks)})
        for note in notes:
            add_note(nb, note)
        return nb


class SafeAutograde(Autograde, _ScannedSubmission):
    """Autograde that follows nothing a submission brings (see the module's docstring)."""

    def convert_notebooks(self) -> None:
        with judge.keep_one(), _records_only_as_shown(self.log):  # one judge for the run's notebooks (judge.py)
            super().convert_notebooks()


@contextlib.contextmanager
def _records_only_as_shown(log: logging.Logger):
    """Inside, ``log`` makes no record its handlers would drop. traitlets sets an app's logger to DEBUG and its
    handler to the log level, so nbclient's debug line for every message a kernel sends (7,000 records for the
    demo's 18 students) was made, then dropped. A logger that passes records on to others is left as it is."""
    previous, shown = log.level, min((handler.level for handler in log.handlers), default=logging.NOTSET)
    if not log.propagate and shown > previous:
        log.setLevel(shown)
    try:
        yield
    finally:
        log.setLevel(previous)


def install() -> None:
    """Make ``nbgrader autograde`` and NbGraderAPI.autograde (the formgrader, the batch) use SafeAutograde."""
    autogradeapp.Autograde = api.Autograde = SafeAutograde
